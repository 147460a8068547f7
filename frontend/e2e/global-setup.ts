/** Before the tests (the gateway is already up): the built app must be there; the screenshots' folder too. */
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { FRONTEND_DIR, SCREENSHOTS, SHOTS_DIR } from './env';

export default function globalSetup(): void {
  const dist = resolve(FRONTEND_DIR, process.env.E2E_DIST ?? 'dist');
  if (!existsSync(join(dist, 'index.html'))) {
    throw new Error(`${dist} has no built app: run \`npm run build\` before the end-to-end tests.`);
  }
  process.env.E2E_RUN_STARTED_MS = String(Date.now());
  if (SCREENSHOTS) mkdirSync(SHOTS_DIR, { recursive: true });
}
