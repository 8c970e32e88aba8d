// The benchmark CLI end to end, in Node on Dawn (SwiftShader here): `dist-node/bench.mjs` on a
// small case that has both peers, with --json. Checks the exit status, that ours, tfjs and
// jax-js were each validated against the float64 reference before they were timed, and that
// the jax/ours ratio compares wall clock with wall clock (jax-js runs on a GPUDevice of its
// own, so timestamps on ours cannot see its work).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Report } from '../../bench/types.js';
import { hangLimit } from '../harness/hang.js';

const CLI = fileURLToPath(new URL('./bench.mjs', import.meta.url));

describe('benchmark CLI (dist-node/bench.mjs)', () => {
  it('runs a case with both peers, validated, with a tfjs and a jax-js ratio', {
    timeout: hangLimit(180_000) + 30_000,
  }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-cli-'));
    try {
      const out = join(dir, 'report.json');
      const r = spawnSync(
        process.execPath,
        [CLI, '--filter', 'matmul/op/64x128x10', '--iters', '3', '--budget', '300', '--json', out],
        {
          encoding: 'utf8',
          timeout: hangLimit(180_000), // hang detector (test/harness/hang.ts)
        },
      );
      assert.equal(r.status, 0, `exit ${r.status} ${r.signal ?? ''}\n${r.stdout}\n${r.stderr}`);
      assert.match(r.stdout, /jax\/ours/, 'the table has the jax/ours column');
      const rep = JSON.parse(readFileSync(out, 'utf8')) as Report;
      assert.equal(rep.runtime, 'node');
      assert.ok(rep.jax && 'version' in rep.jax, `jax-js did not start: ${JSON.stringify(rep.jax)}`);
      assert.equal(rep.results.length, 1);
      const c = rep.results[0];
      for (const [side, x] of [
        ['ours', c.ours],
        ['tfjs', c.peer],
        ['jax-js', c.jax],
      ] as const) {
        assert.ok(x, `no ${side} result`);
        assert.equal(x.status, 'ok', `${side}: ${x.status} ${x.error ?? JSON.stringify(x.check)}`);
        assert.ok(x.check?.ok && x.check.compared === x.check.size, `${side}: not validated in full`);
        assert.ok(x.timing && x.timing.ms > 0 && x.timing.samples.length >= 3, `${side}: no timing`);
      }
      assert.ok(c.ratio && c.ratio > 0, 'tfjs/ours ratio');
      assert.equal(c.jax!.timing!.method, 'wall');
      const oursWall = c.ours.timing!.method === 'wall' ? c.ours.timing! : c.oursWall;
      assert.ok(
        oursWall && oursWall.method === 'wall' && oursWall.ms > 0,
        'ours timed by the wall clock for the jax ratio',
      );
      assert.ok(
        c.jaxRatio && Math.abs(c.jaxRatio - c.jax!.timing!.ms / oursWall.ms) <= 1e-9 * c.jaxRatio,
        'jax/ours = jax wall / ours wall',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
