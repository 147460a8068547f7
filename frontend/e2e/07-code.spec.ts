/** "Use it from code": copyable snippets with this gateway's base URL and each model's name. */
import { ADMIN_KEY, BASE_URL } from './env';
import { expect, expectAccessible, settled, shoot, signedInAs, test } from './fixtures';

test.use(signedInAs(ADMIN_KEY));

test('Use it from code shows curl and Python snippets for each served model', async ({ page }) => {
  await page.goto('/code');
  await settled(page);
  const chat = page.getByRole('region', { name: 'tiny-qwen' });
  await expect(chat.getByLabel('curl example for tiny-qwen', { exact: true })).toContainText(
    `curl ${BASE_URL}/v1/chat/completions`,
  );
  await expect(chat.getByLabel('curl example for tiny-qwen', { exact: true })).toContainText(
    '"model": "tiny-qwen"',
  );
  await chat.getByRole('tab', { name: 'Python (openai)' }).click();
  const python = chat.getByLabel('python example for tiny-qwen', { exact: true });
  await expect(python).toContainText('from openai import OpenAI');
  await expect(python).toContainText(`base_url="${BASE_URL}/v1"`);

  const asr = page.getByRole('region', { name: 'tiny-canary' });
  await expect(asr.getByLabel('curl example for tiny-canary', { exact: true })).toContainText(
    '/v1/audio/transcriptions',
  );
  await expect(page.getByRole('region', { name: 'tiny-pyannote' })).toBeVisible();

  const translation = page.getByRole('region', { name: 'tiny-nllb' });
  await expect(translation.getByLabel('curl example for tiny-nllb', { exact: true })).toContainText(
    `curl ${BASE_URL}/v1/translate`,
  );
  await translation.getByRole('tab', { name: 'Python (httpx)' }).click();
  await expect(translation.getByLabel('python example for tiny-nllb', { exact: true })).toContainText(
    '"src_lang": "en"',
  );
  const speech = page.getByRole('region', { name: 'tiny-vits' });
  await speech.getByRole('tab', { name: 'Python (openai)' }).click();
  await expect(speech.getByLabel('python example for tiny-vits', { exact: true })).toContainText(
    'client.audio.speech.with_streaming_response.create(',
  );
  // The key itself is never written into a snippet.
  await expect(page.locator('main')).not.toContainText(ADMIN_KEY);
  await expectAccessible(page, 'Use it from code');
  await shoot(page, 'code');
});
