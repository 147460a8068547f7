import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { renderApp } from '../../test/render';
import { server } from '../../test/server';
import type { Job } from './jobsApi';
import { EventStream, job, jobsBackend, jobsHandlers, succeeded } from './testJobs';

function stage(name: string) {
  return screen.getByTestId(`job-stage-${name}`);
}

function historyStates() {
  return within(screen.getByTestId('job-state-history'))
    .getAllByTestId('job-history-item')
    .map((item) => item.getAttribute('data-state'));
}

describe('a job page', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('moves the bars and the state with the events of the job, then shows the result', async () => {
    const queued = job({ id: 'job_live', task: 'both' });
    const backend = jobsBackend([queued]);
    backend.events = new EventStream();
    server.use(...jobsHandlers(backend));
    renderApp('/jobs/job_live');

    expect(await screen.findByTestId('job-state')).toHaveTextContent(/^queued$/);
    expect(within(screen.getByTestId('job-progress')).getAllByTestId(/^job-stage-/)).toHaveLength(4);
    await screen.findByText('live');

    const running: Job = {
      ...queued,
      state: 'running',
      started_at: queued.created_at + 2,
      duration: 13.5,
      progress: {
        decode: { state: 'succeeded', progress: 1 },
        asr: { state: 'running', progress: 0.5 },
        diarization: { state: 'running', progress: 0 },
        merge: { state: 'pending', progress: 0 },
      },
    };
    backend.events.send(running);
    await waitFor(() => expect(screen.getByTestId('job-state')).toHaveTextContent(/^running$/));
    expect(stage('decode')).toHaveAttribute('data-state', 'succeeded');
    expect(within(stage('asr')).getByRole('progressbar')).toHaveAttribute('aria-valuenow', '50');
    expect(stage('merge')).toHaveAttribute('data-state', 'pending');
    expect(historyStates()).toEqual(['queued', 'running']);
    expect(screen.getByTestId('download-srt')).toBeDisabled();

    backend.events.write(': keep-alive\n\n');
    backend.events.send({
      ...running,
      progress: { ...running.progress, asr: { state: 'running', progress: 0.75 } },
    });
    await waitFor(() =>
      expect(within(stage('asr')).getByRole('progressbar')).toHaveAttribute('aria-valuenow', '75'),
    );

    const done = succeeded(running);
    backend.jobs[0] = done;
    backend.events.send(done);
    await waitFor(() => expect(screen.getByTestId('job-state')).toHaveTextContent(/^succeeded$/));
    expect(stage('merge')).toHaveAttribute('data-progress', '1');
    expect(historyStates()).toEqual(['queued', 'running', 'succeeded']);
    expect(screen.queryByTestId('job-cancel')).not.toBeInTheDocument();
    // `both`: the transcript by speaker.
    expect(await screen.findByTestId('job-result-text')).toHaveTextContent('[A] hello [B] there');
    expect(screen.getByTestId('download-srt')).toBeEnabled();
    backend.events.close();
  });

  it('polls when the event stream ends before the job does', async () => {
    const queued = job({ id: 'job_poll' });
    const backend = jobsBackend([queued]);
    backend.events = new EventStream();
    server.use(...jobsHandlers(backend));
    renderApp('/jobs/job_poll');
    await screen.findByText('live');
    backend.events.send(queued);
    backend.events.close();
    expect(await screen.findByText('updated every 2 s')).toBeInTheDocument();

    backend.jobs[0] = succeeded(queued);
    await waitFor(() => expect(screen.getByTestId('job-state')).toHaveTextContent(/^succeeded$/), {
      timeout: 6000,
    });
    expect(await screen.findByTestId('job-result-text')).toHaveTextContent('hello from the job');
  });

  it('cancels the job after a confirmation', async () => {
    const running = job({ id: 'job_stop', state: 'running', started_at: 1 });
    const backend = jobsBackend([running]);
    backend.events = new EventStream();
    server.use(...jobsHandlers(backend));
    renderApp('/jobs/job_stop');

    await userEvent.click(await screen.findByTestId('job-cancel'));
    const dialog = await screen.findByRole('dialog', { name: 'Cancel this job?' });
    await userEvent.click(within(dialog).getByRole('button', { name: 'Keep it' }));
    expect(backend.cancelled).toEqual([]);

    await userEvent.click(screen.getByTestId('job-cancel'));
    await userEvent.click(
      within(await screen.findByRole('dialog', { name: 'Cancel this job?' })).getByRole('button', {
        name: 'Cancel job',
      }),
    );
    await waitFor(() => expect(screen.getByTestId('job-state')).toHaveTextContent(/^cancelled$/));
    expect(backend.cancelled).toEqual(['job_stop']);
    expect(historyStates()).toEqual(['queued', 'running', 'cancelled']);
    expect(screen.queryByTestId('job-cancel')).not.toBeInTheDocument();
    expect(screen.getByText('This job has no result.')).toBeInTheDocument();
  });

  it('downloads each format its task offers, named after the upload', async () => {
    const done = succeeded(job({ id: 'job_dl', filename: 'board meeting.wav' }));
    const backend = jobsBackend([done]);
    server.use(...jobsHandlers(backend));
    const saved: string[] = [];
    const blobs = new Map<string, Blob>();
    const revoked: string[] = [];
    // jsdom has no object URLs: these keep the blobs the page hands to its links.
    vi.stubGlobal(
      'URL',
      Object.assign(class extends URL {}, {
        createObjectURL: (blob: Blob) => {
          const url = `blob:test/${blobs.size}`;
          blobs.set(url, blob);
          return url;
        },
        revokeObjectURL: (url: string) => revoked.push(url),
      }),
    );
    const click = vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (
      this: HTMLAnchorElement,
    ) {
      if (blobs.has(this.getAttribute('href') ?? '')) saved.push(this.download);
    });
    renderApp('/jobs/job_dl');

    expect(await screen.findByTestId('job-result-text')).toHaveTextContent('hello from the job');
    const offered = ['json', 'text', 'srt', 'vtt', 'verbose_json'];
    for (const format of offered) expect(screen.getByTestId(`download-${format}`)).toBeEnabled();
    expect(screen.queryByTestId('download-rttm')).not.toBeInTheDocument();
    expect(screen.queryByTestId('download-diarized_json')).not.toBeInTheDocument();

    await userEvent.click(screen.getByTestId('download-srt'));
    await waitFor(() => expect(saved).toHaveLength(1));
    expect(saved[0]).toBe('board meeting.srt');
    expect(backend.resultFormats.at(-1)).toBe('srt');
    const srt = [...blobs.values()][0];
    expect(await srt?.text()).toContain('00:00:00,000 --> 00:00:13,500');

    await userEvent.click(screen.getByTestId('download-verbose_json'));
    await waitFor(() => expect(saved).toHaveLength(2));
    expect(saved[1]).toBe('board meeting.verbose.json');
    expect(backend.resultFormats.at(-1)).toBe('verbose_json');
    await waitFor(() => expect(revoked).toEqual([...blobs.keys()]));
    expect(click).toHaveBeenCalledTimes(2);
  });

  it('offers JSON and RTTM for a diarization and previews its turns', async () => {
    const done = succeeded(job({ id: 'job_who', task: 'diarize' }));
    server.use(...jobsHandlers(jobsBackend([done])));
    renderApp('/jobs/job_who');
    expect(await screen.findByTestId('download-json')).toBeInTheDocument();
    expect(screen.getByTestId('download-rttm')).toBeInTheDocument();
    expect(screen.queryByTestId('download-srt')).not.toBeInTheDocument();
    expect(screen.queryByText('Model')).not.toBeInTheDocument();
  });

  it('shows why a job failed', async () => {
    const failed = job({
      id: 'job_bad',
      state: 'failed',
      started_at: 1,
      finished_at: 2,
      error: { code: 'unsupported_media_type', message: 'the file is not audio FFmpeg can decode' },
    });
    server.use(...jobsHandlers(jobsBackend([failed])));
    renderApp('/jobs/job_bad');
    const error = await screen.findByTestId('job-error');
    expect(error).toHaveTextContent('unsupported_media_type');
    expect(error).toHaveTextContent('the file is not audio FFmpeg can decode');
    expect(historyStates()).toEqual(['queued', 'running', 'failed']);
    expect(screen.getByTestId('download-srt')).toBeDisabled();
  });

  it('says clearly when there is no such job', async () => {
    server.use(...jobsHandlers(jobsBackend([])));
    renderApp('/jobs/job_missing');
    const notFound = await screen.findByTestId('job-not-found');
    expect(notFound).toHaveTextContent('There is no job job_missing for this key');
    expect(screen.getByRole('heading', { level: 1, name: 'Job not found' })).toBeInTheDocument();
    expect(screen.queryByTestId('job-progress')).not.toBeInTheDocument();
  });
});
