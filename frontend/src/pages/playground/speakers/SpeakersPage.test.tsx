import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { http, HttpResponse } from 'msw';
import { beforeEach, describe, expect, it, vi } from 'vitest';

import { envelope } from '../../../test/fixtures';
import { renderApp } from '../../../test/render';
import { server } from '../../../test/server';
import type { Transcription } from './whoSaidWhat';

const TWO_SPEAKERS: Transcription = {
  text: 'Hello there. Hi, how are you? Fine, thanks.',
  sampling_rate: 16000,
  duration: 12,
  language: 'en',
  source_language: 'en',
  source_language_origin: 'default',
  speakers: ['SPEAKER_00', 'SPEAKER_01'],
  segments: [
    { start: 0.5, end: 3, text: 'Hello there.', speaker: 'SPEAKER_00' },
    { start: 3.5, end: 7, text: 'Hi, how are you?', speaker: 'SPEAKER_01' },
    { start: 7.5, end: 11, text: 'Fine, thanks.', speaker: 'SPEAKER_00' },
  ],
  words: [],
};

const NOBODY: Transcription = {
  ...TWO_SPEAKERS,
  text: '',
  speakers: [],
  segments: [],
};

function answerWith(body: Transcription, seen: { url?: URL; form?: FormData } = {}) {
  server.use(
    http.post('*/api/audio/transcribe', async ({ request }) => {
      seen.url = new URL(request.url);
      seen.form = await request.formData();
      return HttpResponse.json(body);
    }),
  );
  return seen;
}

async function chooseAndRun() {
  renderApp('/playground/speakers');
  const input = await screen.findByTestId('speakers-file');
  fireEvent.change(input, {
    target: { files: [new File(['RIFF....WAVE'], 'talk.wav', { type: 'audio/wav' })] },
  });
  expect(await screen.findByText('talk.wav')).toBeInTheDocument();
  await userEvent.click(screen.getByTestId('speakers-submit'));
}

