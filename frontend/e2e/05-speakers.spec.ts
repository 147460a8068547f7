/** Who said what: diarization with transcription drawn as a speaker timeline. */
import { ADMIN_KEY, speechWav } from './env';
import { expect, expectAccessible, settled, shoot, signedInAs, test } from './fixtures';

test.use(signedInAs(ADMIN_KEY));

test('who said what draws a timeline with at least one speaker lane', async ({ page }) => {
  await page.goto('/playground/speakers');
  await settled(page);
  await expectAccessible(page, 'Who said what');
  await page.getByTestId('speakers-file').setInputFiles(speechWav());
  await page.getByTestId('speakers-submit').click();
  // The first run loads pyannote and the ASR model.
  const timeline = page.getByTestId('speaker-timeline');
  await expect(timeline).toBeVisible({ timeout: 90_000 });
  const lanes = timeline.getByTestId('speaker-lane');
  await expect(lanes.first()).toBeVisible();
  expect(await lanes.count()).toBeGreaterThanOrEqual(1);
  await expect(lanes.first()).toHaveAttribute('data-speaker', /\S/);
  await expect(timeline.getByTestId('speaker-segment').first()).toBeVisible();
  await expect(timeline.getByTestId('speaker-playhead')).toBeAttached();
  await expect(page.getByTestId('speaker-audio')).toBeAttached();
  await expect(page.getByTestId('speaker-transcript')).not.toBeEmpty();

  // A click on a segment moves the player there.
  const segment = timeline.getByTestId('speaker-segment').last();
  await segment.click();
  await expect
    .poll(() => page.getByTestId('speaker-audio').evaluate((audio: HTMLAudioElement) => audio.currentTime))
    .toBeGreaterThanOrEqual(0);

  await expectAccessible(page, 'Who said what with a timeline');
  await shoot(page, 'speakers');
});
