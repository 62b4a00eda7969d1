/**
 * Builds the reference web client into web/dist, which the server serves at `/`
 * (src/web/web-client.module.ts). `npx vite --config web/vite.config.ts` runs a dev server
 * on :3000 (the server's default CORS origin) proxying Socket.IO to PARLEY_SERVER
 * (default http://localhost:3001).
 *
 * The page is React: esbuild compiles the TSX with the automatic runtime, so no React
 * plugin is needed (no Fast Refresh; the dev server reloads the page instead).
 */
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

/** The page's JavaScript, gzipped, must stay under this: it is most people's first contact. */
const JS_BUDGET_BYTES = 150 * 1024;

/** Prints the gzipped size of the page's JavaScript after each build and fails one over budget. */
function jsSizeBudget(): Plugin {
  return {
    name: 'parley-js-size-budget',
    apply: 'build',
    generateBundle(_options, bundle) {
      let total = 0;
      for (const chunk of Object.values(bundle)) {
        if (chunk.type === 'chunk') total += gzipSync(chunk.code, { level: 9 }).length;
      }
      const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
      const line = `web client JavaScript: ${kb(total)} gzipped (budget ${kb(JS_BUDGET_BYTES)})`;
      if (total > JS_BUDGET_BYTES) this.error(`${line}: over budget`);
      // Printed whatever the log level: the number is the point of the budget.
      process.stdout.write(`${line}\n`);
    },
  };
}

function production(command: string, mode: string): boolean {
  return command === 'build' && mode === 'production';
}

export default defineConfig(({ command, mode }) => ({
  root,
  base: './',
  logLevel: 'warn',
  // The page the server serves is a production build even when the build runs with
  // NODE_ENV=test (the browser specs build it from Jest), which would otherwise bring in
  // React's development build, esbuild's jsxDEV and socket.io-client's debug logging (its
  // "development" export); `--mode development` still gets all three.
  esbuild: { jsx: 'automatic', jsxDev: !production(command, mode) },
  ...(production(command, mode) && {
    define: { 'process.env.NODE_ENV': JSON.stringify('production') },
    resolve: { conditions: ['module', 'browser', 'production'] },
  }),
  plugins: [jsSizeBudget()],
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
}));
