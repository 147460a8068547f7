import { useAdminStatus, useMe } from '../../../api/queries';
import type { ModelStatus } from '../../../api/types';

/** The ASR model the route uses when the request names none. */
export const DEFAULT_ASR_MODEL = 'canary';

export interface SpeechSlots {
  /** ASR slots (admins see them all; a client key sees none and the route's default is used). */
  asr: ModelStatus[];
  /** The first diarization slot (whatever its key): the one whose state the form reports. */
  diarization: ModelStatus | null;
  /** Models load on their first request (LAZY_LOAD_MODELS); null when unknown (client key). */
  lazyLoad: boolean | null;
  isAdmin: boolean;
}

/**
 * What an admin key can tell about the speech slots (from the admin status, polled slowly here): which ASR
 * models may be picked, and whether the models are loaded. A client key cannot read the status: the page
 * then uses the route's default model and explains a 503 when it comes.
 */
export function useSpeechSlots(): SpeechSlots {
  const me = useMe();
  const isAdmin = me.data?.role === 'admin';
  const status = useAdminStatus({ enabled: isAdmin, refetchInterval: 5_000 });
  const models = isAdmin ? (status.data?.models ?? []) : [];
  return {
    asr: models.filter((m) => m.kind === 'asr'),
    diarization: models.find((m) => m.kind === 'diarization') ?? null,
    lazyLoad: isAdmin && status.data ? status.data.settings.lazy_load_models : null,
    isAdmin,
  };
}
