/**
 * Every page of src/pages.ts, as an admin: axe-core in the light and the dark scheme at 1280×800, and on a
 * 390×844 phone (where nothing may be wider than the screen). A page added to pages.ts is checked too.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { type Page } from '@playwright/test';

import { writeTwoVoicesWav } from './audio';
import { ADMIN_KEY, FRONTEND_DIR } from './env';
import { expect, expectAccessible, type Gateway, settled, shoot, signedInAs, test } from './fixtures';
import { type ShotName } from './shots';

/** The routes of src/pages.ts (read as text: the module is the app's, not Node's). */
function appPaths(): string[] {
  const source = readFileSync(join(FRONTEND_DIR, 'src', 'pages.ts'), 'utf8');
  const paths = [...source.matchAll(/^\s*path:\s*'([^']+)'/gm)].map((match) => match[1]!);
  expect(paths.length, 'routes found in src/pages.ts').toBeGreaterThan(5);
  return paths;
}

/** A finished job, for `/jobs/:jobId`. */
async function someJobId(gateway: Gateway, wav: string): Promise<string> {
  writeTwoVoicesWav(wav, 2);
  const response = await gateway.api.post('/api/jobs', {
    multipart: {
      file: { name: 'short.wav', mimeType: 'audio/wav', buffer: readFileSync(wav) },
      task: 'transcribe',
    },
  });
  expect(response.status(), await response.text()).toBe(202);
  const { id } = (await response.json()) as { id: string };
  return id;
}

async function visitAll(
  page: Page,
  paths: string[],
  jobId: string,
  label: string,
  shots: Record<string, ShotName> = {},
  also?: (path: string) => Promise<void>,
): Promise<void> {
  for (const path of paths) {
    const url = path.replace(':jobId', encodeURIComponent(jobId));
    await test.step(`${label}: ${path}`, async () => {
      await page.goto(url);
      await settled(page);
      await expectAccessible(page, `${path} (${label})`);
      if (also) await also(path);
      const shot = shots[path];
      if (shot) await shoot(page, shot);
    });
  }
}

test.use(signedInAs(ADMIN_KEY));

test('every page passes axe-core at 1280×800', async ({ page, gateway }, testInfo) => {
  await visitAll(page, appPaths(), await someJobId(gateway, testInfo.outputPath('short.wav')), 'light');
});

test.describe('dark scheme', () => {
  test.use({ colorScheme: 'dark' });

  test('every page passes axe-core in the dark scheme', async ({ page, gateway }, testInfo) => {
    const jobId = await someJobId(gateway, testInfo.outputPath('short.wav'));
    await page.goto('/');
    // The app follows the system's scheme: a dark page.
    const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    const [r, g, b] = (background.match(/\d+/g) ?? ['255', '255', '255']).map(Number);
    expect(r! + g! + b!, `body background ${background}`).toBeLessThan(3 * 80);
    await visitAll(page, appPaths(), jobId, 'dark', { '/': 'dark-overview', '/models': 'dark-models' });
  });
});

test.describe('on a phone', () => {
  test.use({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });

  test('every page fits a 390-px screen and passes axe-core; the menu opens', async ({
    page,
    gateway,
  }, testInfo) => {
    const jobId = await someJobId(gateway, testInfo.outputPath('short.wav'));
    const noSidewaysScrolling = async (path: string) => {
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      expect.soft(width, `${path} is ${width} px wide on a 390-px screen`).toBeLessThanOrEqual(390);
    };
    await visitAll(
      page,
      appPaths(),
      jobId,
      'phone',
      { '/': 'phone-overview', '/models': 'phone-models' },
      noSidewaysScrolling,
    );
    await page.goto('/');
    await settled(page);
    await page.getByRole('button', { name: 'Open navigation' }).click();
    const nav = page.getByRole('navigation', { name: 'Pages' });
    await expect(nav.getByRole('link', { name: 'Models' })).toBeVisible();
    await expectAccessible(page, 'the menu on a phone');
    await shoot(page, 'phone-menu');
    await nav.getByRole('link', { name: 'Models' }).click();
    await expect(page).toHaveURL(/\/models$/);
    await expect(nav).toBeHidden();
  });
});
