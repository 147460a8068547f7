import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { http, HttpResponse } from 'msw';
import { beforeEach, describe, expect, it } from 'vitest';

import type { ServedModel } from '../../../api/types';
import { adminStatus, clientMe, envelope, model, servedModels } from '../../../test/fixtures';
import { renderApp } from '../../../test/render';
import { server } from '../../../test/server';

const served = (id: string, root = id): ServedModel => ({
  id,
  object: 'model',
  created: 0,
  owned_by: 'inference-gateway',
  root,
  parent: null,
});

const languages = {
  object: 'translation.languages',
  model: 'nllb',
  codes: ['eng_Latn', 'fra_Latn', 'moor_Latn'],
  aliases: { en: 'eng_Latn', english: 'eng_Latn', fr: 'fra_Latn', french: 'fra_Latn', moore: 'moor_Latn' },
};

const requests: unknown[] = [];

beforeEach(() => {
  requests.length = 0;
  server.use(
    http.get('*/v1/models', () =>
      HttpResponse.json({
        object: 'list',
        data: [...servedModels, served('nllb'), served('bia-nllb'), served('mms-tts')],
      }),
    ),
    http.get('*/api/admin/status', () =>
      HttpResponse.json(
        adminStatus({
          models: [
            model(),
            model({ key: 'translation', kind: 'translation', served_names: ['nllb'] }),
            model({ key: 'bia', kind: 'translation', served_names: ['bia-nllb'] }),
            model({ key: 'tts', kind: 'tts', served_names: ['mms-tts'] }),
          ],
        }),
      ),
    ),
    http.get('*/v1/translate/languages', ({ request }) =>
      HttpResponse.json({ ...languages, model: new URL(request.url).searchParams.get('model') }),
    ),
    http.post('*/v1/translate', async ({ request }) => {
      const body = (await request.json()) as { text: string | string[]; src_lang: string; tgt_lang: string };
      requests.push(body);
      const texts = typeof body.text === 'string' ? [body.text] : body.text;
      return HttpResponse.json({
        id: 'tr-1',
        object: 'translation',
        created: 0,
        model: 'nllb',
        src_lang: body.src_lang,
        tgt_lang: body.tgt_lang,
        translations: texts.map((t) => `[${body.tgt_lang}] ${t}`),
        usage: { input_tokens: 7, output_tokens: 9, total_tokens: 16 },
      });
    }),
  );
});

async function pickLanguage(testId: string, typed: string, option: RegExp) {
  const input = await screen.findByTestId(testId);
  await userEvent.clear(input);
  await userEvent.type(input, typed);
  await userEvent.click(await screen.findByRole('option', { name: option }));
}

