import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { http, HttpResponse } from 'msw';
import { beforeEach, describe, expect, it, vi } from 'vitest';

import type { ServedModel } from '../../api/types';
import { adminStatus, envelope, model, servedModels } from '../../test/fixtures';
import { renderApp } from '../../test/render';
import { server } from '../../test/server';

const speechModels: ServedModel[] = ['nvidia/canary-1b-v2', 'canary', 'whisper-1'].map((id) => ({
  id,
  object: 'model',
  created: 0,
  owned_by: 'inference-gateway',
  root: 'nvidia/canary-1b-v2',
  parent: null,
}));

const verbose = {
  task: 'transcribe',
  language: 'english',
  duration: 4.5,
  text: 'Hello there. General Kenobi.',
  segments: [
    {
      id: 0,
      seek: 0,
      start: 0,
      end: 1.8,
      text: 'Hello there.',
      tokens: [],
      temperature: 0,
      avg_logprob: 0,
      compression_ratio: 0,
      no_speech_prob: 0,
    },
    {
      id: 1,
      seek: 0,
      start: 2.1,
      end: 4.5,
      text: 'General Kenobi.',
      tokens: [],
      temperature: 0,
      avg_logprob: 0,
      compression_ratio: 0,
      no_speech_prob: 0,
    },
  ],
  source_language: 'en',
  source_language_origin: 'detected',
};

const blobs: Blob[] = [];
const saved: string[] = [];

beforeEach(() => {
  blobs.length = 0;
  saved.length = 0;
  server.use(
    http.get('*/v1/models', () =>
      HttpResponse.json({ object: 'list', data: [...servedModels, ...speechModels] }),
    ),
  );
  // jsdom has no object URLs, no media playback and no navigation for downloads.
  URL.createObjectURL = vi.fn((blob: Blob) => {
    blobs.push(blob);
    return `blob:test/${blobs.length}`;
  });
  URL.revokeObjectURL = vi.fn();
  vi.spyOn(HTMLMediaElement.prototype, 'play').mockResolvedValue(undefined);
  vi.spyOn(HTMLMediaElement.prototype, 'pause').mockReturnValue(undefined);
  vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
    saved.push(this.download);
  });
});

/** jsdom's Blob has no text(); FileReader reads it. */
function readBlob(blob: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result as string);
    reader.onerror = () => reject(new Error('unreadable blob'));
    reader.readAsText(blob);
  });
}

async function chooseFile(name = 'meeting.wav') {
  renderApp('/playground/transcribe');
  await waitFor(() =>
    expect(screen.getByRole('combobox', { name: 'Model' })).toHaveTextContent('nvidia/canary-1b-v2'),
  );
  const file = new File([new Uint8Array([82, 73, 70, 70, 0, 0, 0, 0])], name, { type: 'audio/wav' });
  await userEvent.upload(screen.getByTestId('transcribe-file'), file);
  return file;
}

