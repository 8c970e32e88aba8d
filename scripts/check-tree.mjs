// The tree's size budget and layering, checked in CI (npm run check; plain Node, no build):
//   - no file under src/ or shaders/ is longer than 400 lines;
//   - no import cycle among the TypeScript modules of src/ and demo/ (type-only imports count:
//     a cycle of types is still two files that cannot be read apart);
//   - prints the line count of every folder of src/ and shaders/, and the totals.
// Exit 1 on a violation, with the file(s) named.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const MAX_LINES = 400;

function walk(dir, re, out = []) {
  for (const f of readdirSync(dir)) {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) walk(p, re, out);
    else if (re.test(f)) out.push(p);
  }
  return out;
}

const lines = (p) => readFileSync(p, 'utf8').split('\n').length - (readFileSync(p, 'utf8').endsWith('\n') ? 1 : 0);
let failed = false;

// ---- size ----
const byFolder = new Map();
const totals = {};
for (const top of ['src', 'shaders']) {
  totals[top] = 0;
  for (const p of walk(join(root, top), /\.(ts|wgsl)$/)) {
    const n = lines(p);
    const rel = relative(root, p);
    totals[top] += n;
    const folder = dirname(rel);
    byFolder.set(folder, (byFolder.get(folder) ?? 0) + n);
    if (n > MAX_LINES) {
      console.error(`check-tree: ${rel} has ${n} lines (budget ${MAX_LINES}): split it by responsibility`);
      failed = true;
    }
  }
}
for (const [folder, n] of [...byFolder].sort()) console.log(`${String(n).padStart(6)}  ${folder}/`);
console.log(`${String(totals.src).padStart(6)}  src/ in all\n${String(totals.shaders).padStart(6)}  shaders/ in all`);

// ---- import cycles ----
const files = [...walk(join(root, 'src'), /\.ts$/), ...walk(join(root, 'demo'), /\.ts$/)];
const graph = new Map();
const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"](\.{1,2}\/[^'"]+)\.js['"]/g;
for (const f of files) {
  const deps = [];
  for (const m of readFileSync(f, 'utf8').matchAll(IMPORT)) deps.push(resolve(dirname(f), `${m[1]}.ts`));
  graph.set(f, deps.filter((d) => d !== f));
}
const state = new Map(); // 1: on the stack, 2: done
const stack = [];
const cycles = [];
function visit(f) {
  state.set(f, 1);
  stack.push(f);
  for (const d of graph.get(f) ?? []) {
    if (!graph.has(d)) continue;
    if (state.get(d) === 1) cycles.push([...stack.slice(stack.indexOf(d)), d].map((p) => relative(root, p)));
    else if (!state.has(d)) visit(d);
  }
  stack.pop();
  state.set(f, 2);
}
for (const f of files) if (!state.has(f)) visit(f);
for (const c of cycles) console.error(`check-tree: import cycle: ${c.join(' -> ')}`);
if (cycles.length) failed = true;
console.log(`${files.length} modules in src/ and demo/, ${cycles.length} import cycles`);
process.exit(failed ? 1 : 0);