describe('who said what', () => {
  beforeEach(() => {
    // jsdom has no media playback.
    vi.spyOn(window.HTMLMediaElement.prototype, 'play').mockResolvedValue(undefined);
    vi.spyOn(window.HTMLMediaElement.prototype, 'pause').mockImplementation(() => undefined);
  });

  it('draws one lane per speaker with their segments, talk time and the transcript', async () => {
    const seen = answerWith(TWO_SPEAKERS);
    await chooseAndRun();

    const lanes = await screen.findAllByTestId('speaker-lane');
    expect(lanes.map((lane) => lane.getAttribute('data-speaker'))).toEqual(['SPEAKER_00', 'SPEAKER_01']);
    expect(within(lanes[0]!).getAllByTestId('speaker-segment')).toHaveLength(2);
    expect(within(lanes[1]!).getAllByTestId('speaker-segment')).toHaveLength(1);
    expect(screen.getAllByTestId('speaker-segment')).toHaveLength(3);
    // Talk time beside each lane: 2.5 + 3.5 s, and 3.5 s.
    expect(within(lanes[0]!).getByText(/6\.0 s · 63 %/)).toBeInTheDocument();
    expect(within(lanes[1]!).getByText(/3\.5 s · 37 %/)).toBeInTheDocument();
    // The axis in m:ss, and the playhead at the start.
    const timeline = screen.getByTestId('speaker-timeline');
    expect(within(timeline).getByText('0:10')).toBeInTheDocument();
    expect(screen.getByTestId('speaker-playhead')).toBeInTheDocument();

    const transcript = screen.getByTestId('speaker-transcript');
    expect(within(transcript).getAllByRole('button')).toHaveLength(3);
    expect(within(transcript).getByText('Hi, how are you?')).toBeInTheDocument();
    expect(within(transcript).getAllByText('SPEAKER_00')).toHaveLength(2);

    // Diarization with transcription, in one request.
    expect(seen.url?.pathname).toBe('/api/audio/transcribe');
    expect(seen.url?.searchParams.get('diarize')).toBe('true');
    expect(seen.form?.get('file')).toBeTruthy();
    expect(seen.form?.has('num_speakers')).toBe(false);
  });

  it('sends the speaker counts asked for', async () => {
    const seen = answerWith(TWO_SPEAKERS);
    renderApp('/playground/speakers');
    fireEvent.change(await screen.findByTestId('speakers-file'), {
      target: { files: [new File(['x'], 'talk.wav', { type: 'audio/wav' })] },
    });
    await userEvent.click(screen.getByRole('combobox', { name: 'Speakers' }));
    await userEvent.click(
      within(await screen.findByRole('listbox')).getByRole('option', { name: 'Between…' }),
    );
    await userEvent.type(screen.getByRole('spinbutton', { name: 'At least' }), '3');
    await userEvent.type(screen.getByRole('spinbutton', { name: 'At most' }), '2');
    expect(screen.getByText('The fewest speakers must not exceed the most.')).toBeInTheDocument();
    expect(screen.getByTestId('speakers-submit')).toBeDisabled();
    await userEvent.clear(screen.getByRole('spinbutton', { name: 'At least' }));
    await userEvent.type(screen.getByRole('spinbutton', { name: 'At least' }), '2');
    await userEvent.click(screen.getByTestId('speakers-submit'));
    await screen.findAllByTestId('speaker-lane');
    expect(seen.form?.get('min_speakers')).toBe('2');
    expect(seen.form?.get('max_speakers')).toBe('2');
    expect(seen.form?.has('num_speakers')).toBe(false);
  });

  it('seeks the audio to a segment clicked, or a transcript line, and highlights the line played', async () => {
    answerWith(TWO_SPEAKERS);
    await chooseAndRun();
    const segments = await screen.findAllByTestId('speaker-segment');
    const audio = screen.getByTestId<HTMLAudioElement>('speaker-audio');

    // Blocks are buttons in time order of their lane: SPEAKER_01's block starts at 3.5 s.
    const second = screen.getByRole('button', { name: /SPEAKER_01, 0:03 to 0:07/ });
    await userEvent.click(second);
    expect(audio.currentTime).toBe(3.5);
    expect(segments).toContain(second);
    const transcript = screen.getByTestId('speaker-transcript');
    await waitFor(() =>
      expect(within(transcript).getByRole('button', { current: true })).toHaveTextContent('Hi, how are you?'),
    );

    // The keyboard: one Tab stop per lane, arrows move within it, Enter plays.
    const first = screen.getByRole('button', { name: /SPEAKER_00, 0:00 to 0:03/ });
    const last = screen.getByRole('button', { name: /SPEAKER_00, 0:07 to 0:11/ });
    expect(first).toHaveAttribute('tabindex', '0');
    expect(last).toHaveAttribute('tabindex', '-1');
    first.focus();
    await userEvent.keyboard('{ArrowRight}');
    expect(last).toHaveFocus();
    await userEvent.keyboard('{Enter}');
    expect(audio.currentTime).toBe(7.5);
    await userEvent.keyboard('{Home}');
    expect(first).toHaveFocus();
    await userEvent.keyboard(' ');
    expect(audio.currentTime).toBe(0.5);

    // A transcript line.
    await userEvent.click(within(transcript).getByRole('button', { name: /Hello there/ }));
    expect(audio.currentTime).toBe(0.5);
    await waitFor(() =>
      expect(within(transcript).getByRole('button', { current: true })).toHaveTextContent('Hello there.'),
    );
  });

  it('says so when no speaker is found', async () => {
    answerWith(NOBODY);
    await chooseAndRun();
    const timeline = await screen.findByTestId('speaker-timeline');
    expect(within(timeline).getByText(/No speaker found/)).toBeInTheDocument();
    expect(screen.queryAllByTestId('speaker-lane')).toHaveLength(0);
    expect(
      within(screen.getByTestId('speaker-transcript')).getByText('No words were transcribed.'),
    ).toBeInTheDocument();
  });

  it("shows the server's message when the run fails", async () => {
    server.use(
      http.post('*/api/audio/transcribe', () =>
        HttpResponse.json(envelope('the file could not be decoded as audio (Invalid data found)'), {
          status: 415,
        }),
      ),
    );
    await chooseAndRun();
    const status = screen.getByTestId('speakers-status');
    await waitFor(() => expect(status).toHaveTextContent('the file could not be decoded as audio'));
    expect(screen.queryByTestId('speaker-timeline')).not.toBeInTheDocument();
  });

  it('waits for a model that is loading and tries again', async () => {
    let calls = 0;
    server.use(
      http.post('*/api/audio/transcribe', () => {
        calls += 1;
        if (calls === 1) {
          return HttpResponse.json(
            envelope(
              "model 'pyannote' is loading (loading, 40%); retry shortly",
              'service_unavailable_error',
              'model_loading',
            ),
            { status: 503, headers: { 'Retry-After': '1' } },
          );
        }
        return HttpResponse.json(TWO_SPEAKERS);
      }),
    );
    await chooseAndRun();
    const status = screen.getByTestId('speakers-status');
    await waitFor(() => expect(status).toHaveTextContent(/is loading.*Trying again in/));
    expect(await screen.findAllByTestId('speaker-lane')).toHaveLength(2);
    expect(calls).toBe(2);
    expect(status).toBeEmptyDOMElement();
  });

  it('explains a model that is not loaded', async () => {
    server.use(
      http.post('*/api/audio/transcribe', () =>
        HttpResponse.json(
          envelope(
            "model 'pyannote' is not loaded; load it with POST /api/admin/models/pyannote/load",
            'service_unavailable_error',
            'model_not_loaded',
          ),
          { status: 503 },
        ),
      ),
    );
    await chooseAndRun();
    const status = screen.getByTestId('speakers-status');
    await waitFor(() => expect(status).toHaveTextContent(/not loaded.*load it on the Models page/));
    expect(within(status).getByRole('link', { name: 'Open Models' })).toHaveAttribute('href', '/models');
    expect(within(status).getByRole('button', { name: 'Try again' })).toBeInTheDocument();
  });
});