describe('the transcription playground', () => {
  it('uploads a file and shows the text, the segments and the downloads', async () => {
    let form: FormData | null = null;
    server.use(
      http.post('*/v1/audio/transcriptions', async ({ request }) => {
        form = await request.formData();
        return HttpResponse.json(verbose);
      }),
    );
    await chooseFile();
    expect(screen.getByLabelText('Player for meeting.wav')).toBeInTheDocument();
    await userEvent.click(screen.getByTestId('transcribe-submit'));

    expect(await screen.findByTestId('transcript-text')).toHaveTextContent('Hello there. General Kenobi.');
    expect(screen.getByTestId('transcribe-status')).toHaveTextContent(/^Done in/);
    const sent = form as FormData | null;
    expect(sent?.get('model')).toBe('nvidia/canary-1b-v2');
    expect(sent?.get('response_format')).toBe('verbose_json');
    expect(sent?.getAll('timestamp_granularities[]')).toEqual(['segment']);
    expect(sent?.get('language')).toBeNull(); // auto
    expect((sent?.get('file') as Blob | null)?.size).toBe(8);

    const facts = screen.getByTestId('transcript-facts');
    expect(facts).toHaveTextContent('Detected language: English (en)');
    expect(facts).toHaveTextContent('Duration: 4.5 s');

    const rows = within(screen.getByTestId('segments-table')).getAllByTestId('segment-row');
    expect(rows).toHaveLength(2);
    expect(rows[1]).toHaveTextContent('0:02.10');
    expect(rows[1]).toHaveTextContent('General Kenobi.');

    // A row seeks the player (and is marked as playing).
    await userEvent.click(rows[1]!);
    expect(screen.getByLabelText<HTMLAudioElement>('Player for meeting.wav').currentTime).toBeCloseTo(2.1);
    expect(rows[1]).toHaveClass('Mui-selected');
  });

  it('downloads SRT, VTT and JSON named after the upload', async () => {
    server.use(http.post('*/v1/audio/transcriptions', () => HttpResponse.json(verbose)));
    await chooseFile();
    await userEvent.click(screen.getByTestId('transcribe-submit'));
    await screen.findByTestId('transcript-text');
    for (const id of ['download-srt', 'download-vtt', 'download-json'])
      expect(screen.getByTestId(id)).toBeEnabled();
    await userEvent.click(screen.getByTestId('download-srt'));
    await userEvent.click(screen.getByTestId('download-vtt'));
    await userEvent.click(screen.getByTestId('download-json'));
    expect(saved).toEqual(['meeting.srt', 'meeting.vtt', 'meeting.json']);
    const texts = await Promise.all(blobs.slice(-3).map(readBlob));
    expect(texts[0]).toBe(
      '1\n00:00:00,000 --> 00:00:01,800\nHello there.\n\n2\n00:00:02,100 --> 00:00:04,500\nGeneral Kenobi.\n',
    );
    expect(texts[1]).toMatch(/^WEBVTT\n\n00:00:00\.000 --> 00:00:01\.800\nHello there\.\n/);
    expect(JSON.parse(texts[2]!)).toEqual(verbose);
  });

  it('handles an empty transcript gracefully', async () => {
    server.use(
      http.post('*/v1/audio/transcriptions', () =>
        HttpResponse.json({ ...verbose, text: '', segments: [], duration: 1 }),
      ),
    );
    await chooseFile('silence.wav');
    await userEvent.click(screen.getByTestId('transcribe-submit'));
    expect(await screen.findByText(/The model returned no text/)).toBeInTheDocument();
    expect(screen.getByTestId('transcript-text')).toHaveTextContent('');
    expect(screen.getByTestId('segments-table')).toHaveTextContent('No segment');
    expect(screen.getByTestId('download-srt')).toBeEnabled();
  });

  it('asks for srt and reads the subtitles back into segments', async () => {
    server.use(
      http.post('*/v1/audio/transcriptions', () =>
        HttpResponse.text(
          '1\n00:00:00,000 --> 00:00:01,500\nBonjour\n\n2\n00:00:01,500 --> 00:00:03,000\nà tous\n',
        ),
      ),
    );
    await chooseFile();
    await userEvent.click(screen.getByRole('combobox', { name: 'Response format' }));
    await userEvent.click(
      within(await screen.findByRole('listbox')).getByRole('option', { name: 'srt (subtitles)' }),
    );
    await userEvent.click(screen.getByTestId('transcribe-submit'));
    expect(await screen.findByTestId('transcript-text')).toHaveTextContent('Bonjour à tous');
    expect(within(screen.getByTestId('segments-table')).getAllByTestId('segment-row')).toHaveLength(2);
  });

  it('translates into another language through the gateway route', async () => {
    let form: FormData | null = null;
    server.use(
      http.post('*/api/audio/transcribe', async ({ request }) => {
        form = await request.formData();
        return HttpResponse.json({
          text: 'Hallo zusammen',
          sampling_rate: 16000,
          duration: 2,
          language: 'de',
          source_language: 'en',
          source_language_origin: 'request',
          segments: [{ start: 0, end: 2, text: 'Hallo zusammen' }],
          words: [
            { start: 0, end: 1, word: 'Hallo' },
            { start: 1, end: 2, word: 'zusammen' },
          ],
        });
      }),
    );
    await chooseFile();
    await userEvent.click(screen.getByRole('combobox', { name: 'Translate into' }));
    await userEvent.click(
      within(await screen.findByRole('listbox')).getByRole('option', { name: 'German (de)' }),
    );
    await userEvent.click(screen.getByTestId('transcribe-submit'));
    expect(await screen.findByTestId('transcript-text')).toHaveTextContent('Hallo zusammen');
    const sent = form as FormData | null;
    expect(sent?.get('target_language')).toBe('de');
    expect(sent?.get('timestamps')).toBe('true');
    expect(screen.getByTestId('transcript-facts')).toHaveTextContent('Text in: German');
    expect(screen.getByRole('heading', { name: 'Words (2)' })).toBeInTheDocument();
  });

  it("waits for a loading model, then shows the server's message for an error", async () => {
    let calls = 0;
    server.use(
      http.post('*/v1/audio/transcriptions', () => {
        calls += 1;
        if (calls === 1) {
          return HttpResponse.json(
            envelope('model is loading', 'service_unavailable_error', 'model_loading'),
            {
              status: 503,
              headers: { 'Retry-After': '1' },
            },
          );
        }
        return HttpResponse.json(
          envelope(
            'the file is not audio ffmpeg can decode',
            'invalid_request_error',
            'unsupported_media_type',
          ),
          {
            status: 415,
          },
        );
      }),
    );
    await chooseFile('notes.txt');
    await userEvent.click(screen.getByTestId('transcribe-submit'));
    expect(await screen.findByTestId('transcribe-status')).toHaveTextContent(
      'Model loading — retrying in 1 s',
    );
    await waitFor(() =>
      expect(screen.getByTestId('transcribe-status')).toHaveTextContent(
        'the file is not audio ffmpeg can decode',
      ),
    );
    expect(calls).toBe(2);
    expect(screen.queryByTestId('transcript-text')).not.toBeInTheDocument();
  });

  it('explains a refused microphone', async () => {
    Object.defineProperty(navigator, 'mediaDevices', {
      configurable: true,
      value: {
        getUserMedia: vi.fn().mockRejectedValue(new DOMException('Permission denied', 'NotAllowedError')),
      },
    });
    vi.stubGlobal('MediaRecorder', class {});
    try {
      renderApp('/playground/transcribe');
      const record = await screen.findByTestId('transcribe-record');
      expect(screen.queryByTestId('mic-help')).not.toBeInTheDocument();
      await userEvent.click(record);
      expect(await screen.findByTestId('mic-help')).toHaveTextContent(
        /Permission to use the microphone was denied/,
      );
    } finally {
      Reflect.deleteProperty(navigator, 'mediaDevices');
      vi.unstubAllGlobals();
    }
  });

  it('says plainly that the microphone needs HTTPS or localhost', async () => {
    // Plain HTTP from another host: browsers leave navigator.mediaDevices out.
    Object.defineProperty(window, 'isSecureContext', { configurable: true, value: false });
    try {
      renderApp('/playground/transcribe');
      expect(await screen.findByTestId('mic-help')).toHaveTextContent(
        /only allows the microphone on HTTPS or on localhost/,
      );
      expect(screen.getByTestId('transcribe-record')).toBeDisabled();
    } finally {
      Reflect.deleteProperty(window, 'isSecureContext');
    }
  });
});

