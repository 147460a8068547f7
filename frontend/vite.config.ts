/// <reference types="vitest/config" />
import react from '@vitejs/plugin-react';
import { defineConfig, loadEnv } from 'vite';

// The dev server forwards the gateway's own routes, so the app talks to a real gateway
// (GATEWAY_URL, default http://127.0.0.1:8000) from the same origin as in production.
const GATEWAY_PATHS = ['/v1', '/api', '/health', '/openapi.json', '/docs'];

export default defineConfig(({ mode }) => {
  const env = loadEnv(mode, process.cwd(), '');
  const target = env.GATEWAY_URL ?? 'http://127.0.0.1:8000';
  return {
    plugins: [react()],
    server: {
      host: '127.0.0.1',
      port: 5173,
      proxy: Object.fromEntries(GATEWAY_PATHS.map((path) => [path, { target, changeOrigin: true }])),
    },
    build: {
      target: 'es2022',
      sourcemap: true,
      // The budget that matters is scripts/bundle-budget.mjs (initial JS, gzipped); the lazy Overview chunk
      // carries the charts.
      chunkSizeWarningLimit: 800,
    },
    test: {
      environment: 'jsdom',
      globals: true,
      setupFiles: ['./src/test/setup.ts'],
      include: ['src/**/*.test.{ts,tsx}'],
      css: false,
      // Two shared cores: a few workers, and generous timeouts for MUI's first render.
      maxWorkers: 2,
      testTimeout: 20_000,
    },
  };
});
