import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { http, HttpResponse } from 'msw';
import { describe, expect, it, vi } from 'vitest';

import { adminMe, clientMe } from '../../test/fixtures';
import { fakeMatchMedia } from '../../test/media';
import { renderApp } from '../../test/render';
import { server } from '../../test/server';
import { job, jobsBackend, jobsHandlers, succeeded } from './testJobs';

function asClient() {
  server.use(http.get('*/api/auth/me', () => HttpResponse.json(clientMe)));
}

const running = job({
  id: 'job_run',
  filename: 'meeting.flac',
  task: 'both',
  state: 'running',
  started_at: 1,
  progress: {
    decode: { state: 'succeeded', progress: 1 },
    asr: { state: 'running', progress: 0.4 },
    diarization: { state: 'running', progress: 0 },
    merge: { state: 'pending', progress: 0 },
  },
});
const done = succeeded(job({ id: 'job_done', filename: 'talk.wav' }));
const othersJob = succeeded(job({ id: 'job_other', owner: 'crm', filename: 'call.mp3' }));

describe('the jobs page', () => {
  it('submits a file with its task and options, then opens the job', async () => {
    const backend = jobsBackend();
    server.use(...jobsHandlers(backend));
    const { router } = renderApp('/jobs');
    expect(await screen.findByText('No job yet: submit a file above.')).toBeInTheDocument();
    expect(screen.getByTestId('job-submit')).toBeDisabled();

    const file = new File([new Uint8Array(64)], 'interview.wav', { type: 'audio/wav' });
    await userEvent.upload(screen.getByTestId('job-file'), file);
    expect(screen.getByText('interview.wav')).toBeInTheDocument();
    await userEvent.click(within(screen.getByTestId('job-task')).getByRole('combobox'));
    await userEvent.click(await screen.findByRole('option', { name: /^Both/ }));
    await userEvent.type(screen.getByLabelText('ASR model'), 'whisper');
    await userEvent.type(screen.getByLabelText('Language'), 'de');
    await userEvent.type(screen.getByLabelText('At most'), '3');
    await userEvent.click(screen.getByTestId('job-submit'));

    await waitFor(() => expect(router.state.location.pathname).toBe('/jobs/job_1'));
    const form = backend.submitted[0];
    expect(form?.get('task')).toBe('both');
    // (jsdom's File reaches Node's fetch without its name: the bytes are what can be checked here.)
    expect((form?.get('file') as Blob).size).toBe(64);
    expect(form?.get('model')).toBe('whisper');
    expect(form?.get('language')).toBe('de');
    expect(form?.get('max_speakers')).toBe('3');
    expect(form?.has('target_language')).toBe(false);
    expect(form?.has('num_speakers')).toBe(false);
    expect(await screen.findByText(/job_1/)).toBeInTheDocument();
    expect(screen.getByTestId('job-state')).toHaveTextContent(/^queued$/);
  });

  it("shows the gateway's refusal of a submission", async () => {
    const backend = jobsBackend();
    server.use(...jobsHandlers(backend));
    server.use(
      http.post('*/api/jobs', () =>
        HttpResponse.json(
          {
            error: {
              message: "The model 'nope' does not exist",
              type: 'invalid_request_error',
              param: 'model',
              code: 'model_not_found',
            },
          },
          { status: 404 },
        ),
      ),
    );
    const { router } = renderApp('/jobs');
    await userEvent.upload(await screen.findByTestId('job-file'), new File(['x'], 'a.wav'));
    await userEvent.clear(screen.getByLabelText('ASR model'));
    await userEvent.type(screen.getByLabelText('ASR model'), 'nope');
    await userEvent.click(screen.getByTestId('job-submit'));
    expect(await screen.findByText("The model 'nope' does not exist")).toBeInTheDocument();
    expect(router.state.location.pathname).toBe('/jobs');
  });

  it("lists a client's own jobs, newest first, with state and progress", async () => {
    asClient();
    server.use(...jobsHandlers(jobsBackend([running, done, othersJob])));
    renderApp('/jobs');
    expect(await screen.findByRole('heading', { name: 'Your jobs' })).toBeInTheDocument();
    const rows = await screen.findAllByTestId('job-row');
    expect(rows.map((row) => row.getAttribute('data-job-id'))).toEqual(['job_run', 'job_done']);
    expect(within(rows[0]!).getByTestId('job-state')).toHaveTextContent(/^running$/);
    expect(within(rows[0]!).getByTestId('job-stage-asr')).toHaveAttribute('data-progress', '0.4');
    expect(within(rows[0]!).getByTestId('job-stage-diarization')).toHaveAttribute('data-state', 'running');
    expect(within(rows[1]!).getByTestId('job-state')).toHaveTextContent(/^succeeded$/);
    expect(rows[1]).toHaveTextContent('14 s');
    expect(screen.queryByRole('columnheader', { name: 'Owner' })).not.toBeInTheDocument();
    // Only unfinished jobs can be cancelled.
    expect(within(rows[0]!).getByTestId('job-cancel')).toBeInTheDocument();
    expect(within(rows[1]!).queryByTestId('job-cancel')).not.toBeInTheDocument();
  });

  it("shows an admin every client's jobs with their owner", async () => {
    server.use(http.get('*/api/auth/me', () => HttpResponse.json(adminMe)));
    server.use(...jobsHandlers(jobsBackend([running, done, othersJob]), { admin: true }));
    renderApp('/jobs');
    expect(await screen.findByRole('heading', { name: 'All jobs' })).toBeInTheDocument();
    await waitFor(() => expect(screen.getAllByTestId('job-row')).toHaveLength(3));
    expect(screen.getByRole('columnheader', { name: 'Owner' })).toBeInTheDocument();
    const other = screen.getAllByTestId('job-row').find((row) => row.dataset.jobId === 'job_other');
    expect(other).toHaveTextContent('crm');
  });

  it('opens a job with a click or with Enter', async () => {
    asClient();
    server.use(...jobsHandlers(jobsBackend([running, done])));
    const { router } = renderApp('/jobs');
    const rows = await screen.findAllByTestId('job-row');
    await userEvent.click(within(rows[1]!).getByText('talk.wav'));
    await waitFor(() => expect(router.state.location.pathname).toBe('/jobs/job_done'));

    await act(() => router.navigate('/jobs'));
    const again = await screen.findAllByTestId('job-row');
    again[0]!.focus();
    await userEvent.keyboard('{Enter}');
    await waitFor(() => expect(router.state.location.pathname).toBe('/jobs/job_run'));
  });

  it('cancels an unfinished job from its row after a confirmation, without opening it', async () => {
    asClient();
    const backend = jobsBackend([{ ...running }, done]);
    server.use(...jobsHandlers(backend));
    const { router } = renderApp('/jobs');
    const row = (await screen.findAllByTestId('job-row'))[0]!;
    await userEvent.click(within(row).getByTestId('job-cancel'));
    const dialog = await screen.findByRole('dialog', { name: 'Cancel this job?' });
    await userEvent.click(within(dialog).getByRole('button', { name: 'Cancel job' }));
    await waitFor(() => expect(backend.cancelled).toEqual(['job_run']));
    await waitFor(() =>
      expect(within(screen.getAllByTestId('job-row')[0]!).getByTestId('job-state')).toHaveTextContent(
        'cancelled',
      ),
    );
    expect(router.state.location.pathname).toBe('/jobs');
  });

  it('refreshes itself while a job is queued or running', async () => {
    asClient();
    const backend = jobsBackend([{ ...running }]);
    server.use(...jobsHandlers(backend));
    renderApp('/jobs');
    const row = (await screen.findAllByTestId('job-row'))[0]!;
    expect(within(row).getByTestId('job-state')).toHaveTextContent('running');
    backend.jobs[0] = succeeded(running);
    await waitFor(
      () =>
        expect(within(screen.getAllByTestId('job-row')[0]!).getByTestId('job-state')).toHaveTextContent(
          'succeeded',
        ),
      { timeout: 6000 },
    );
  });

  it('shows one card per job on a phone', async () => {
    asClient();
    server.use(...jobsHandlers(jobsBackend([running, done])));
    // A 390-pixel screen: every `max-width` query of the theme's breakpoints matches.
    vi.spyOn(window, 'matchMedia').mockImplementation(fakeMatchMedia((query) => query.includes('max-width')));
    renderApp('/jobs');
    const cards = await screen.findAllByTestId('job-row');
    expect(cards.map((card) => card.tagName)).toEqual(['LI', 'LI']);
    expect(screen.queryByRole('table')).not.toBeInTheDocument();
    expect(within(cards[0]!).getByTestId('job-progress')).toBeInTheDocument();
    expect(within(cards[0]!).getByTestId('job-cancel')).toBeInTheDocument();
  });
});
