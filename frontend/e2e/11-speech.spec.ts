/** The speech playground against the tiny VITS (two speakers): an unknown voice's 400, then speech played and downloaded. */
import { readFile } from 'node:fs/promises';

import { ADMIN_KEY } from './env';
import { expect, expectAccessible, settled, shoot, signedInAs, test } from './fixtures';

test.use(signedInAs(ADMIN_KEY));

test('text is spoken, played and downloaded; a wrong voice gets the valid ones', async ({ page }) => {
  await page.goto('/playground/speech');
  await settled(page);
  await expect(page.getByTestId('speech-model')).toContainText('tiny-vits');
  await expectAccessible(page, 'Speech');

  // A voice the model does not have: the 400 lists the valid ones, and the field offers them.
  await page.getByTestId('speech-voice-input').fill('nobody');
  await page.getByTestId('speech-text').fill('Hello there. This is the gateway speaking.');
  await expect(page.getByTestId('speech-counter')).toHaveText('42 / 4096 characters');
  await page.getByTestId('speech-submit').click();
  await expect(page.getByTestId('speech-status')).toContainText(
    "voice 'nobody' is not available for tiny-vits; use one of alloy",
    { timeout: 90_000 },
  );
  const voice = page.getByTestId('speech-voice');
  await voice.getByRole('combobox').click();
  await page.getByRole('option', { name: 'speaker_1', exact: true }).click();

  await page.getByTestId('speech-submit').click();
  const metrics = page.getByTestId('speech-metrics');
  await expect(metrics).toContainText(/First audio byte after \d/, { timeout: 90_000 });
  await expect(metrics).toContainText('audio/mpeg');
  // The player has the audio (streamed through Media Source where Chromium can, else the file).
  await expect
    .poll(() => page.getByTestId('speech-player').evaluate((a: HTMLAudioElement) => a.readyState))
    .toBeGreaterThan(0);
  await expectAccessible(page, 'Speech with audio');
  await shoot(page, 'speech');

  const [mp3] = await Promise.all([
    page.waitForEvent('download'),
    page.getByTestId('speech-download').click(),
  ]);
  expect(mp3.suggestedFilename()).toBe('speech.mp3');
  const bytes = await readFile(await mp3.path());
  expect(bytes.length).toBeGreaterThan(100);
  // An MP3: an ID3 tag or a frame sync.
  expect(
    bytes.subarray(0, 3).toString('latin1') === 'ID3' || (bytes[0] === 0xff && (bytes[1]! & 0xe0) === 0xe0),
  ).toBe(true);

  // WAV plays after the download.
  await page.getByTestId('speech-format').getByRole('combobox').click();
  await page.getByRole('option', { name: /^wav/ }).click();
  await page.getByRole('slider', { name: /Speed/ }).press('ArrowRight');
  await page.getByTestId('speech-submit').click();
  await expect(page.getByTestId('speech-download')).toHaveText('Download speech.wav', { timeout: 60_000 });
  await expect(metrics).toContainText('audio/wav');
  await expect
    .poll(() => page.getByTestId('speech-player').evaluate((a: HTMLAudioElement) => a.duration))
    .toBeGreaterThan(0);
});
