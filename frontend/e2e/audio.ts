/** Test audio made here: the same two alternating synthetic voices as tests/dashboard_gateway.py writes. */
import { writeFileSync } from 'node:fs';

const RATE = 16_000;

/** `turns` turns of 2 s (low, high, low, ...) with 0.25 s pauses, as 16-bit mono PCM. */
function twoVoices(turns: number): Int16Array {
  const turnSamples = RATE * 2;
  const pause = RATE / 4;
  const samples = new Int16Array(turns * (turnSamples + pause));
  let at = 0;
  for (let turn = 0; turn < turns; turn++) {
    const pitch = turn % 2 === 0 ? 110 : 240;
    for (let i = 0; i < turnSamples; i++) {
      const t = i / RATE;
      let voice = 0;
      for (let k = 1; k <= 5; k++) voice += Math.sin(2 * Math.PI * pitch * k * t) / k;
      const envelope = 0.5 + 0.5 * Math.sin(2 * Math.PI * 3 * t);
      samples[at + i] = Math.round(0.2 * voice * envelope * 32_767);
    }
    at += turnSamples + pause;
  }
  return samples;
}

/** Writes a wav of `turns` turns (2.25 s each) to `path`. */
export function writeTwoVoicesWav(path: string, turns: number): void {
  const pcm = twoVoices(turns);
  const header = Buffer.alloc(44);
  header.write('RIFF', 0);
  header.writeUInt32LE(36 + pcm.byteLength, 4);
  header.write('WAVEfmt ', 8);
  header.writeUInt32LE(16, 16); // fmt chunk size
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(RATE, 24);
  header.writeUInt32LE(RATE * 2, 28); // bytes per second
  header.writeUInt16LE(2, 32); // block align
  header.writeUInt16LE(16, 34); // bits per sample
  header.write('data', 36);
  header.writeUInt32LE(pcm.byteLength, 40);
  writeFileSync(path, Buffer.concat([header, Buffer.from(pcm.buffer)]));
}