describe('the transcription playground with Whisper', () => {
  const whisperServed: ServedModel = {
    id: 'whisper',
    object: 'model',
    created: 0,
    owned_by: 'inference-gateway',
    root: 'whisper',
    parent: null,
  };

  beforeEach(() => {
    server.use(
      http.get('*/v1/models', () =>
        HttpResponse.json({ object: 'list', data: [...servedModels, ...speechModels, whisperServed] }),
      ),
      http.get('*/api/admin/status', () =>
        HttpResponse.json(
          adminStatus({
            models: [
              model(),
              model({
                key: 'canary',
                kind: 'asr',
                model_id: 'nvidia/canary-1b-v2',
                served_names: ['nvidia/canary-1b-v2', 'canary', 'whisper-1'],
                server: { detects_language: false },
              }),
              model({
                key: 'whisper',
                kind: 'asr',
                model_id: 'openai/whisper-large-v3-turbo',
                served_names: ['whisper'],
                state: 'loaded',
                server: { detects_language: true, languages: ['en', 'fr', 'yo'], translates_to: ['en'] },
              }),
            ],
          }),
        ),
      ),
    );
  });

  async function options(testId: string): Promise<string[]> {
    await userEvent.click(within(screen.getByTestId(testId)).getByRole('combobox'));
    const names = (await screen.findAllByRole('option')).map((o) => o.textContent ?? '');
    await userEvent.keyboard('{Escape}');
    return names;
  }

  it('lists every ASR slot; a model that detects the language offers "Detect automatically"', async () => {
    renderApp('/playground/transcribe');
    const modelSelect = await screen.findByRole('combobox', { name: 'Model' });
    await waitFor(() => expect(modelSelect).toHaveTextContent('nvidia/canary-1b-v2'));
    await userEvent.click(modelSelect);
    const names = (await screen.findAllByRole('option')).map((o) => o.textContent);
    expect(names).toEqual([
      'nvidia/canary-1b-v2',
      'canary(alias of nvidia/canary-1b-v2)',
      'whisper-1(alias of nvidia/canary-1b-v2)',
      'whisper',
    ]);
    await userEvent.keyboard('{Escape}');
    // Canary does not detect: its empty choice is the gateway's default, among its own languages.
    const canary = await options('transcribe-language');
    expect(canary[0]).toBe("The gateway's default");
    expect(canary).toContain('German (de)');

    await userEvent.click(modelSelect);
    await userEvent.click(await screen.findByRole('option', { name: 'whisper' }));
    const whisper = await options('transcribe-language');
    expect(whisper).toEqual(['Detect automatically', 'English (en)', 'French (fr)', 'Yoruba (yo)']);
    expect(await options('transcribe-target')).toEqual(['No translation', 'English (en)']);
  });

  it('shows the language Whisper detected', async () => {
    let form: FormData | null = null;
    server.use(
      http.post('*/v1/audio/transcriptions', async ({ request }) => {
        form = await request.formData();
        return HttpResponse.json({ ...verbose, language: 'french', source_language: 'fr' });
      }),
    );
    renderApp('/playground/transcribe');
    const modelSelect = await screen.findByRole('combobox', { name: 'Model' });
    await waitFor(() => expect(modelSelect).toHaveTextContent('nvidia/canary-1b-v2'));
    await userEvent.click(modelSelect);
    await userEvent.click(await screen.findByRole('option', { name: 'whisper' }));
    const file = new File([new Uint8Array([82, 73, 70, 70])], 'bonjour.wav', { type: 'audio/wav' });
    await userEvent.upload(screen.getByTestId('transcribe-file'), file);
    await userEvent.click(screen.getByTestId('transcribe-submit'));
    expect(await screen.findByTestId('detected-language')).toHaveTextContent(
      'Detected language: French (fr)',
    );
    const sent = form as FormData | null;
    expect(sent?.get('model')).toBe('whisper');
    expect(sent?.get('language')).toBeNull();
  });
});
