// Prints the gzipped size of the JavaScript that dist/index.html loads before any lazy page
// (its module script and the chunks it preloads) and fails the build when it exceeds the budget.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

export const BUDGET_KB = 350;

const dist = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const html = readFileSync(join(dist, 'index.html'), 'utf8');
const initial = [
  ...html.matchAll(/<script[^>]*type="module"[^>]*src="([^"]+)"/g),
  ...html.matchAll(/<link[^>]*rel="modulepreload"[^>]*href="([^"]+)"/g),
].map((match) => match[1] ?? '');

let totalBytes = 0;
for (const src of new Set(initial)) {
  const gzipped = gzipSync(readFileSync(join(dist, src.replace(/^\//, '')))).length;
  totalBytes += gzipped;
  console.log(`  ${src}  ${(gzipped / 1000).toFixed(1)} kB gzipped`);
}
const totalKb = totalBytes / 1000;
console.log(`initial JavaScript: ${totalKb.toFixed(1)} kB gzipped (budget ${BUDGET_KB} kB)`);
if (!initial.length) {
  console.error('bundle budget: no module script found in dist/index.html');
  process.exit(1);
}
if (totalKb > BUDGET_KB) {
  console.error(
    `bundle budget exceeded by ${(totalKb - BUDGET_KB).toFixed(1)} kB: lazy-load more of the app`,
  );
  process.exit(1);
}
