import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { build, defineConfig, type Plugin } from 'vite';

/**
 * One `vite build --config dashboard/vite.config.ts` builds the dashboard into dist/dashboard/
 * and then, from `closeBundle`, the browser SDK as a single ES module at
 * dist/dashboard/sdk/parley.js (a library build cannot share the app build's options, so it is
 * a second build; the app itself imports the SDK from browser-sdk/src).
 *
 * Dev: `npx vite --config dashboard/vite.config.ts` proxies /v1 (REST, SSE, WebSocket) to
 * PARLEY_API (default http://127.0.0.1:3000).
 */
const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const outDir = here('../dist/dashboard');

function sdkLibrary(): Plugin {
  return {
    name: 'parley-sdk-library',
    apply: 'build',
    async closeBundle() {
      await build({
        configFile: false,
        logLevel: 'warn',
        build: {
          outDir: `${outDir}/sdk`,
          emptyOutDir: true,
          sourcemap: true,
          target: 'es2022',
          lib: {
            entry: here('../browser-sdk/src/index.ts'),
            formats: ['es'],
            fileName: () => 'parley.js',
          },
        },
      });
    },
  };
}

const api = process.env.PARLEY_API ?? 'http://127.0.0.1:3000';

export default defineConfig({
  root: here('.'),
  base: '/',
  plugins: [react(), sdkLibrary()],
  build: {
    outDir,
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 1500,
  },
  server: {
    proxy: {
      '/v1': { target: api, changeOrigin: true, ws: true },
      '/recordings': { target: api, changeOrigin: true },
    },
  },
});
