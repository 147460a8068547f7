/**
 * After the tests: with E2E_SCREENSHOTS=1, the "Screenshots" section of doc/frontend.md is rewritten from
 * shots.ts and the pictures this run took (older pictures that are no longer listed are removed); then the
 * gateway's folder of this run is deleted.
 */
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { DOC_DIR, SCREENSHOTS, SHOTS_DIR } from './env';
import { SHOTS, type ShotName } from './shots';

const HEADING = '## Screenshots';

function screenshotsSection(names: ShotName[]): string {
  const lines = [
    HEADING,
    '',
    'Taken by the end-to-end run (`frontend/e2e/`) in Chromium against the test gateway of',
    '`tests/dashboard_gateway.py`: a machine without a GPU and tiny random-weight models, so the answers',
    'and transcripts are noise. 1280×800 unless said otherwise. Regenerate them all, and this section, with',
    '`npm run build && npm run screenshots` in `frontend/`.',
    '',
  ];
  for (const name of names) {
    const shot = SHOTS[name];
    lines.push(`### ${shot.title}`, '');
    if (shot.caption) lines.push(shot.caption, '');
    lines.push(`![${shot.title}](screenshots/${name}.png)`, '');
  }
  return lines.join('\n');
}

function writeDoc(): void {
  const started = Number(process.env.E2E_RUN_STARTED_MS ?? 0);
  const names = Object.keys(SHOTS) as ShotName[];
  const fresh = names.filter((name) => {
    try {
      return statSync(join(SHOTS_DIR, `${name}.png`)).mtimeMs >= started;
    } catch {
      return false;
    }
  });
  const missing = names.filter((name) => !fresh.includes(name));
  if (missing.length) {
    console.warn(`screenshots: not taken in this run (a test failed or was skipped): ${missing.join(', ')}`);
  }
  for (const file of readdirSync(SHOTS_DIR)) {
    if (file.endsWith('.png') && !names.includes(file.slice(0, -4) as ShotName))
      rmSync(join(SHOTS_DIR, file));
  }
  // A picture this run could not take keeps its older version, if there is one.
  const listed = names.filter((name) => statSync(join(SHOTS_DIR, `${name}.png`), { throwIfNoEntry: false }));
  const docPath = join(DOC_DIR, 'frontend.md');
  const doc = readFileSync(docPath, 'utf8');
  const start = doc.search(/\n## Screenshots *(\n|$)/);
  if (start < 0) throw new Error(`${docPath} has no "${HEADING}" section to fill`);
  const next = doc.indexOf('\n## ', start + HEADING.length + 2);
  const after = next < 0 ? '' : doc.slice(next);
  writeFileSync(docPath, `${doc.slice(0, start + 1)}${screenshotsSection(listed).trimEnd()}\n${after}`);
  console.log(`screenshots: ${fresh.length} of ${names.length} taken; ${docPath} lists ${listed.length}`);
}

export default function globalTeardown(): void {
  if (SCREENSHOTS) writeDoc();
  const folder = process.env.E2E_GATEWAY_FOLDER;
  if (folder) rmSync(folder, { recursive: true, force: true, maxRetries: 3 });
}
