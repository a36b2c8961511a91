import { fileURLToPath } from 'node:url';
import vue from '@vitejs/plugin-vue';
import { ElementPlusResolver } from 'unplugin-vue-components/resolvers';
import Components from 'unplugin-vue-components/vite';
import { defineConfig } from 'vite';

/**
 * The console is built into dist/ by `npm ci` (the root package's `prepare`) and served by xiaoer
 * itself (src/api/console.ts): no CDN, no inline script, so the CSP can say `script-src 'self'`.
 * `npm run console:dev` serves it with hot reload and proxies /api to a running xiaoer.
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  plugins: [
    vue(),
    // Element Plus on demand: each page brings the components (and their CSS) it uses, so the
    // login page does not parse the whole library (issue 12: the first page in under 1 s).
    // Our own components are imported by hand (`dirs: []`).
    Components({ dirs: [], dts: false, resolvers: [ElementPlusResolver({ importStyle: 'css' })] }),
  ],
  define: {
    __VUE_OPTIONS_API__: 'true',
    __VUE_PROD_DEVTOOLS__: 'false',
    __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: 'false',
    __VUE_I18N_FULL_INSTALL__: 'true',
    __VUE_I18N_LEGACY_API__: 'false',
    __INTLIFY_PROD_DEVTOOLS__: 'false',
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // The module-preload polyfill would be an inline script; every browser the bureau uses has it.
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 1500,
    reportCompressedSize: true,
  },
  server: {
    proxy: { '/api': { target: process.env.XIAOER_URL ?? 'http://127.0.0.1:8080', changeOrigin: false } },
  },
});
