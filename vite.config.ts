// One Vite config: the dev server (demo at /demo/, its pictures page at /demo/pictures/, benchmark page at /bench/, browser test
// page at /test/browser/), the static demo build. The datasets are served and copied as
// static assets by vite.data.ts.
import { defineConfig } from 'vite';
import { resolve } from 'node:path';
import { datasetAssets } from './vite.data.js';

const root = new URL('.', import.meta.url).pathname;

export default defineConfig({
  root,
  base: './',
  plugins: [datasetAssets(root)],
  resolve: {
    // wgsl_reflect's "main" is a CommonJS file inside a "type": "module" package, which Node
    // refuses; its ES module build works everywhere.
    alias: { wgsl_reflect: resolve(root, 'node_modules/wgsl_reflect/wgsl_reflect.module.js') },
  },
  build: {
    outDir: 'dist-demo',
    emptyOutDir: true,
    target: 'es2022',
    rollupOptions: {
      input: {
        index: resolve(root, 'index.html'),
        demo: resolve(root, 'demo/index.html'),
        pictures: resolve(root, 'demo/pictures/index.html'),
        bench: resolve(root, 'bench/index.html'),
      },
    },
  },
  server: { host: '127.0.0.1' },
});
