import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { http, HttpResponse } from 'msw';
import { beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';

import type { ServedModel } from '../../../api/types';
import { adminStatus, model, servedModels } from '../../../test/fixtures';
import { renderApp } from '../../../test/render';
import { server } from '../../../test/server';

const served = (id: string): ServedModel => ({
  id,
  object: 'model',
  created: 0,
  owned_by: 'inference-gateway',
  root: id,
  parent: null,
});

const requests: Record<string, unknown>[] = [];
const blobs: Blob[] = [];
let play: MockInstance<HTMLMediaElement['play']>;

/** Audio bytes sent in two chunks, like a sentence-by-sentence stream. */
function audioStream(): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      controller.enqueue(new Uint8Array([0x49, 0x44, 0x33, 1, 2, 3]));
      controller.enqueue(new Uint8Array([4, 5, 6, 7]));
      controller.close();
    },
  });
}

beforeEach(() => {
  requests.length = 0;
  blobs.length = 0;
  server.use(
    http.get('*/v1/models', () =>
      HttpResponse.json({ object: 'list', data: [...servedModels, served('mms-tts'), served('mms-tts-fr')] }),
    ),
    http.get('*/api/admin/status', () =>
      HttpResponse.json(
        adminStatus({
          models: [
            model(),
            model({ key: 'tts', kind: 'tts', served_names: ['mms-tts'] }),
            model({ key: 'tts-fr', kind: 'tts', served_names: ['mms-tts-fr'] }),
            model({ key: 'translation', kind: 'translation', served_names: ['nllb'] }),
          ],
        }),
      ),
    ),
    http.post('*/v1/audio/speech', async ({ request }) => {
      requests.push((await request.json()) as Record<string, unknown>);
      return new HttpResponse(audioStream(), { headers: { 'Content-Type': 'audio/mpeg' } });
    }),
  );
  // jsdom has no object URLs and no media playback (nor Media Source: the page plays after the download).
  URL.createObjectURL = vi.fn((blob: Blob) => {
    blobs.push(blob);
    return `blob:test/${blobs.length}`;
  });
  URL.revokeObjectURL = vi.fn();
  play = vi.spyOn(HTMLMediaElement.prototype, 'play').mockResolvedValue(undefined);
  vi.spyOn(HTMLMediaElement.prototype, 'pause').mockReturnValue(undefined);
});

