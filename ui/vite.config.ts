import { svelte } from '@sveltejs/vite-plugin-svelte';
import { svelteTesting } from '@testing-library/svelte/vite';
import { defineConfig } from 'vitest/config';

// Served by the Tauri shell: `tauri dev` loads http://localhost:5173 (tauri.conf.json
// devUrl) and `tauri build` bundles ui/dist (frontendDist). Nothing is fetched at run time.
export default defineConfig({
  plugins: [svelte(), svelteTesting()],
  clearScreen: false,
  server: {
    port: 5173,
    strictPort: true,
    watch: { ignored: ['**/src-tauri/**', '**/target/**'] },
  },
  envPrefix: ['VITE_', 'TAURI_ENV_'],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // WebKitGTK (Linux), WebView2 (Windows) and WKWebView (macOS) of current systems.
    target: ['es2022', 'safari16', 'chrome105'],
    sourcemap: false,
    // Everything (fonts included: there are none, the system stack is used) stays local.
    assetsInlineLimit: 0,
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.ts'],
    restoreMocks: true,
    // jsdom renders big tables slowly on a loaded 2-core machine; a timeout is a hang guard,
    // not a speed check.
    testTimeout: 20_000,
  },
});
