/** The chat playground against the tiny LLM: a streamed answer with its metrics, and Stop. */
import { type Page } from '@playwright/test';

import { ADMIN_KEY } from './env';
import { expect, expectAccessible, settled, shoot, signedInAs, test } from './fixtures';

test.use(signedInAs(ADMIN_KEY));

/**
 * The tiny model has random weights: it may end its answer at any token. The request the page sends goes
 * to the gateway as it is, plus `ignore_eos`, so the answer is as long as "Max tokens" says.
 */
async function answersAtFullLength(page: Page): Promise<void> {
  await page.route('**/v1/chat/completions', async (route) => {
    const body = route.request().postDataJSON() as Record<string, unknown>;
    await route.continue({ postData: JSON.stringify({ ...body, ignore_eos: true }) });
  });
}

test.beforeEach(async ({ gateway }) => {
  await gateway.load('qwen');
});

test('the chat playground streams an answer and shows its metrics', async ({ page }) => {
  await answersAtFullLength(page);
  await page.goto('/playground/chat');
  await settled(page);
  await expect(page.getByTestId('chat-model')).toContainText(/qwen/);
  await expectAccessible(page, 'Chat');
  await page.getByLabel('Max tokens').fill('96');
  await page.getByTestId('chat-system').fill('You are terse.');
  await page.getByTestId('chat-input').fill('Say hello.');
  await page.getByTestId('chat-send').click();
  const status = page.getByTestId('chat-status');
  const answer = page.getByTestId('chat-answer');
  await expect(status).toHaveText('Done', { timeout: 60_000 });
  await expect(answer).not.toBeEmpty();
  await expect(page.getByTestId('chat-stop')).toHaveCount(0);
  const metrics = page.getByTestId('chat-metrics');
  await expect(metrics).toBeVisible();
  await expect(metrics).toContainText('96'); // the completion's tokens, from the usage
  await expectAccessible(page, 'Chat with an answer');
  await shoot(page, 'chat');
});

test('Stop ends a long answer and the server stops generating', async ({ page, gateway }) => {
  await answersAtFullLength(page);
  await page.goto('/playground/chat');
  await settled(page);
  await page.getByLabel('Max tokens').fill('3500');
  await page.getByTestId('chat-input').fill('Tell me a long story.');
  await page.getByTestId('chat-send').click();
  const status = page.getByTestId('chat-status');
  const answer = page.getByTestId('chat-answer');
  await expect(status).toHaveText('Streaming…');
  await expect(answer).not.toBeEmpty();
  await page.getByTestId('chat-stop').click();
  await expect(status).toHaveText('Stopped');
  await expect(page.getByTestId('chat-stop')).toHaveCount(0);
  // The answer stops growing, and the gateway drops the generation (3,500 tokens would take a while).
  const stoppedAt = (await answer.textContent()) ?? '';
  await expect.poll(async () => (await gateway.model('qwen')).in_flight_requests, { timeout: 5_000 }).toBe(0);
  await page.waitForTimeout(1_000);
  expect((await answer.textContent()) ?? '').toBe(stoppedAt);
  await expect(page.getByTestId('chat-send')).toBeDisabled(); // the message box is empty again
});
