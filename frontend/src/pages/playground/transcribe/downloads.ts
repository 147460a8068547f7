import type { Cue } from '../audio/subtitles';
import { toSrt, toVtt } from '../audio/subtitles';
import type { TranscriptView } from './transcribeRequest';

/**
 * The subtitle cues of a result: its segments, or (as the gateway does) the whole text as one cue over
 * the audio when a format gave no segments. Null when nothing tells how long the audio is.
 */
export function cuesFor(view: TranscriptView, audioDuration: number | null): Cue[] | null {
  if (view.segments) return view.segments;
  const text = view.text.trim();
  if (!text) return [];
  const duration = view.duration ?? audioDuration;
  return duration === null ? null : [{ start: 0, end: duration, text }];
}

export function srtOf(view: TranscriptView, audioDuration: number | null): string | null {
  if (view.format === 'srt') return view.raw;
  const cues = cuesFor(view, audioDuration);
  return cues && toSrt(cues);
}

export function vttOf(view: TranscriptView, audioDuration: number | null): string | null {
  if (view.format === 'vtt') return view.raw;
  const cues = cuesFor(view, audioDuration);
  return cues && toVtt(cues);
}

/** The server's JSON as it came (indented), or the result's fields for a text or subtitle answer. */
export function jsonOf(view: TranscriptView): string {
  if (view.format === 'json' || view.format === 'verbose_json' || view.format === 'gateway') {
    return JSON.stringify(JSON.parse(view.raw), null, 2) + '\n';
  }
  const body: Record<string, unknown> = { text: view.text };
  if (view.duration !== null) body.duration = view.duration;
  if (view.segments) body.segments = view.segments;
  return JSON.stringify(body, null, 2) + '\n';
}
