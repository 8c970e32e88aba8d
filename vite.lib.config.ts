// Library build: dist/index.js, one ES module with the WGSL inlined, importable from a Vite
// web app and from Node 20 (which then needs Dawn's `webgpu` package for the device).
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
    lib: { entry: resolve(root, 'src/index.ts'), formats: ['es'], fileName: () => 'index.js' },
    rollupOptions: { external: ['webgpu'] },
  },
});
