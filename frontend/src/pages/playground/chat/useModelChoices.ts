import { useAdminStatus, useMe, useServedModels } from '../../../api/queries';
/** `kind` of a slot in the admin status. */
export type ModelKind = 'llm' | 'asr' | 'diarization' | 'langid' | 'translation' | 'tts';

export interface ModelChoice {
  name: string;
  /** The model's first name when `name` is an alias. */
  aliasOf: string | null;
}

export interface ModelChoices {
  choices: ModelChoice[];
  /** False when the key may not see what kind each model is (client keys): every served name is offered. */
  kindsKnown: boolean;
  isPending: boolean;
  error: unknown;
}

/** What the names of each kind tend to look like: a client key's list puts those first. */
const NAME_HINTS: Record<ModelKind, RegExp> = {
  llm: /^(?!.*(whisper|canary|parakeet|pyannote|speech|asr|diariz|langid|nllb|m2m|translat|tts|vits|mms)).*$/i,
  asr: /whisper|canary|parakeet|asr|speech-to-text|stt/i,
  diarization: /pyannote|diariz/i,
  langid: /langid|lid|voxlingua/i,
  translation: /nllb|m2m|translat|madlad|opus-mt|marian/i,
  tts: /tts|vits|mms|speech|voice|kokoro|bark/i,
};

/**
 * The served names (`GET /v1/models`) of one kind of model. `/v1/models` does not say what a model does;
 * the admin status does, so an admin key gets the names of that kind only. A client key gets every name,
 * the ones that look like the wanted kind first.
 */
export function useModelChoices(kind: ModelKind): ModelChoices {
  const me = useMe();
  const served = useServedModels();
  const admin = me.data?.role === 'admin';
  const status = useAdminStatus({ enabled: admin, refetchInterval: false });
  const kindsKnown = admin && status.data !== undefined;
  const names = served.data ?? [];
  let choices: ModelChoice[] = names.map((m) => ({ name: m.id, aliasOf: m.id === m.root ? null : m.root }));
  if (kindsKnown) {
    const ofKind = new Set(status.data.models.filter((m) => m.kind === kind).flatMap((m) => m.served_names));
    choices = choices.filter((c) => ofKind.has(c.name) || (c.aliasOf !== null && ofKind.has(c.aliasOf)));
  } else {
    const hint = NAME_HINTS[kind];
    const fits = (c: ModelChoice) => hint.test(c.aliasOf ?? c.name);
    choices = [...choices.filter(fits), ...choices.filter((c) => !fits(c))];
  }
  return {
    choices,
    kindsKnown,
    isPending: me.isPending || served.isPending || (admin && status.isPending),
    error: served.error,
  };
}
