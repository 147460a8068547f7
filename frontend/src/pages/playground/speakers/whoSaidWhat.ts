/**
 * "Who said what": one upload to `POST /api/audio/transcribe?diarize=true` (pyannote's speakers and the
 * ASR model's words in one answer: segments labelled with their `speaker`), and what the page derives
 * from it (lanes, talk time, the time axis).
 */
import { gatewayFetch } from '../../../api/client';
import type { components } from '../../../api/schema';

export type Transcription = components['schemas']['Transcription'];
export type TranscriptSegment = components['schemas']['TranscriptSegment'];

/** How many speakers pyannote should look for: let it decide, an exact count, or a range. */
export type SpeakerCounts =
  | { mode: 'auto' }
  | { mode: 'exact'; num: number }
  | { mode: 'range'; min: number | null; max: number | null };

export interface WhoSaidWhatRequest {
  file: File;
  /** The ASR model's name; the route's default (`canary`) when not given. */
  model?: string;
  /** Spoken language (ISO 639-1); detected or the gateway's default when not given. */
  language?: string;
  counts: SpeakerCounts;
}

/** The most speakers a request may ask for (the gateway's MAX_SPEAKERS). */
export const MAX_SPEAKERS = 100;

export function whoSaidWhatForm(request: WhoSaidWhatRequest): FormData {
  const form = new FormData();
  form.append('file', request.file, request.file.name);
  if (request.model) form.append('model', request.model);
  if (request.language) form.append('language', request.language);
  const { counts } = request;
  if (counts.mode === 'exact') form.append('num_speakers', String(counts.num));
  if (counts.mode === 'range') {
    if (counts.min !== null) form.append('min_speakers', String(counts.min));
    if (counts.max !== null) form.append('max_speakers', String(counts.max));
  }
  return form;
}

/** Diarize and transcribe one file; throws an ApiError with the gateway's message. */
export async function whoSaidWhat(request: WhoSaidWhatRequest, signal?: AbortSignal): Promise<Transcription> {
  const response = await gatewayFetch('/api/audio/transcribe?diarize=true', {
    method: 'POST',
    body: whoSaidWhatForm(request),
    signal,
  });
  return (await response.json()) as Transcription;
}

/** A sentence about the counts the form holds, or null when they can be sent. */
export function countsProblem(counts: SpeakerCounts): string | null {
  const inRange = (n: number) => Number.isInteger(n) && n >= 1 && n <= MAX_SPEAKERS;
  if (counts.mode === 'exact' && !inRange(counts.num)) {
    return `The number of speakers is a whole number from 1 to ${MAX_SPEAKERS}.`;
  }
  if (counts.mode === 'range') {
    if ((counts.min !== null && !inRange(counts.min)) || (counts.max !== null && !inRange(counts.max))) {
      return `Speaker counts are whole numbers from 1 to ${MAX_SPEAKERS}.`;
    }
    if (counts.min !== null && counts.max !== null && counts.min > counts.max) {
      return 'The fewest speakers must not exceed the most.';
    }
  }
  return null;
}

/** A speaker segment with its position in the answer (the transcript's line number). */
export interface Turn {
  index: number;
  speaker: string;
  start: number;
  end: number;
  text: string;
}

export interface SpeakerLane {
  speaker: string;
  /** Position in the answer's speaker list: picks the colour. */
  order: number;
  turns: Turn[];
  /** Seconds this speaker talks (sum of its segments). */
  talkS: number;
}

/**
 * One lane per speaker the answer names, in its order (a speaker no segment was given to keeps an empty
 * lane), then any speaker only segments name.
 */
export function speakerLanes(result: Transcription): SpeakerLane[] {
  const lanes = new Map<string, SpeakerLane>();
  const lane = (speaker: string) => {
    let found = lanes.get(speaker);
    if (!found) {
      found = { speaker, order: lanes.size, turns: [], talkS: 0 };
      lanes.set(speaker, found);
    }
    return found;
  };
  for (const speaker of result.speakers ?? []) lane(speaker);
  (result.segments ?? []).forEach((segment, index) => {
    if (!segment.speaker) return;
    const target = lane(segment.speaker);
    const start = Math.max(0, segment.start);
    const end = Math.max(start, segment.end);
    target.turns.push({ index, speaker: segment.speaker, start, end, text: segment.text });
    target.talkS += end - start;
  });
  return [...lanes.values()];
}

/** The line being played: the last segment that started at or before `time` and has not ended. */
export function activeSegmentIndex(segments: TranscriptSegment[], time: number): number | null {
  let active: number | null = null;
  segments.forEach((segment, index) => {
    if (segment.start <= time && time < segment.end) active = index;
  });
  return active;
}

/** `m:ss` (or `h:mm:ss`) for the time axis and the transcript. */
export function formatClock(seconds: number): string {
  const total = Math.max(0, Math.floor(seconds));
  const s = total % 60;
  const m = Math.floor(total / 60) % 60;
  const h = Math.floor(total / 3600);
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

const TICK_STEPS_S = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600];

/** Tick times for an axis of `duration` seconds: a round step giving at most `most` intervals. */
export function axisTicks(duration: number, most = 8): number[] {
  if (!(duration > 0)) return [0];
  const step = TICK_STEPS_S.find((s) => duration / s <= most) ?? Math.ceil(duration / most / 3600) * 3600;
  const ticks: number[] = [];
  for (let t = 0; t <= duration + 1e-9; t += step) ticks.push(t);
  return ticks;
}
