import { resolve } from 'node:path';
import { defineConfig } from 'vite';

// GraphiQL and the run pages, bundled at build time so the browser never fetches from a CDN.
export default defineConfig({
  root: resolve(import.meta.dirname),
  base: '/',
  build: {
    outDir: resolve(import.meta.dirname, '../dist/web'),
    emptyOutDir: true,
    chunkSizeWarningLimit: 8000,
    rollupOptions: {
      input: { index: resolve(import.meta.dirname, 'index.html'), runs: resolve(import.meta.dirname, 'runs.html') },
      // framer-motion's "use client" directives mean nothing outside React Server Components.
      onwarn(warning, warn) {
        if (warning.code !== 'MODULE_LEVEL_DIRECTIVE') warn(warning);
      },
    },
  },
  worker: { format: 'es' },
});
