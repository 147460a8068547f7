/** What the end-to-end tests share with playwright.config.ts: the gateway's address, keys and files. */
import { join, resolve } from 'node:path';

export const PORT = Number(process.env.E2E_PORT ?? 8620);
export const BASE_URL = `http://127.0.0.1:${PORT}`;

/** The keys tests/dashboard_gateway.py configures. */
export const ADMIN_KEY = 'e2e-admin-key-0123456789';
export const CLIENT_KEY = 'e2e-client-key-0123456789';
export const ADMIN_NAME = 'e2e-admin';
export const CLIENT_NAME = 'e2e-client';

/** Where the app keeps the key (src/auth/authStore.ts). */
export const STORAGE_KEY = 'gateway.apiKey';

/** The gateway's folder of this run (made by playwright.config.ts); it writes audio/speech.wav there. */
export function gatewayFolder(): string {
  const folder = process.env.E2E_GATEWAY_FOLDER;
  if (!folder) throw new Error('E2E_GATEWAY_FOLDER is not set: run the tests with `npm run e2e`.');
  return folder;
}

/** 13.5 s of two alternating synthetic voices, written by the gateway at start. */
export const speechWav = (): string => join(gatewayFolder(), 'audio', 'speech.wav');

/** `npm run screenshots` sets E2E_SCREENSHOTS=1: the run then writes doc/screenshots/ and doc/frontend.md. */
export const SCREENSHOTS = process.env.E2E_SCREENSHOTS === '1';
export const FRONTEND_DIR = resolve(import.meta.dirname, '..');
export const DOC_DIR = resolve(FRONTEND_DIR, '..', 'doc');
export const SHOTS_DIR = join(DOC_DIR, 'screenshots');
