/**
 * The suite's `test`: Playwright's, with a signed-in browser (`test.use(signedInAs(KEY))`), an admin API
 * client for setting the gateway up (`gateway`), the axe-core check (`expectAccessible`) and the screenshots
 * of doc/frontend.md (`shoot`).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import AxeBuilder from '@axe-core/playwright';
import {
  test as base,
  expect,
  type APIRequestContext,
  type Download,
  type Page,
  type PlaywrightTestOptions,
} from '@playwright/test';

import { ADMIN_KEY, BASE_URL, SCREENSHOTS, SHOTS_DIR, STORAGE_KEY } from './env';
import { type ShotName } from './shots';

export { expect };

/** `test.use(signedInAs(ADMIN_KEY))`: the browser starts with the key in localStorage, as after a sign-in. */
export function signedInAs(key: string): Pick<PlaywrightTestOptions, 'storageState'> {
  return {
    storageState: {
      cookies: [],
      origins: [{ origin: BASE_URL, localStorage: [{ name: STORAGE_KEY, value: key }] }],
    },
  };
}

/** The slots tests/dashboard_gateway.py serves. */
export type ModelKey = 'qwen' | 'canary' | 'pyannote' | 'translation' | 'tts' | 'whisper';

interface ModelStatus {
  key: string;
  state: string;
  in_flight_requests: number;
}

/** The gateway's admin API, to put it in the state a test starts from (never to check the page's work). */
export class Gateway {
  constructor(readonly api: APIRequestContext) {}

  async model(key: ModelKey): Promise<ModelStatus> {
    const response = await this.api.get(`/api/admin/models/${key}`);
    expect(response.ok(), await response.text()).toBe(true);
    return (await response.json()) as ModelStatus;
  }

  async state(key: ModelKey): Promise<string> {
    return (await this.model(key)).state;
  }

  /** Waits out a download, load or unload in progress. */
  private async settle(key: ModelKey): Promise<string> {
    await expect
      .poll(() => this.state(key), { timeout: 90_000, message: `${key} settles` })
      .not.toMatch(/^(downloading|loading|unloading)$/);
    return this.state(key);
  }

  async load(key: ModelKey): Promise<void> {
    if ((await this.settle(key)) !== 'loaded') {
      const response = await this.api.post(`/api/admin/models/${key}/load`);
      expect(response.status(), await response.text()).toBe(202);
    }
    await expect.poll(() => this.state(key), { timeout: 90_000, message: `${key} loads` }).toBe('loaded');
  }

  async unload(key: ModelKey): Promise<void> {
    if ((await this.settle(key)) === 'loaded') {
      const response = await this.api.post(`/api/admin/models/${key}/unload`);
      expect(response.status(), await response.text()).toBe(202);
    }
    expect(await this.settle(key)).not.toBe('loaded');
  }
}

export const test = base.extend<{ gateway: Gateway }>({
  gateway: async ({ playwright }, use) => {
    const api = await playwright.request.newContext({
      baseURL: BASE_URL,
      extraHTTPHeaders: { Authorization: `Bearer ${ADMIN_KEY}` },
    });
    await use(new Gateway(api));
    await api.dispose();
  },
});

const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

/**
 * axe-core on the page as it is now (WCAG 2.1 A and AA rules): the test fails on any serious or critical
 * violation, listing each with the elements it found and what to fix.
 */
export async function expectAccessible(page: Page, where: string): Promise<void> {
  // Colours are checked as they end up, not halfway through a transition (a chip that just changed state).
  const still = await page.addStyleTag({
    content: '*, *::before, *::after { transition: none !important; animation: none !important; }',
  });
  const results = await new AxeBuilder({ page }).withTags(AXE_TAGS).analyze();
  await still.evaluate((style) => {
    style.parentNode?.removeChild(style);
  });
  const blocking = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  if (blocking.length) {
    await test.info().attach(`axe violations (${where})`, {
      body: JSON.stringify(blocking, null, 2),
      contentType: 'application/json',
    });
  }
  const report = blocking
    .map((v) => {
      const nodes = v.nodes
        .slice(0, 5)
        .map(
          (node) =>
            `    - ${node.target.join(' ')}\n      ${node.failureSummary?.replace(/\n/g, '\n      ')}`,
        )
        .join('\n');
      const more = v.nodes.length > 5 ? `\n    ... and ${v.nodes.length - 5} more` : '';
      return `  [${v.impact}] ${v.id}: ${v.help}\n    ${v.helpUrl}\n${nodes}${more}`;
    })
    .join('\n');
  // Soft: the flow goes on (and is checked), the test still fails at its end.
  expect.soft(blocking.length, `axe-core on ${where}: serious or critical violations\n${report}`).toBe(0);
}

/** The page's screenshot for doc/frontend.md, when the run makes them (`npm run screenshots`). */
export async function shoot(page: Page, name: ShotName): Promise<void> {
  if (!SCREENSHOTS) return;
  // No hover tooltip or blinking caret in the pictures.
  await page.mouse.move(0, page.viewportSize()?.height ?? 0);
  await page.screenshot({ path: join(SHOTS_DIR, `${name}.png`), animations: 'disabled', caret: 'hide' });
}

/** The page is drawn: its heading is there and no skeleton or page-loading bar is left. */
export async function settled(page: Page): Promise<void> {
  await expect(page.locator('main h1')).toBeVisible();
  await expect(page.locator('main .MuiSkeleton-root')).toHaveCount(0);
  await expect(page.getByRole('progressbar', { name: /^(Loading the page|Checking the key)$/ })).toHaveCount(
    0,
  );
}

/** Clicks what starts a download and returns the file's name and text. */
export async function download(
  page: Page,
  click: () => Promise<void>,
): Promise<{ name: string; text: string }> {
  const [file]: [Download, void] = await Promise.all([page.waitForEvent('download'), click()]);
  const path = await file.path();
  return { name: file.suggestedFilename(), text: await readFile(path, 'utf8') };
}
