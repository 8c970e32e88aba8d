// Library build: dist/index.js (the main entry) and dist/kernels.js ('webgpu-cnn/kernels'), ES
// modules sharing one chunk with the engine, WGSL inlined, importable from a Vite web app and
// from Node 20 (which then needs Dawn's `webgpu` package for the device).
import { defineConfig } from 'vite';
import { resolve } from 'node:path';

const root = new URL('.', import.meta.url).pathname;

export default defineConfig({
  root,
  logLevel: 'warn',
  resolve: {
    alias: { wgsl_reflect: resolve(root, 'node_modules/wgsl_reflect/wgsl_reflect.module.js') },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: false,
    target: 'es2022',
    minify: false,
    sourcemap: true,
    lib: {
      entry: { index: resolve(root, 'src/index.ts'), kernels: resolve(root, 'src/kernels.ts') },
      formats: ['es'],
      fileName: (_format, name) => `${name}.js`,
    },
    rollupOptions: { external: ['webgpu'], output: { chunkFileNames: 'chunk-[hash].js' } },
  },
});
