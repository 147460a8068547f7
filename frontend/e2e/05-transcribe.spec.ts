/** The transcription playground: the gateway's generated wav uploaded, transcribed, and downloaded. */
import { ADMIN_KEY, speechWav } from './env';
import { download, expect, expectAccessible, settled, shoot, signedInAs, test } from './fixtures';

test.use(signedInAs(ADMIN_KEY));

test('a generated wav is transcribed, with segments and subtitle downloads', async ({ page }) => {
  await page.goto('/playground/transcribe');
  await settled(page);
  await expectAccessible(page, 'Transcription');
  // Served over http://127.0.0.1, the page may use the microphone: no "needs HTTPS" help.
  await expect(page.getByTestId('transcribe-record')).toBeVisible();

  await page.getByTestId('transcribe-file').setInputFiles(speechWav());
  await page.getByTestId('transcribe-submit').click();
  // The first request loads the tiny ASR model: give it time.
  await expect(page.getByTestId('transcript-text')).not.toBeEmpty({ timeout: 90_000 });
  await expect(page.getByTestId('transcribe-status')).toContainText('Done');
  await expect(page.getByTestId('segments-table')).toBeVisible();
  await expect(page.getByTestId('segments-table').locator('tbody tr').first()).toBeVisible();

  const srt = await download(page, () => page.getByTestId('download-srt').click());
  expect(srt.name).toMatch(/\.srt$/);
  expect(srt.text).toMatch(/^1\r?\n\d\d:\d\d:\d\d,\d{3} --> \d\d:\d\d:\d\d,\d{3}/);
  const vtt = await download(page, () => page.getByTestId('download-vtt').click());
  expect(vtt.name).toMatch(/\.vtt$/);
  expect(vtt.text).toMatch(/^WEBVTT/);
  expect(vtt.text).toContain('-->');
  const json = await download(page, () => page.getByTestId('download-json').click());
  expect(json.name).toMatch(/\.json$/);
  expect(JSON.parse(json.text)).toHaveProperty('text');

  await expectAccessible(page, 'Transcription with a result');
  await shoot(page, 'transcribe');
});

test('Whisper is offered, detects the language by itself and says which', async ({ page, gateway }) => {
  await gateway.load('whisper');
  await page.goto('/playground/transcribe');
  await settled(page);
  const model = page.getByRole('combobox', { name: 'Model' });
  await model.click();
  // Every ASR slot: Canary's names and Whisper's.
  await expect(page.getByRole('option', { name: 'tiny-canary', exact: true })).toBeVisible();
  await page.getByRole('option', { name: 'tiny-whisper', exact: true }).click();
  const language = page.getByTestId('transcribe-language');
  await expect(language).toContainText('Detect automatically');
  await language.getByRole('combobox').click();
  // The loaded model's own languages (Whisper's ~100).
  await expect(page.getByRole('option', { name: 'Yoruba (yo)' })).toBeAttached();
  await page.keyboard.press('Escape');

  await page.getByTestId('transcribe-file').setInputFiles(speechWav());
  await page.getByTestId('transcribe-submit').click();
  await expect(page.getByTestId('transcribe-status')).toContainText('Done', { timeout: 90_000 });
  await expect(page.getByTestId('detected-language')).toContainText(/Detected language: .+ \(\w+\)/);
  await expectAccessible(page, 'Transcription with Whisper');
});
