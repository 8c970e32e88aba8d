// Where the cold time of the first LeNet training step goes (bench/cold.ts), in Node (Dawn) or
// in headless Chromium (bench/cold.html), each measurement in a fresh process or browser so
// that no compile cache is warm:
//   isolated  the step's pipelines compiled one at a time on a fresh device (module and
//             pipeline time each), then all at once on another fresh device
//   sync      the first step as it runs without prepare(): compiles on cache misses, in order
//   prepare   await step.prepare() (concurrent async compiles), then the first step
//   tiered    what a user gets by default: the first step on the quick kernels at once, the
//             fast ones compiled in the background, then the switch (steady = after it)
// With --peers the 'sync' and 'prepare' runs also time jax-js's and tfjs's first step, after
// ours, in the same process or page.
//   node dist-node/cold-start.mjs [--browser] [--batch 64] [--what isolated,sync,prepare] [--peers] [--json out.json]
// Node needs VK_ICD_FILENAMES for SwiftShader (set by default, as for the tests).
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadavg } from 'node:os';

const argv = process.argv.slice(2);
const arg = (name: string, def?: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : def;
};
const flag = (name: string) => argv.includes(`--${name}`);
const B = Number(arg('batch', '64'));
const whats = (arg('what', 'isolated,tiered,sync,prepare') ?? '').split(',').filter(Boolean);
const peers = flag('peers');
// --kernel family=name (repeatable): setKernel before anything runs, e.g. --kernel matmul='register 4x4'
const kernelArgs = argv.flatMap((a, i) => (a === '--kernel' ? [argv[i + 1]] : []));

interface Result {
  who: string;
  [k: string]: unknown;
}

async function applyKernels(): Promise<void> {
  const { setKernel } = await import('../src/runtime/select.js');
  const { CONV2D } = await import('../src/ops/conv2d/choose.js');
  const { MATMUL } = await import('../src/ops/matmul/choose.js');
  const families = {
    'conv2d.forward': CONV2D.forward,
    'conv2d.inputGrad': CONV2D.inputGrad,
    'conv2d.weightGrad': CONV2D.weightGrad,
    matmul: MATMUL,
  } as const;
  for (const ka of kernelArgs) {
    const [fam, name] = [ka.slice(0, ka.indexOf('=')), ka.slice(ka.indexOf('=') + 1)];
    const f = families[fam as keyof typeof families];
    if (!f) throw new Error(`--kernel ${ka}: no family '${fam}' (${Object.keys(families).join(', ')})`);
    setKernel(f as Parameters<typeof setKernel>[0], name);
  }
}

async function child(what: string): Promise<Result[]> {
  const { initNodeGPU } = await import('../test/harness/node-gpu.js');
  const { engine } = await import('../src/runtime/engine.js');
  const { shaderInfo } = await import('../src/runtime/shaders.js');
  const cold = await import('../bench/cold.js');
  const t0 = performance.now();
  await initNodeGPU();
  const initMs = performance.now() - t0;
  await applyKernels();
  const out: Result[] = [];
  if (what === 'isolated') {
    const gpu = engine().keepAlive[0] as GPU;
    const specs = cold.lenetStepSpecs(B);
    out.push({
      who: 'isolated',
      ...(await cold.isolatedCompiles(
        await cold.freshDevice(gpu),
        await cold.freshDevice(gpu),
        specs,
        (s) => shaderInfo(s).code,
      )),
    });
  } else {
    const r = await cold.oursCold(B, what === 'sync' ? 'sync' : what === 'tiered' ? 'tiered' : 'prepare');
    r.initMs = initMs;
    out.push(r as unknown as Result);
    if (peers)
      for (const [name, f] of [
        ['jax-js', cold.jaxCold],
        ['tfjs', cold.tfjsCold],
      ] as const) {
        try {
          out.push((await f(B)) as unknown as Result);
        } catch (e) {
          out.push({ who: name, error: (e as Error).message });
        }
      }
  }
  return out;
}

async function inBrowser(what: string): Promise<Result[]> {
  const { launchChromium, startVite, watchPage } = await import('../test/harness/chromium.js');
  const v = await startVite();
  const browser = await launchChromium();
  const log: string[] = [];
  try {
    const page = await browser.newPage();
    watchPage(page, log);
    const results: Result[] = [];
    // --again: load the page a second time in the same browser (Chromium's GPU process may keep
    // compiled pipelines across pages: what a returning visitor gets)
    for (let visit = 0; visit < (flag('again') ? 2 : 1); visit++) {
      await page.goto(`${v.url}/bench/cold.html?what=${what}&batch=${B}${peers ? '&peers=1' : ''}`);
      // a manual measurement: no limit but a generous one (a page that never answers)
      await page.waitForFunction(
        () => (window as unknown as { __cold?: { done: boolean } }).__cold?.done === true,
        null,
        { timeout: 1_800_000, polling: 250 },
      );
      const r = await page.evaluate(
        () => (window as unknown as { __cold: { results: Result[]; error?: string } }).__cold,
      );
      if (r.error) throw new Error(`${r.error}\n${log.slice(-20).join('\n')}`);
      results.push(...r.results.map((x) => (visit ? { ...x, who: `${x.who} (page loaded again)` } : x)));
    }
    return results;
  } finally {
    await browser.close();
    await v.server.close();
  }
}

