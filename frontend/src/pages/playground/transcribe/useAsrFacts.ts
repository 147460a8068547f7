import { useAdminStatus, useMe } from '../../../api/queries';
import type { ModelStatus } from '../../../api/types';

/** What the playground can tell about a speech model before sending it audio. */
export interface AsrFacts {
  /** It detects the spoken language when none is given; null: unknown (a client key). */
  detectsLanguage: boolean | null;
  /** The codes it takes, once loaded; null: not known yet. */
  languages: string[] | null;
  /** The languages it translates into, once loaded; null: not known yet. */
  translatesTo: string[] | null;
}

const strings = (value: unknown): string[] | null =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : null;

/**
 * A slot's speech facts from what its load reported (`server`: `detects_language`, `languages`,
 * `translates_to`); before a load, a Whisper checkpoint (by its model id) is taken to detect languages.
 */
export function asrFactsOf(slot: ModelStatus | undefined): AsrFacts {
  if (!slot) return { detectsLanguage: null, languages: null, translatesTo: null };
  const reported = slot.server.detects_language;
  return {
    detectsLanguage: typeof reported === 'boolean' ? reported : /whisper/i.test(slot.model_id),
    languages: strings(slot.server.languages),
    translatesTo: strings(slot.server.translates_to),
  };
}

/** The facts of the slot serving `model` (admin keys read them from the status; others get nulls). */
export function useAsrFacts(model: string): AsrFacts {
  const me = useMe();
  const admin = me.data?.role === 'admin';
  const status = useAdminStatus({ enabled: admin, refetchInterval: 5_000 });
  return asrFactsOf(status.data?.models.find((m) => m.kind === 'asr' && m.served_names.includes(model)));
}
