/**
 * `POST /v1/audio/speech` (OpenAI's API): the audio comes back as a stream of bytes. `synthesize` reads it
 * chunk by chunk, says when the first byte came, and, where the browser can (MP3 through Media Source
 * Extensions), plays it while it streams; otherwise the whole file plays once it is in.
 */
import { gatewayFetch } from '../../../api/client';

export const SPEECH_FORMATS = ['mp3', 'opus', 'aac', 'flac', 'wav', 'pcm'] as const;
export type SpeechFormat = (typeof SPEECH_FORMATS)[number];

export const MAX_INPUT_CHARS = 4096;
export const MIN_SPEED = 0.25;
export const MAX_SPEED = 4;

/** What each format is sent as (OpenAI's types), when the answer does not say. */
export const FORMAT_TYPES: Record<SpeechFormat, string> = {
  mp3: 'audio/mpeg',
  opus: 'audio/ogg',
  aac: 'audio/aac',
  flac: 'audio/flac',
  wav: 'audio/wav',
  pcm: 'audio/pcm',
};

export interface SpeechRequest {
  model: string;
  input: string;
  voice: string;
  format: SpeechFormat;
  speed: number;
}

export interface SpeechProgress {
  /** Milliseconds from the request to the first audio byte. */
  firstByteMs: number | null;
  bytes: number;
  /** True when the player is fed while the audio streams. */
  streaming: boolean;
}

export interface SpeechOutcome {
  blob: Blob;
  firstByteMs: number | null;
  totalMs: number;
  streamed: boolean;
}

/** The MSE type to stream a format into an `<audio>`, when this browser can; null: play after download. */
export function streamableType(format: SpeechFormat): string | null {
  if (format !== 'mp3') return null;
  const MS = globalThis.MediaSource as typeof MediaSource | undefined;
  return MS && MS.isTypeSupported('audio/mpeg') ? 'audio/mpeg' : null;
}

function once(target: EventTarget, event: string): Promise<void> {
  return new Promise((resolve) => target.addEventListener(event, () => resolve(), { once: true }));
}

/** A Media Source fed chunk by chunk, playing in `audio` from the first chunk on. */
class StreamingPlayer {
  private source = new MediaSource();
  private buffer: SourceBuffer | null = null;
  readonly url: string;

  constructor(
    private readonly audio: HTMLAudioElement,
    private readonly type: string,
  ) {
    this.url = URL.createObjectURL(this.source);
    audio.src = this.url;
  }

  async append(chunk: Uint8Array<ArrayBuffer>): Promise<void> {
    if (!this.buffer) {
      if (this.source.readyState !== 'open') await once(this.source, 'sourceopen');
      this.buffer = this.source.addSourceBuffer(this.type);
      this.buffer.appendBuffer(chunk);
      await once(this.buffer, 'updateend');
      this.audio.play()?.catch(() => undefined); // a browser may refuse autoplay: the controls are there
      return;
    }
    this.buffer.appendBuffer(chunk);
    await once(this.buffer, 'updateend');
  }

  end(): void {
    if (this.source.readyState === 'open' && !this.buffer?.updating) this.source.endOfStream();
  }
}

export async function synthesize(
  request: SpeechRequest,
  {
    signal,
    audio,
    onProgress,
    onObjectUrl,
  }: {
    signal: AbortSignal;
    audio: HTMLAudioElement | null;
    onProgress: (progress: SpeechProgress) => void;
    /** Each object URL made for the player, for the caller to revoke when it is done with it. */
    onObjectUrl: (url: string) => void;
  },
): Promise<SpeechOutcome> {
  const startedAt = performance.now();
  const response = await gatewayFetch('/v1/audio/speech', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      model: request.model,
      input: request.input,
      voice: request.voice,
      response_format: request.format,
      speed: request.speed,
    }),
    signal,
  });
  const type = response.headers.get('Content-Type')?.split(';')[0]?.trim() || FORMAT_TYPES[request.format];
  const mseType = audio ? streamableType(request.format) : null;
  const player = audio && mseType ? new StreamingPlayer(audio, mseType) : null;
  if (player) onObjectUrl(player.url);
  const chunks: Uint8Array<ArrayBuffer>[] = [];
  let firstByteMs: number | null = null;
  let bytes = 0;
  const reader = response.body?.getReader();
  if (reader) {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!value.length) continue;
      if (firstByteMs === null) firstByteMs = performance.now() - startedAt;
      const chunk = new Uint8Array(value);
      chunks.push(chunk);
      bytes += chunk.length;
      onProgress({ firstByteMs, bytes, streaming: player !== null });
      if (player) await player.append(chunk);
    }
  } else {
    const whole = new Uint8Array(await response.arrayBuffer());
    firstByteMs = performance.now() - startedAt;
    chunks.push(whole);
    bytes = whole.length;
  }
  player?.end();
  return {
    blob: new Blob(chunks, { type }),
    firstByteMs,
    totalMs: performance.now() - startedAt,
    streamed: player !== null,
  };
}
