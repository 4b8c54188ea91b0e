import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The renderer is plain web code: it builds with Vite and is served by the review server or the dmlr://
// protocol, so its asset paths are relative.
export default defineConfig({
  root: 'src-renderer',
  base: './',
  plugins: [react()],
  build: {
    outDir: '../dist/renderer',
    emptyOutDir: true,
    sourcemap: true,
    target: 'chrome120',
    chunkSizeWarningLimit: 1500,
  },
});
