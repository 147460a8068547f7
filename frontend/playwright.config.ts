/**
 * The dashboard's end-to-end tests: Debian's Chromium against a live gateway (tests/dashboard_gateway.py:
 * the tiny CPU models, an admin and a client key, the built dashboard from `dist/`).
 *
 *   npm run build && npm run e2e        # the whole suite (it never builds the app itself)
 *   npm run screenshots                 # the same run, also writing doc/screenshots/ and doc/frontend.md
 *
 * Environment: GATEWAY_PYTHON (default: the checkout's .venv/bin/python, else python3), CHROMIUM_PATH
 * (default: /usr/bin/chromium or /usr/bin/chromium-browser), E2E_PORT (default 8620), E2E_MODELS_DIR (where
 * the tiny models are kept between runs; default node_modules/.cache/e2e-gateway-models), E2E_DIST (the built
 * app to serve; default dist).
 */
import { existsSync, mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { defineConfig } from '@playwright/test';

const here = dirname(fileURLToPath(import.meta.url));
const checkout = resolve(here, '..');

function chromiumPath(): string {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'];
  const found = candidates.find((path): path is string => !!path && existsSync(path));
  if (!found) throw new Error('No Chromium found: install Debian\'s "chromium" or set CHROMIUM_PATH.');
  return found;
}

function gatewayPython(): string {
  if (process.env.GATEWAY_PYTHON) return process.env.GATEWAY_PYTHON;
  const venv = join(checkout, '.venv', 'bin', 'python');
  return existsSync(venv) ? venv : 'python3';
}

/**
 * A fresh folder per run for the gateway (cache, jobs, audio), made once by the runner and handed to the
 * workers through the environment. Its `models/` links to a folder kept between runs, so the tiny models
 * are built only once.
 */
function gatewayFolder(): string {
  const made = process.env.E2E_GATEWAY_FOLDER;
  if (made) return made;
  const folder = mkdtempSync(join(tmpdir(), 'gateway-e2e-'));
  const models = resolve(
    process.env.E2E_MODELS_DIR ?? join(here, 'node_modules', '.cache', 'e2e-gateway-models'),
  );
  mkdirSync(models, { recursive: true });
  symlinkSync(models, join(folder, 'models'), 'dir');
  process.env.E2E_GATEWAY_FOLDER = folder;
  return folder;
}

const port = Number(process.env.E2E_PORT ?? 8620);
const baseURL = `http://127.0.0.1:${port}`;
const folder = gatewayFolder();
const dist = resolve(here, process.env.E2E_DIST ?? 'dist');
const results = join(here, 'test-results');

export default defineConfig({
  testDir: './e2e',
  outputDir: results,
  globalSetup: './e2e/global-setup.ts',
  globalTeardown: './e2e/global-teardown.ts',
  // One worker, in the files' numbered order; the tests share one gateway.
  workers: 1,
  fullyParallel: false,
  retries: 0,
  forbidOnly: !!process.env.CI,
  // Two shared CPU cores run the gateway, its models and the browser: be patient.
  timeout: 120_000,
  expect: { timeout: 20_000 },
  reporter: [['list']],
  use: {
    baseURL,
    viewport: { width: 1280, height: 800 },
    colorScheme: 'light',
    locale: 'en-GB',
    timezoneId: 'UTC',
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    actionTimeout: 20_000,
    navigationTimeout: 30_000,
    launchOptions: { executablePath: chromiumPath(), args: ['--no-sandbox'] },
  },
  projects: [{ name: 'chromium' }],
  webServer: {
    // Its log goes to test-results/gateway.log (kept after the run, like the traces of failed tests).
    command: [
      `mkdir -p "${results}" && cd "${checkout}" &&`,
      `PYTHONPATH=backend:. exec "${gatewayPython()}" -m tests.dashboard_gateway`,
      `--port ${port} --folder "${folder}" --dist "${dist}" > "${join(results, 'gateway.log')}" 2>&1`,
    ].join(' '),
    url: `${baseURL}/health`,
    timeout: 300_000,
    reuseExistingServer: false,
    stdout: 'ignore',
    stderr: 'ignore',
    gracefulShutdown: { signal: 'SIGTERM', timeout: 10_000 },
  },
});
