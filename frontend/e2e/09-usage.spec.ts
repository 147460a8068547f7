/**
 * Usage and the request log against the live gateway: a client's chat shows up in the admin's Usage page
 * (its tokens, its quota, a row of the log), the log filters by status, and a client key sees its own usage
 * but not everyone's.
 */
import { type APIRequestContext } from '@playwright/test';

import { ADMIN_KEY, BASE_URL, CLIENT_KEY, CLIENT_NAME } from './env';
import { expect, expectAccessible, type Gateway, settled, shoot, signedInAs, test } from './fixtures';

interface LogPage {
  data: { client: string; route: string; status: number; request_id: string }[];
  total: number;
}

interface UsageReport {
  totals: { client: string; model: string | null; total_tokens: number }[];
}

/** The API as the client key (what an application of that client would send). */
async function asClient(playwright: { request: { newContext: (o: object) => Promise<APIRequestContext> } }) {
  return playwright.request.newContext({
    baseURL: BASE_URL,
    extraHTTPHeaders: { Authorization: `Bearer ${CLIENT_KEY}` },
  });
}

/** The log's newest entry of the client on a route with a status class, once the writer has stored it. */
async function logged(gateway: Gateway, route: string, status: string, requestId: string): Promise<void> {
  await expect
    .poll(
      async () => {
        const query = new URLSearchParams({ client: CLIENT_NAME, route, status, limit: '50' });
        const page = (await (await gateway.api.get(`/api/admin/requests?${query}`)).json()) as LogPage;
        return page.data.some((entry) => entry.request_id === requestId);
      },
      { timeout: 30_000, message: `${route} (${status}) is in the request log` },
    )
    .toBe(true);
}

async function chatAsClient(client: APIRequestContext, model: string): Promise<{ requestId: string }> {
  const response = await client.post('/v1/chat/completions', {
    data: { model, messages: [{ role: 'user', content: 'Say hello.' }], max_tokens: 8 },
  });
  return { requestId: response.headers()['x-request-id'] ?? '' };
}

async function servedQwen(gateway: Gateway): Promise<string> {
  const response = await gateway.api.get('/api/admin/models/qwen');
  const { served_names } = (await response.json()) as { served_names: string[] };
  return served_names[0]!;
}

test.describe('as an admin', () => {
  test.use(signedInAs(ADMIN_KEY));

  test("a client's chat shows on the Usage page: its tokens, its quota and the log's row", async ({
    page,
    gateway,
    playwright,
  }) => {
    await gateway.load('qwen');
    const model = await servedQwen(gateway);
    const client = await asClient(playwright);
    const { requestId } = await chatAsClient(client, model);
    expect(requestId, 'the gateway names each request').not.toBe('');
    await client.dispose();
    await logged(gateway, '/v1/chat/completions', '2xx', requestId);
    // What the page should show: the client's tokens on that model over the last 7 days.
    const report = (await (
      await gateway.api.get(`/api/admin/usage?client=${CLIENT_NAME}&granularity=day`)
    ).json()) as UsageReport;
    const tokens = report.totals
      .filter((total) => total.model === model)
      .reduce((sum, total) => sum + total.total_tokens, 0);
    expect(tokens).toBeGreaterThan(0);

    await page.goto('/usage');
    await settled(page);
    await expect(page.getByTestId('usage-chart')).toBeVisible();
    const totalsRow = page
      .getByTestId('usage-totals')
      .getByRole('row')
      .filter({ hasText: CLIENT_NAME })
      .filter({ hasText: model });
    await expect(totalsRow).toHaveCount(1);
    await expect(totalsRow.getByRole('cell').nth(6)).toHaveText(tokens.toLocaleString('en-GB'));

    const quota = page.getByTestId(`quota-${CLIENT_NAME}`);
    await expect(
      quota.getByRole('progressbar', { name: /^Tokens: \d+ % used, [\d,]+ of 100,000,000$/ }),
    ).toBeVisible();
    await expect(quota).toContainText('Resets');

    const log = page.getByTestId('request-log');
    const row = log.getByTestId('request-log-row').filter({ hasText: requestId });
    await expect(row).toHaveCount(1);
    await expect(row).toContainText(CLIENT_NAME);
    await expect(row).toContainText('POST /v1/chat/completions');
    await expect(row.getByTestId('request-status')).toHaveText('200');
    await expectAccessible(page, 'Usage');
    await shoot(page, 'usage');
  });

  test('the request log filters by status', async ({ page, gateway, playwright }) => {
    const client = await asClient(playwright);
    const { requestId } = await chatAsClient(client, 'no-such-model');
    await client.dispose();
    await logged(gateway, '/v1/chat/completions', '4xx', requestId);

    await page.goto('/usage');
    await settled(page);
    const log = page.getByTestId('request-log');
    await expect(log.getByTestId('request-log-row').first()).toBeVisible();
    await page.getByTestId('request-log-filter-status').click();
    await page.getByRole('option', { name: /^4xx/ }).click();
    const refused = log.getByTestId('request-log-row').filter({ hasText: requestId });
    await expect(refused).toHaveCount(1);
    await expect(refused).toContainText('/v1/chat/completions');
    await expect(refused.getByTestId('request-status')).toHaveText(/^4\d\d$/);
    // Only refusals are listed now.
    for (const status of await log.getByTestId('request-status').allTextContents()) {
      expect(status).toMatch(/^4\d\d$/);
    }
    await expectAccessible(page, 'Usage, the log filtered by status');
  });
});

test.describe('a client key', () => {
  test.use(signedInAs(CLIENT_KEY));

  test('sees My usage with its quota, and not the Usage page', async ({ page }) => {
    await page.goto('/my-usage');
    await settled(page);
    await expect(page.getByRole('heading', { level: 1, name: 'My usage' })).toBeVisible();
    await expect(page.getByTestId('my-usage-chart')).toBeVisible();
    // The chat of the first test was this client's.
    // (A regular expression: Playwright trims a string's spaces, so ' 0 tokens' would also match '30 tokens'.)
    await expect(page.getByTestId('my-usage-chart').getByTestId('usage-sums')).toContainText(
      /· [1-9][\d,]* tokens/,
    );
    await expect(
      page
        .getByTestId('my-quota')
        .getByRole('progressbar', { name: /^Tokens: \d+ % used, [\d,]+ of 100,000,000$/ }),
    ).toBeVisible();
    const nav = page.getByRole('navigation', { name: 'Pages' });
    await expect(nav.getByRole('link', { name: 'My usage' })).toBeVisible();
    await expect(nav.getByRole('link', { name: 'Usage', exact: true })).toHaveCount(0);
    await expectAccessible(page, 'My usage (a client key)');
    await shoot(page, 'my-usage');

    await page.goto('/usage');
    await expect(
      page.getByText(`Usage is for admins: this key (${CLIENT_NAME}) is a client key.`),
    ).toBeVisible();
    await expect(page.getByTestId('request-log')).toHaveCount(0);
  });
});