describe('the translation playground', () => {
  it('offers only the translation slots and the languages of the chosen one', async () => {
    renderApp('/playground/translate');
    const select = await screen.findByTestId('translate-model');
    await waitFor(() => expect(within(select).getByRole('combobox')).toHaveTextContent('nllb'));
    await userEvent.click(within(select).getByRole('combobox'));
    const names = (await screen.findAllByRole('option')).map((o) => o.textContent);
    expect(names).toEqual(['nllb', 'bia-nllb']);
    await userEvent.keyboard('{Escape}');

    // The defaults: English to French, from the model's own list.
    await waitFor(() => expect(screen.getByTestId('translate-source')).toHaveValue('English (eng_Latn)'));
    expect(screen.getByTestId('translate-target')).toHaveValue('French (fra_Latn)');
    // Found by an alias, shown with its friendly name and code.
    await pickLanguage('translate-target', 'moore', /Moore/);
    expect(screen.getByTestId('translate-target')).toHaveValue('Moore (moor_Latn)');
    // Leaving the field keeps the language (not its label as free text).
    await userEvent.click(screen.getByTestId('translate-text'));
    expect(screen.getByTestId('translate-target')).toHaveValue('Moore (moor_Latn)');
    // An alias typed by hand becomes the model's code.
    const source = screen.getByTestId('translate-source');
    await userEvent.clear(source);
    await userEvent.type(source, 'FRENCH');
    await userEvent.keyboard('{Escape}');
    await userEvent.tab();
    expect(source).toHaveValue('French (fra_Latn)');
  });

  it('translates, shows the result and the usage, and swaps', async () => {
    renderApp('/playground/translate');
    await waitFor(() => expect(screen.getByTestId('translate-source')).toHaveValue('English (eng_Latn)'));
    await userEvent.type(screen.getByTestId('translate-text'), 'Good morning');
    await userEvent.click(screen.getByTestId('translate-submit'));

    expect(await screen.findByTestId('translation')).toHaveTextContent('[fra_Latn] Good morning');
    expect(screen.getByTestId('translate-usage')).toHaveTextContent('7 input + 9 output = 16 tokens');
    expect(requests).toEqual([
      {
        model: 'nllb',
        model_id: null,
        text: 'Good morning',
        src_lang: 'eng_Latn',
        tgt_lang: 'fra_Latn',
        beam_size: 1,
        max_length: null,
      },
    ]);

    await userEvent.click(screen.getByTestId('translate-swap'));
    expect(screen.getByTestId('translate-source')).toHaveValue('French (fra_Latn)');
    expect(screen.getByTestId('translate-target')).toHaveValue('English (eng_Latn)');
    // The result became the text to translate back.
    expect(screen.getByTestId('translate-text')).toHaveValue('[fra_Latn] Good morning');
  });

  it('sends each line as its own text, with the generation options', async () => {
    renderApp('/playground/translate');
    await waitFor(() => expect(screen.getByTestId('translate-source')).toHaveValue('English (eng_Latn)'));
    await userEvent.type(screen.getByTestId('translate-text'), 'One{Enter}{Enter}Two');
    await userEvent.click(screen.getByRole('checkbox', { name: 'Each line is a separate text' }));
    await userEvent.type(screen.getByRole('spinbutton', { name: 'Beam size' }), '4');
    await userEvent.type(screen.getByRole('spinbutton', { name: 'Max length (tokens)' }), '64');
    await userEvent.click(screen.getByTestId('translate-submit'));

    await waitFor(() => expect(screen.getAllByTestId('translation')).toHaveLength(2));
    expect(requests[0]).toEqual({
      model: 'nllb',
      model_id: null,
      text: ['One', 'Two'],
      src_lang: 'eng_Latn',
      tgt_lang: 'fra_Latn',
      beam_size: 4,
      max_length: 64,
    });
  });

  it("shows the gateway's error, and lets a code be typed when the languages cannot be listed", async () => {
    server.use(
      http.get('*/v1/translate/languages', () =>
        HttpResponse.json(envelope('model nllb is not loaded', 'service_unavailable', 'model_not_loaded'), {
          status: 503,
        }),
      ),
      http.post('*/v1/translate', () =>
        HttpResponse.json(
          envelope("unknown language 'xx_Latn': GET /v1/translate/languages?model=nllb lists the valid ones"),
          { status: 400 },
        ),
      ),
    );
    renderApp('/playground/translate');
    expect(await screen.findByTestId('translate-languages-error')).toHaveTextContent(
      'model nllb is not loaded',
    );
    const source = screen.getByTestId('translate-source');
    await userEvent.type(source, 'xx_Latn');
    await userEvent.tab();
    await userEvent.type(screen.getByTestId('translate-target'), 'fr');
    await userEvent.tab();
    await userEvent.type(screen.getByTestId('translate-text'), 'Hello');
    await userEvent.click(screen.getByTestId('translate-submit'));
    expect(await screen.findByTestId('translate-status')).toHaveTextContent(
      "unknown language 'xx_Latn': GET /v1/translate/languages?model=nllb lists the valid ones",
    );
  });

  it('lists every served name for a client key', async () => {
    server.use(http.get('*/api/auth/me', () => HttpResponse.json(clientMe)));
    renderApp('/playground/translate');
    const select = await screen.findByTestId('translate-model');
    // A name that looks like a translation model comes first.
    await waitFor(() => expect(within(select).getByRole('combobox')).toHaveTextContent('nllb'));
    expect(select).toHaveTextContent('cannot see what each model does');
  });
});
