/**
 * Jobs: a running job is cancelled; a transcription job goes queued, running, succeeded, with per-stage
 * progress, and its SRT downloads.
 *
 * The tiny ASR model transcribes a minute of audio in about a second: the job to cancel has 20 minutes of
 * audio, which keeps it running for many seconds whether or not the model was loaded before.
 */
import { type Page } from '@playwright/test';

import { writeTwoVoicesWav } from './audio';
import { ADMIN_KEY } from './env';
import { download, expect, expectAccessible, settled, shoot, signedInAs, test } from './fixtures';

test.use(signedInAs(ADMIN_KEY));

/** Submits `wav` from the Jobs page and waits for the job's own page; returns the job's id. */
async function submitJob(page: Page, wav: string, fileName: string): Promise<string> {
  await page.goto('/jobs');
  await settled(page);
  await page.getByTestId('job-file').setInputFiles(wav);
  await page.getByTestId('job-task').getByRole('combobox').click();
  await page.getByRole('option', { name: /^Transcribe/ }).click();
  await page.getByTestId('job-submit').click();
  await expect(page).toHaveURL(/\/jobs\/[^/]+$/);
  await expect(page.getByRole('heading', { level: 1, name: fileName })).toBeVisible();
  return decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);
}

test('a running job is cancelled', async ({ page }, testInfo) => {
  const wav = testInfo.outputPath('long-call.wav');
  writeTwoVoicesWav(wav, 540); // 20 min
  await submitJob(page, wav, 'long-call.wav');
  const state = page.getByTestId('job-state');
  await expect(state).toHaveText(/^(queued|running)$/);
  await expectAccessible(page, 'a running job');
  await page.getByTestId('job-cancel').click();
  await page
    .getByRole('dialog', { name: 'Cancel this job?' })
    .getByRole('button', { name: 'Cancel job' })
    .click();
  await expect(state).toHaveText('cancelled');
  const history = page.getByTestId('job-state-history').getByTestId('job-history-item');
  await expect(history.last()).toHaveAttribute('data-state', 'cancelled');
  await expect(page.getByTestId('job-cancel')).toHaveCount(0);
  await expect(page.getByTestId('download-srt')).not.toBeEnabled();
});

test('a job goes queued → running → succeeded with progress, and its SRT downloads', async ({
  page,
}, testInfo) => {
  const wav = testInfo.outputPath('meeting.wav');
  writeTwoVoicesWav(wav, 16); // 36 s
  const jobId = await submitJob(page, wav, 'meeting.wav');

  // Followed live from the job's event stream: no reload.
  const state = page.getByTestId('job-state');
  await expect(state).toHaveText('succeeded', { timeout: 90_000 });
  const progress = page.getByTestId('job-progress');
  for (const stage of ['decode', 'asr', 'merge']) {
    await expect(progress.getByTestId(`job-stage-${stage}`)).toHaveAttribute('data-state', 'succeeded');
    await expect(progress.getByTestId(`job-stage-${stage}`)).toHaveAttribute('data-progress', '1');
  }
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

  // The list shows it with its final state.
  await page.getByRole('link', { name: 'Jobs', exact: true }).click();
  const row = page.locator(`[data-testid="job-row"][data-job-id="${jobId}"]`);
  await expect(row).toBeVisible();
  await expect(row.getByTestId('job-state')).toHaveText('succeeded');
  await settled(page);
  await expectAccessible(page, 'Jobs');
  await shoot(page, 'jobs');
});
