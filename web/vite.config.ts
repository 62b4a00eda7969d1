/**
 * Builds the reference web client into web/dist, which the server serves at `/`
 * (src/web/web-client.module.ts). `npx vite --config web/vite.config.ts` runs a dev server
 * on :3000 (the server's default CORS origin) proxying Socket.IO to PARLEY_SERVER
 * (default http://localhost:3001).
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: './',
  logLevel: 'warn',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    reportCompressedSize: false,
  },
  server: {
    port: 3000,
    proxy: {
      '/socket.io': { target: process.env.PARLEY_SERVER ?? 'http://localhost:3001', ws: true },
    },
  },
});
