import { describe, expect, it } from 'vitest';

import {
  activeSegmentIndex,
  axisTicks,
  countsProblem,
  formatClock,
  speakerLanes,
  whoSaidWhatForm,
  type Transcription,
} from './whoSaidWhat';

const base: Transcription = {
  text: '',
  sampling_rate: 16000,
  duration: 10,
  language: 'en',
  source_language: 'en',
  source_language_origin: 'request',
};

describe('who said what, the parts', () => {
  it('keeps a lane for a speaker no words were given to, and sums talk time', () => {
    const lanes = speakerLanes({
      ...base,
      speakers: ['SPEAKER_00', 'SPEAKER_01'],
      segments: [
        { start: 0, end: 2, text: 'a', speaker: 'SPEAKER_00' },
        { start: 2, end: 3, text: 'b', speaker: null },
        { start: 4, end: 5.5, text: 'c', speaker: 'SPEAKER_00' },
      ],
    });
    expect(lanes.map((l) => [l.speaker, l.order, l.turns.length, l.talkS])).toEqual([
      ['SPEAKER_00', 0, 2, 3.5],
      ['SPEAKER_01', 1, 0, 0],
    ]);
    expect(lanes[0]!.turns.map((t) => t.index)).toEqual([0, 2]);
  });

  it('finds the segment being played', () => {
    const segments = [
      { start: 0, end: 2, text: 'a' },
      { start: 3, end: 4, text: 'b' },
    ];
    expect(activeSegmentIndex(segments, 1)).toBe(0);
    expect(activeSegmentIndex(segments, 2.5)).toBeNull();
    expect(activeSegmentIndex(segments, 3)).toBe(1);
  });

  it('writes times as m:ss and picks round ticks', () => {
    expect(formatClock(0)).toBe('0:00');
    expect(formatClock(75.9)).toBe('1:15');
    expect(formatClock(3725)).toBe('1:02:05');
    expect(axisTicks(13.5)).toEqual([0, 2, 4, 6, 8, 10, 12]);
    expect(axisTicks(13.5, 3)).toEqual([0, 5, 10]);
    expect(axisTicks(3600, 6)).toEqual([0, 600, 1200, 1800, 2400, 3000, 3600]);
    expect(axisTicks(0)).toEqual([0]);
  });

  it('checks and sends the speaker counts', () => {
    expect(countsProblem({ mode: 'exact', num: 0 })).toMatch(/1 to 100/);
    expect(countsProblem({ mode: 'range', min: 3, max: 2 })).toMatch(/must not exceed/);
    expect(countsProblem({ mode: 'range', min: null, max: 4 })).toBeNull();
    const file = new File(['x'], 'a.wav');
    const exact = whoSaidWhatForm({
      file,
      counts: { mode: 'exact', num: 3 },
      model: 'canary',
      language: 'de',
    });
    expect([...exact.keys()]).toEqual(['file', 'model', 'language', 'num_speakers']);
    expect(exact.get('num_speakers')).toBe('3');
    const range = whoSaidWhatForm({ file, counts: { mode: 'range', min: null, max: 4 } });
    expect([...range.keys()]).toEqual(['file', 'max_speakers']);
  });
});
