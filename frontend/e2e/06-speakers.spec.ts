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

  // A click on a segment moves the player to the segment's start ("SPEAKER_00, 0:00 to 0:13: play from here").
  const audio = page.getByTestId('speaker-audio');
  const playerAt = () => audio.evaluate((element: HTMLAudioElement) => element.currentTime);
  await expect
    .poll(() => audio.evaluate((element: HTMLAudioElement) => element.readyState))
    .toBeGreaterThan(0);
  await audio.evaluate((element: HTMLAudioElement) => {
    element.pause();
    element.currentTime = 12;
  });
  await expect.poll(playerAt).toBeGreaterThan(11);
  const segment = timeline.getByTestId('speaker-segment').first();
  const label = (await segment.getAttribute('aria-label')) ?? '';
  const [, minutes, seconds] = /, (\d+):(\d\d) to /.exec(label) ?? [];
  expect(minutes, `a segment's label says when it starts: "${label}"`).toBeDefined();
  const start = Number(minutes) * 60 + Number(seconds);
  await segment.click();
  await expect.poll(playerAt).toBeLessThan(start + 2);
  expect(await playerAt()).toBeGreaterThanOrEqual(start);

  await expectAccessible(page, 'Who said what with a timeline');
  await shoot(page, 'speakers');
});