const f = (x: unknown) => (typeof x === 'number' ? x.toFixed(0).padStart(7) : '      -');

function print(where: string, what: string, rs: Result[]): void {
  console.log(
    `\n== ${where}, ${what}, batch ${B} (load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}) ==`,
  );
  for (const r of rs) {
    if (r.error) {
      console.log(`${r.who}: ERROR ${r.error}`);
      continue;
    }
    if (r.who === 'isolated') {
      const each = r.each as { key: string; moduleMs: number; pipelineMs: number; lines: number }[];
      console.log(
        `${each.length} pipelines, compiled one at a time: ${f(r.serialMs)} ms; all at once on a fresh device: ${f(r.concurrentMs)} ms`,
      );
      console.log(' module ms  pipeline ms  lines  pipeline');
      for (const c of [...each].sort((a, b) => b.pipelineMs - a.pipelineMs))
        console.log(`${f(c.moduleMs)}   ${f(c.pipelineMs)}    ${String(c.lines).padStart(5)}  ${c.key}`);
      continue;
    }
    console.log(
      `${r.who.padEnd(7)} ${r.mode ? `(${r.mode})` : ''}: cold ${f(r.coldMs)} ms = build ${f(r.buildMs)} + prepare ${f(r.prepareMs)} + first step ${f(r.firstMs)}` +
        `${r.recordMs !== undefined ? ` (of which recording ${f(r.recordMs)})` : ''}; steady ${f(r.steadyMs)} ms/step; init ${f(r.initMs)} ms` +
        (r.pipelines !== undefined ? `; ${r.pipelines} pipelines compiled` : ''),
    );
    if (r.mode === 'tiered')
      console.log(
        `         first step on ${r.firstKernels} kernels; quick steps ${f(r.quickMs)} ms; fast kernels ready ${f(r.fastReadyMs)} ms after build began (${r.quickSteps} steps run by then)`,
      );
    const cs = r.compiles as { key: string; how: string; ms: number; moduleMs: number }[] | undefined;
    if (cs?.length) {
      const sum = cs.reduce((s, c) => s + c.ms, 0),
        mod = cs.reduce((s, c) => s + c.moduleMs, 0);
      console.log(
        `         compiles (${cs[0].how}): sum ${sum.toFixed(0)} ms (shader modules ${mod.toFixed(0)} ms); slowest: ` +
          [...cs]
            .sort((a, b) => b.ms - a.ms)
            .slice(0, 4)
            .map((c) => `${c.key} ${c.ms.toFixed(0)}`)
            .join(', '),
      );
    }
  }
}

if (argv[0] === '--child') {
  const rs = await child(argv[1]);
  console.log(`@@COLD ${JSON.stringify(rs)}`);
  process.exit(0);
}

const all: Record<string, Result[]> = {};
const browser = flag('browser');
for (const what of whats) {
  let rs: Result[];
  if (browser) rs = await inBrowser(what);
  else {
    // one process per measurement: Dawn's and SwiftShader's caches live as long as the process
    const self = fileURLToPath(import.meta.url);
    const passOn = [...(peers ? ['--peers'] : []), '--batch', String(B), ...kernelArgs.flatMap((k) => ['--kernel', k])];
    const p = spawnSync(process.execPath, [self, '--child', what, ...passOn], {
      encoding: 'utf8',
      maxBuffer: 1 << 26,
      env: process.env,
    });
    const line = p.stdout.split('\n').find((l) => l.startsWith('@@COLD '));
    if (!line)
      throw new Error(
        `cold-start child '${what}' failed (exit ${p.status}):\n${p.stdout.slice(-3000)}\n${p.stderr.slice(-3000)}`,
      );
    rs = JSON.parse(line.slice(7));
  }
  all[what] = rs;
  print(browser ? 'Chromium' : 'Node', what, rs);
}
const json = arg('json');
if (json)
  writeFileSync(
    json,
    JSON.stringify(
      {
        where: browser ? 'chromium' : 'node',
        batch: B,
        loadavg: loadavg(),
        date: new Date().toISOString(),
        results: all,
      },
      null,
      1,
    ),
  );
process.exit(0);
