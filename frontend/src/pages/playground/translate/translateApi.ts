/**
 * The translation playground's calls: `POST /v1/translate` and `GET /v1/translate/languages?model=`.
 */
import { useQuery } from '@tanstack/react-query';

import { api, unwrap } from '../../../api/client';
import { queryKeys } from '../../../api/queryKeys';
import type { components } from '../../../api/schema';
import { languageName } from '../transcribe/languages';

type Schemas = components['schemas'];
type TranslationBody = Schemas['TranslationRequest'];
export type TranslationAnswer = Schemas['TranslationResponse'];
export type TranslationLanguages = Schemas['TranslationLanguages'];

/** One language the model knows: its own code (`fra_Latn`), a name when known, and the aliases it accepts. */
export interface LanguageOption {
  code: string;
  name: string | null;
  aliases: string[];
}

export interface TranslateRequest {
  model: string;
  /** One text, or several (one translation each, in order). */
  text: string | string[];
  srcLang: string;
  tgtLang: string;
  beamSize: number | null;
  maxLength: number | null;
}

const str = (value: unknown): string | null => (typeof value === 'string' && value ? value : null);

/** The languages answer as a list of options, whatever the exact shape: codes, and aliases per code. */
export function languageOptions(body: unknown): LanguageOption[] {
  if (typeof body !== 'object' || body === null) return [];
  const record = body as Record<string, unknown>;
  const byCode = new Map<string, LanguageOption>();
  const add = (code: string): LanguageOption => {
    let option = byCode.get(code);
    if (!option) {
      option = { code, name: null, aliases: [] };
      byCode.set(code, option);
    }
    return option;
  };
  const list = Array.isArray(record.languages)
    ? record.languages
    : Array.isArray(record.codes)
      ? record.codes
      : [];
  for (const item of list) {
    if (typeof item === 'string') add(item);
    else if (typeof item === 'object' && item !== null) {
      const entry = item as Record<string, unknown>;
      const code = str(entry.code);
      if (!code) continue;
      const option = add(code);
      option.name = str(entry.name) ?? option.name;
      if (Array.isArray(entry.aliases)) {
        for (const alias of entry.aliases) if (typeof alias === 'string') option.aliases.push(alias);
      }
    }
  }
  // `{"aliases": {"fr": "fra_Latn", ...}}`: alias -> code.
  if (typeof record.aliases === 'object' && record.aliases !== null && !Array.isArray(record.aliases)) {
    for (const [alias, code] of Object.entries(record.aliases as Record<string, unknown>)) {
      if (typeof code === 'string' && !add(code).aliases.includes(alias)) add(code).aliases.push(alias);
    }
  }
  return [...byCode.values()];
}

/**
 * A friendly name for an option: its name; else the English name of an alias that is an ISO code or a name
 * ("fr", "french" -> "French"); else its longest alias that is a word ("moore" -> "Moore"); else none.
 */
export function displayName(option: LanguageOption): string | null {
  if (option.name) return option.name;
  for (const alias of option.aliases) {
    const named = languageName(alias);
    if (named !== alias) return named;
  }
  const words = option.aliases
    .filter((a) => /^[a-z][a-z -]{3,}$/i.test(a))
    .sort((a, b) => b.length - a.length);
  const word = words[0];
  return word ? word.charAt(0).toUpperCase() + word.slice(1) : null;
}

export function useTranslationLanguages(model: string) {
  return useQuery({
    queryKey: queryKeys.translation.languages(model),
    queryFn: async ({ signal }): Promise<LanguageOption[]> => {
      const answer = unwrap(
        await api.GET('/v1/translate/languages', { params: { query: { model } }, signal }),
      );
      return languageOptions(answer);
    },
    enabled: model !== '',
    staleTime: 5 * 60_000,
  });
}

export async function translate(request: TranslateRequest, signal: AbortSignal): Promise<TranslationAnswer> {
  const body: TranslationBody = {
    model: request.model,
    text: request.text,
    src_lang: request.srcLang,
    tgt_lang: request.tgtLang,
    model_id: null,
    beam_size: request.beamSize ?? 1, // the gateway's default: greedy
    max_length: request.maxLength,
  };
  return unwrap(await api.POST('/v1/translate', { body, signal }));
}
