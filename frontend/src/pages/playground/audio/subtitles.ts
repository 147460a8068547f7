/**
 * Subtitles from timed text, as the gateway writes them (`app/services/transcripts.py`): SRT and WebVTT
 * with millisecond clocks, and a reader for both (the SRT or VTT a server answered with).
 */

export interface Cue {
  start: number;
  end: number;
  text: string;
}

/** `hh:mm:ss,mmm` (SRT) or `hh:mm:ss.mmm` (VTT). */
export function clock(seconds: number, decimal: ',' | '.'): string {
  let millis = Math.max(0, Math.round(seconds * 1000));
  const hours = Math.floor(millis / 3_600_000);
  millis -= hours * 3_600_000;
  const minutes = Math.floor(millis / 60_000);
  millis -= minutes * 60_000;
  const secs = Math.floor(millis / 1000);
  millis -= secs * 1000;
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(hours)}:${two(minutes)}:${two(secs)}${decimal}${String(millis).padStart(3, '0')}`;
}

/** `m:ss.cc` for people (a table cell, a button). */
export function shortClock(seconds: number): string {
  const safe = Math.max(0, seconds);
  const minutes = Math.floor(safe / 60);
  const rest = safe - minutes * 60;
  return `${minutes}:${rest.toFixed(2).padStart(5, '0')}`;
}

export function toSrt(cues: Cue[]): string {
  return cues
    .map((c, i) => `${i + 1}\n${clock(c.start, ',')} --> ${clock(c.end, ',')}\n${c.text.trim()}\n`)
    .join('\n');
}

export function toVtt(cues: Cue[]): string {
  return (
    'WEBVTT\n\n' +
    cues.map((c) => `${clock(c.start, '.')} --> ${clock(c.end, '.')}\n${c.text.trim()}\n`).join('\n')
  );
}

function seconds(stamp: string): number {
  const parts = stamp.trim().replace(',', '.').split(':').map(Number);
  return parts.reduce((total, part) => total * 60 + part, 0);
}

const TIMING = /^\s*((?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3})\s*-->\s*((?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3})/;

/** The cues of an SRT or WebVTT text (cue numbers, headers, notes and settings left out). */
export function parseSubtitles(text: string): Cue[] {
  const cues: Cue[] = [];
  for (const block of text.replace(/\r\n?/g, '\n').split(/\n{2,}/)) {
    const lines = block.split('\n');
    const at = lines.findIndex((line) => TIMING.test(line));
    if (at < 0) continue;
    const match = TIMING.exec(lines[at] ?? '');
    if (!match?.[1] || !match[2]) continue;
    cues.push({
      start: seconds(match[1]),
      end: seconds(match[2]),
      text: lines
        .slice(at + 1)
        .join('\n')
        .trim(),
    });
  }
  return cues;
}
