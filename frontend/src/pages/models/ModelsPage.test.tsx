import { screen, within } from '@testing-library/react';
import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';

import { adminStatus, model } from '../../test/fixtures';
import { renderApp } from '../../test/render';
import { server } from '../../test/server';

/** A models file's gateway: two slots of some roles, the new families, and a kind this dashboard predates. */
const slots = [
  model({ key: 'qwen', kind: 'llm' }),
  model({
    key: 'mistral',
    kind: 'llm',
    model_id: 'burkimbia/BIA-MISTRAL-7B-SACHI',
    served_names: ['mistral'],
  }),
  model({ key: 'canary', kind: 'asr', model_id: 'nvidia/canary-1b-v2', served_names: ['canary'] }),
  model({
    key: 'whisper',
    kind: 'asr',
    model_id: 'openai/whisper-large-v3-turbo',
    served_names: ['whisper'],
  }),
  model({
    key: 'whisper-sachi',
    kind: 'asr',
    model_id: 'burkimbia/BIA-WHISPER-LARGE-SACHI_V2',
    served_names: ['whisper-sachi'],
  }),
  model({ key: 'pyannote', kind: 'diarization', served_names: ['pyannote'] }),
  model({
    key: 'translation',
    kind: 'translation',
    model_id: 'facebook/nllb-200-distilled-600M',
    served_names: ['nllb'],
  }),
  model({ key: 'tts', kind: 'tts', model_id: 'facebook/mms-tts-mos', served_names: ['mms-tts'] }),
  model({ key: 'embedder', kind: 'embedding', model_id: 'some/embedder', served_names: ['embedder'] }),
];

describe('the Models page', () => {
  it('has a card for every slot, whatever its kind and however many of a kind', async () => {
    server.use(http.get('*/api/admin/status', () => HttpResponse.json(adminStatus({ models: slots }))));
    renderApp('/models');
    expect(await screen.findByTestId('model-card-whisper-sachi')).toBeInTheDocument();
    const cards = screen.getAllByTestId(/^model-card-/);
    expect(cards.map((card) => card.dataset.testid)).toEqual(slots.map((s) => `model-card-${s.key}`));

    const kindOf = (key: string) => within(screen.getByTestId(`model-card-${key}`)).getByTestId('model-kind');
    expect(kindOf('qwen')).toHaveTextContent('Language model');
    expect(kindOf('mistral')).toHaveTextContent('Language model');
    expect(kindOf('whisper')).toHaveTextContent('Speech recognition');
    expect(kindOf('translation')).toHaveTextContent('Translation');
    expect(kindOf('tts')).toHaveTextContent('Text to speech');
    // A kind added to the gateway later still gets its card, under its own name.
    expect(kindOf('embedder')).toHaveTextContent('embedding');
    for (const key of ['translation', 'tts', 'embedder']) {
      expect(kindOf(key).querySelector('svg')).not.toBeNull();
      const card = screen.getByTestId(`model-card-${key}`);
      expect(within(card).getByRole('heading', { name: key })).toBeInTheDocument();
      expect(within(card).getByRole('button', { name: 'Load' })).toBeEnabled();
    }
  });
});
