/**
 * One transcription upload and its answer in one shape, whatever the route and format:
 *
 * - no translation: OpenAI's `POST /v1/audio/transcriptions` with the chosen `response_format`
 *   (and `timestamp_granularities[]` for `verbose_json`);
 * - into English: OpenAI's `POST /v1/audio/translations` (the same formats);
 * - into another language: the gateway's `POST /api/audio/transcribe` with `target_language` and
 *   `timestamps=true` (its own JSON, with segments and words): OpenAI's routes cannot do that.
 */
import { gatewayFetch } from '../../../api/client';
import type { Cue } from '../audio/subtitles';
import { parseSubtitles } from '../audio/subtitles';

export const RESPONSE_FORMATS = ['json', 'verbose_json', 'text', 'srt', 'vtt'] as const;
export type ResponseFormat = (typeof RESPONSE_FORMATS)[number];

export interface TranscribeOptions {
  model: string;
  /** Spoken language (ISO 639-1), or '' to detect it. */
  language: string;
  /** Translate into this language, or '' to keep the spoken one. */
  targetLanguage: string;
  responseFormat: ResponseFormat;
  wordTimestamps: boolean;
  segmentTimestamps: boolean;
}

export type Route = '/v1/audio/transcriptions' | '/v1/audio/translations' | '/api/audio/transcribe';

export interface Word {
  start: number;
  end: number;
  word: string;
}

export interface TranscriptView {
  text: string;
  /** The language of `text` (a name in OpenAI's verbose_json, a code from the gateway's route). */
  language: string | null;
  /** The spoken language and where it came from (`request`, `detected`, `default`). */
  sourceLanguage: string | null;
  sourceOrigin: string | null;
  duration: number | null;
  /** Null when the format has no timestamps (json, text). */
  segments: Cue[] | null;
  words: Word[] | null;
  route: Route;
  /** What the server sent: `gateway` for /api/audio/transcribe's JSON. */
  format: ResponseFormat | 'gateway';
  /** The body as it came. */
  raw: string;
}

export function routeFor(options: Pick<TranscribeOptions, 'targetLanguage'>): Route {
  if (!options.targetLanguage) return '/v1/audio/transcriptions';
  if (options.targetLanguage === 'en') return '/v1/audio/translations';
  return '/api/audio/transcribe';
}

export function formFor(file: File, options: TranscribeOptions): FormData {
  const route = routeFor(options);
  const form = new FormData();
  form.append('file', file, file.name);
  form.append('model', options.model);
  if (options.language) form.append('language', options.language);
  if (route === '/api/audio/transcribe') {
    form.append('target_language', options.targetLanguage);
    form.append('timestamps', 'true');
    return form;
  }
  form.append('response_format', options.responseFormat);
  if (route === '/v1/audio/transcriptions' && options.responseFormat === 'verbose_json') {
    if (options.segmentTimestamps) form.append('timestamp_granularities[]', 'segment');
    if (options.wordTimestamps) form.append('timestamp_granularities[]', 'word');
  }
  return form;
}

interface JsonAnswer {
  text?: unknown;
  language?: unknown;
  source_language?: unknown;
  source_language_origin?: unknown;
  duration?: unknown;
  segments?: unknown;
  words?: unknown;
}

const str = (value: unknown): string | null => (typeof value === 'string' ? value : null);
const num = (value: unknown): number | null =>
  typeof value === 'number' && Number.isFinite(value) ? value : null;

function cuesOf(value: unknown): Cue[] | null {
  if (!Array.isArray(value)) return null;
  return value.flatMap((item: unknown) => {
    if (typeof item !== 'object' || item === null) return [];
    const { start, end, text } = item as Record<string, unknown>;
    const s = num(start);
    const e = num(end);
    return s === null || e === null ? [] : [{ start: s, end: e, text: str(text) ?? '' }];
  });
}

function wordsOf(value: unknown): Word[] | null {
  if (!Array.isArray(value)) return null;
  return value.flatMap((item: unknown) => {
    if (typeof item !== 'object' || item === null) return [];
    const { start, end, word } = item as Record<string, unknown>;
    const s = num(start);
    const e = num(end);
    return s === null || e === null ? [] : [{ start: s, end: e, word: str(word) ?? '' }];
  });
}

/** The answer body in the page's shape. */
export function viewOf(raw: string, route: Route, options: TranscribeOptions): TranscriptView {
  const format: TranscriptView['format'] =
    route === '/api/audio/transcribe' ? 'gateway' : options.responseFormat;
  const base = {
    route,
    format,
    raw,
    language: null,
    sourceLanguage: null,
    sourceOrigin: null,
    duration: null,
  };
  if (format === 'text') return { ...base, text: raw.trim(), segments: null, words: null };
  if (format === 'srt' || format === 'vtt') {
    const segments = parseSubtitles(raw);
    const text = segments.map((s) => s.text).join(' ');
    const duration = segments.length ? Math.max(...segments.map((s) => s.end)) : null;
    return { ...base, text, segments, words: null, duration };
  }
  const body = JSON.parse(raw) as JsonAnswer;
  return {
    ...base,
    text: str(body.text) ?? '',
    language: str(body.language),
    sourceLanguage: str(body.source_language),
    sourceOrigin: str(body.source_language_origin),
    duration: num(body.duration),
    segments: cuesOf(body.segments),
    words: wordsOf(body.words),
  };
}

export async function transcribe(
  file: File,
  options: TranscribeOptions,
  signal: AbortSignal,
): Promise<TranscriptView> {
  const route = routeFor(options);
  const response = await gatewayFetch(route, { method: 'POST', body: formFor(file, options), signal });
  return viewOf(await response.text(), route, options);
}
