import { ApiError } from '../../../api/errors';
import { useAdminStatus, useMe } from '../../../api/queries';

export interface Voices {
  /** The model's voices, when the gateway tells this key; null: unknown (a free field then). */
  voices: string[] | null;
  /** The voice to start with. */
  defaultVoice: string;
}

/** The voices of the speech model served as `model`, from its slot in the admin status (admin keys). */
export function useVoices(model: string): Voices {
  const me = useMe();
  const admin = me.data?.role === 'admin';
  const status = useAdminStatus({ enabled: admin, refetchInterval: false });
  const slot = status.data?.models.find((m) => m.served_names.includes(model));
  const listed = slot?.server.voices;
  const voices = Array.isArray(listed) ? listed.filter((v): v is string => typeof v === 'string') : null;
  return { voices, defaultVoice: voices?.[0] ?? 'alloy' };
}

/**
 * The voices a 400 about the voice lists ("... use one of alloy, echo"), so the field can offer them; null
 * for any other error.
 */
export function voicesFromError(error: unknown): string[] | null {
  if (!(error instanceof ApiError) || error.status !== 400 || error.param !== 'voice') return null;
  const listed = /use one of (.+?)\.?$/i.exec(error.message)?.[1];
  if (!listed) return null;
  const voices = listed
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
  return voices.length ? voices : null;
}
