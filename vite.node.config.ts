// Node build: bundles the Node entry points (test runners, CLIs, benchmarks) into dist-node/
// with the WGSL inlined, so Node runs plain .mjs files.
//
// Why not run TypeScript through Vite inside the Node process (vite-node, Vitest): a process
// that has loaded Rollup/Rolldown's native binding crashes inside Dawn/SwiftShader (futex and
// std::system_error aborts) as soon as the main thread stays busy while the GPU works. Keeping
// Vite out of every process that loads Dawn avoids that entirely.
import { defineConfig } from 'vite';
import { resolve } from 'node:path';
import { readdirSync, existsSync } from 'node:fs';

const root = new URL('.', import.meta.url).pathname;

function entries(dir: string, re: RegExp, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  if (!existsSync(resolve(root, dir))) return out;
  for (const f of readdirSync(resolve(root, dir)))
    if (re.test(f)) out[prefix + f.replace(/\.ts$/, '')] = resolve(root, dir, f);
  return out;
}

export default defineConfig({
  root,
  logLevel: 'warn',
  resolve: {
    alias: { wgsl_reflect: resolve(root, 'node_modules/wgsl_reflect/wgsl_reflect.module.js') },
  },
  ssr: { noExternal: true, external: ['webgpu', 'playwright-core', 'vite'] },
  build: {
    ssr: true,
    // NODE_BUILD_DIR lets parallel builds (several worktrees, bench beside tests) not clobber each other.
    outDir: process.env.NODE_BUILD_DIR ?? 'dist-node',
    emptyOutDir: true,
    target: 'node20',
    minify: false,
    sourcemap: true,
    rollupOptions: {
      input: {
        ...entries('test/node', /\.test\.ts$/),
        ...entries('test/browser', /\.test\.ts$/),
        ...entries('test/e2e', /\.test\.ts$/),
        ...entries('scripts', /\.ts$/),
      },
      external: ['webgpu', 'playwright-core', 'vite', /^node:/],
      output: { format: 'es', entryFileNames: '[name].mjs', chunkFileNames: 'chunks/[name]-[hash].mjs' },
    },
  },
});