describe('the speech playground', () => {
  it('offers the speech slots, speaks the text and plays it, with the time to first byte and a download', async () => {
    renderApp('/playground/speech');
    const select = await screen.findByTestId('speech-model');
    await waitFor(() => expect(within(select).getByRole('combobox')).toHaveTextContent('mms-tts'));
    await userEvent.click(within(select).getByRole('combobox'));
    expect((await screen.findAllByRole('option')).map((o) => o.textContent)).toEqual([
      'mms-tts',
      'mms-tts-fr',
    ]);
    await userEvent.keyboard('{Escape}');

    await userEvent.type(screen.getByTestId('speech-text'), 'Hello there');
    expect(screen.getByTestId('speech-counter')).toHaveTextContent('11 / 4096 characters');
    await userEvent.click(screen.getByTestId('speech-submit'));

    const metrics = await screen.findByTestId('speech-metrics');
    expect(metrics).toHaveTextContent(/First audio byte after \d+ ms/);
    expect(metrics).toHaveTextContent('10 B audio/mpeg');
    expect(requests).toEqual([
      { model: 'mms-tts', input: 'Hello there', voice: 'alloy', response_format: 'mp3', speed: 1 },
    ]);
    const player = screen.getByTestId('speech-player');
    expect(player).toHaveAttribute('src', 'blob:test/1');
    expect(play).toHaveBeenCalled();
    const link = screen.getByTestId('speech-download');
    expect(link).toHaveAttribute('href', 'blob:test/1');
    expect(link).toHaveAttribute('download', 'speech.mp3');
    expect(blobs[0]?.size).toBe(10);
  });

  it('sends the format and speed chosen', async () => {
    renderApp('/playground/speech');
    await waitFor(() =>
      expect(within(screen.getByTestId('speech-model')).getByRole('combobox')).toHaveTextContent('mms-tts'),
    );
    await userEvent.click(within(screen.getByTestId('speech-format')).getByRole('combobox'));
    await userEvent.click(await screen.findByRole('option', { name: /^wav/ }));
    const slider = screen.getByRole('slider', { name: /Speed/ });
    slider.focus();
    await userEvent.keyboard('{ArrowRight}{ArrowRight}');
    await userEvent.clear(screen.getByTestId('speech-voice-input'));
    await userEvent.type(screen.getByTestId('speech-voice-input'), 'speaker_1');
    await userEvent.type(screen.getByTestId('speech-text'), 'Hi');
    await userEvent.click(screen.getByTestId('speech-submit'));
    await screen.findByTestId('speech-metrics');
    expect(requests[0]).toEqual({
      model: 'mms-tts',
      input: 'Hi',
      voice: 'speaker_1',
      response_format: 'wav',
      speed: 1.1,
    });
    expect(screen.getByTestId('speech-download')).toHaveAttribute('download', 'speech.wav');
  });

  it("shows an unknown voice's 400 and then offers the voices it lists", async () => {
    server.use(
      http.post('*/v1/audio/speech', () =>
        HttpResponse.json(
          {
            error: {
              message: "voice 'alloy' is not available for mms-tts; use one of speaker_0, speaker_1",
              type: 'invalid_request_error',
              param: 'voice',
              code: null,
            },
          },
          { status: 400 },
        ),
      ),
    );
    renderApp('/playground/speech');
    await waitFor(() =>
      expect(within(screen.getByTestId('speech-model')).getByRole('combobox')).toHaveTextContent('mms-tts'),
    );
    await userEvent.type(screen.getByTestId('speech-text'), 'Hello');
    await userEvent.click(screen.getByTestId('speech-submit'));
    expect(await screen.findByTestId('speech-status')).toHaveTextContent(
      "voice 'alloy' is not available for mms-tts; use one of speaker_0, speaker_1",
    );
    // The free field became a select of the listed voices; Speak waits for a choice.
    const voice = await screen.findByTestId('speech-voice');
    expect(screen.getByTestId('speech-submit')).toBeDisabled();
    await userEvent.click(within(voice).getByRole('combobox'));
    expect((await screen.findAllByRole('option')).map((o) => o.textContent)).toEqual([
      'speaker_0',
      'speaker_1',
    ]);
    await userEvent.click(screen.getByRole('option', { name: 'speaker_1' }));
    expect(screen.getByTestId('speech-submit')).toBeEnabled();
  });

  it('counts the characters and refuses more than 4096', async () => {
    renderApp('/playground/speech');
    await waitFor(() =>
      expect(within(screen.getByTestId('speech-model')).getByRole('combobox')).toHaveTextContent('mms-tts'),
    );
    const text = screen.getByTestId('speech-text');
    await userEvent.click(text);
    await userEvent.paste('a'.repeat(4097));
    expect(screen.getByTestId('speech-counter')).toHaveTextContent('4097 / 4096 characters: too long');
    expect(screen.getByTestId('speech-submit')).toBeDisabled();
    await userEvent.type(text, '{Backspace}');
    expect(screen.getByTestId('speech-submit')).toBeEnabled();
  });

  it('uses the voices the slot reports', async () => {
    server.use(
      http.get('*/api/admin/status', () =>
        HttpResponse.json(
          adminStatus({
            models: [
              model({
                key: 'tts',
                kind: 'tts',
                served_names: ['mms-tts'],
                server: { voices: ['aminata', 'issa'] },
              }),
            ],
          }),
        ),
      ),
    );
    renderApp('/playground/speech');
    const voice = await screen.findByTestId('speech-voice');
    await waitFor(() => expect(within(voice).getByRole('combobox')).toHaveTextContent('aminata'));
    await userEvent.type(screen.getByTestId('speech-text'), 'Hello');
    await userEvent.click(screen.getByTestId('speech-submit'));
    await screen.findByTestId('speech-metrics');
    expect(requests[0]?.voice).toBe('aminata');
  });
});
