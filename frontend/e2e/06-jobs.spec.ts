/** Jobs: a transcription job goes queued, running, succeeded, with per-stage progress; its SRT downloads. */
import { writeTwoVoicesWav } from './audio';
import { ADMIN_KEY } from './env';
import { download, expect, expectAccessible, settled, shoot, signedInAs, test } from './fixtures';

test.use(signedInAs(ADMIN_KEY));

test('a job goes queued → running → succeeded with progress, and its SRT downloads', async ({
  page,
  gateway,
}, testInfo) => {
  // The tiny ASR model transcribes in a blink once loaded: unloaded, the job loads it first (seconds),
  // long enough to watch it run.
  await gateway.unload('canary');
  const wav = testInfo.outputPath('meeting.wav');
  writeTwoVoicesWav(wav, 16);

  await page.goto('/jobs');
  await settled(page);
  await expectAccessible(page, 'Jobs');
  await page.getByTestId('job-file').setInputFiles(wav);
  await page.getByTestId('job-task').getByRole('combobox').click();
  await page.getByRole('option', { name: /^Transcribe/ }).click();
  await page.getByTestId('job-submit').click();
  await expect(page).toHaveURL(/\/jobs\/[^/]+$/);
  const jobId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);

  const state = page.getByTestId('job-state');
  await expect(state).toHaveText('running');
  const progress = page.getByTestId('job-progress');
  await expect(progress).toBeVisible();
  await expect(progress.getByTestId('job-stage-asr')).toBeVisible();
  await expect(state).toHaveText('succeeded', { timeout: 90_000 });
  for (const stage of ['decode', 'asr', 'merge'])
    await expect(progress.getByTestId(`job-stage-${stage}`)).toBeVisible();

  const history = page.getByTestId('job-state-history').getByTestId('job-history-item');
  await expect(history).toHaveCount(3);
  expect(await history.evaluateAll((items) => items.map((item) => item.getAttribute('data-state')))).toEqual([
    'queued',
    'running',
    'succeeded',
  ]);
  await expect(page.getByTestId('job-result-text')).not.toBeEmpty();
  await expect(page.getByTestId('job-cancel')).toHaveCount(0);

  const srt = await download(page, () => page.getByTestId('download-srt').click());
  expect(srt.name).toMatch(/\.srt$/);
  expect(srt.text).toMatch(/^1\r?\n\d\d:\d\d:\d\d,\d{3} --> \d\d:\d\d:\d\d,\d{3}/);
  await expectAccessible(page, 'a finished job');
  await shoot(page, 'job');

  await page.goto('/jobs');
  const row = page.locator(`[data-testid="job-row"][data-job-id="${jobId}"]`);
  await expect(row).toBeVisible();
  await expect(row.getByTestId('job-state')).toHaveText('succeeded');
  await settled(page);
  await shoot(page, 'jobs');
});
