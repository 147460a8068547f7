import { useCallback, useEffect, useRef, useState } from 'react';

/** Why the microphone cannot be used, in words a person can act on. */
export type MicProblem =
  | { reason: 'insecure'; message: string }
  | { reason: 'unsupported'; message: string }
  | { reason: 'denied'; message: string }
  | { reason: 'no-device'; message: string }
  | { reason: 'failed'; message: string };

export type RecorderState = { kind: 'idle' } | { kind: 'starting' } | { kind: 'recording'; since: number };

/** The browser's own verdict before asking: no API at all (plain HTTP, or an old browser). */
export function micAvailability(): MicProblem | null {
  const api = typeof navigator !== 'undefined' ? navigator.mediaDevices : undefined;
  const hasApi = typeof api?.getUserMedia === 'function' && typeof MediaRecorder !== 'undefined';
  if (hasApi) return null;
  if (typeof window !== 'undefined' && !window.isSecureContext) {
    const host = window.location.host;
    return {
      reason: 'insecure',
      message:
        `The browser only allows the microphone on HTTPS or on localhost, and this page comes over plain HTTP` +
        ` from ${host}. Open the dashboard through HTTPS, or on this computer at http://localhost (an SSH` +
        ` tunnel does it: ssh -L 8000:localhost:8000 <server>), or upload a recording instead.`,
    };
  }
  return {
    reason: 'unsupported',
    message: 'This browser cannot record audio (no MediaRecorder). Upload a recording instead.',
  };
}

function problemFrom(error: unknown): MicProblem {
  const name = error instanceof DOMException || error instanceof Error ? error.name : '';
  if (name === 'NotAllowedError' || name === 'PermissionDeniedError') {
    return {
      reason: 'denied',
      message:
        'Permission to use the microphone was denied. Allow it for this site (the icon beside the address' +
        ' bar, or the browser settings) and press Record again, or upload a recording instead.',
    };
  }
  if (name === 'SecurityError') {
    return {
      reason: 'insecure',
      message:
        'The browser blocked the microphone for this page (it must be on HTTPS or localhost, and not in a' +
        ' frame that forbids it). Upload a recording instead.',
    };
  }
  if (name === 'NotFoundError' || name === 'OverconstrainedError' || name === 'DevicesNotFoundError') {
    return { reason: 'no-device', message: 'No microphone was found. Plug one in, or upload a recording.' };
  }
  if (name === 'NotReadableError' || name === 'TrackStartError') {
    return {
      reason: 'failed',
      message: 'The microphone could not be opened: another application may be using it.',
    };
  }
  const detail = error instanceof Error && error.message ? `: ${error.message}` : '';
  return { reason: 'failed', message: `Recording failed${detail}.` };
}

const EXTENSIONS: [string, string][] = [
  ['webm', 'webm'],
  ['ogg', 'ogg'],
  ['mp4', 'm4a'],
  ['mpeg', 'mp3'],
  ['wav', 'wav'],
];

function recordingName(type: string): string {
  const extension = EXTENSIONS.find(([part]) => type.includes(part))?.[1] ?? 'webm';
  const stamp = new Date().toISOString().slice(0, 19).replace(/[T:]/g, '-');
  return `recording-${stamp}.${extension}`;
}

/**
 * Records from the microphone with MediaRecorder: `start()` asks for the microphone, `stop()` ends the
 * recording and hands `onRecorded` a File. `problem` explains a missing API (plain HTTP) or a refusal.
 */
export function useMicrophoneRecorder(onRecorded: (file: File) => void) {
  const [state, setState] = useState<RecorderState>({ kind: 'idle' });
  const [problem, setProblem] = useState<MicProblem | null>(micAvailability);
  const recorder = useRef<MediaRecorder | null>(null);
  const handOver = useRef(onRecorded);
  useEffect(() => {
    handOver.current = onRecorded;
  }, [onRecorded]);

  const start = useCallback(async () => {
    const unavailable = micAvailability();
    if (unavailable) {
      setProblem(unavailable);
      return;
    }
    setState({ kind: 'starting' });
    let stream: MediaStream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch (error) {
      setProblem(problemFrom(error));
      setState({ kind: 'idle' });
      return;
    }
    try {
      const media = new MediaRecorder(stream);
      const chunks: Blob[] = [];
      media.ondataavailable = (event) => {
        if (event.data.size > 0) chunks.push(event.data);
      };
      media.onstop = () => {
        stream.getTracks().forEach((track) => track.stop());
        recorder.current = null;
        setState({ kind: 'idle' });
        const type = media.mimeType || chunks[0]?.type || 'audio/webm';
        if (chunks.length) handOver.current(new File(chunks, recordingName(type), { type }));
      };
      media.start();
      recorder.current = media;
      setProblem(null);
      setState({ kind: 'recording', since: Date.now() });
    } catch (error) {
      stream.getTracks().forEach((track) => track.stop());
      setProblem(problemFrom(error));
      setState({ kind: 'idle' });
    }
  }, []);

  const stop = useCallback(() => {
    if (recorder.current?.state === 'recording') recorder.current.stop();
  }, []);

  useEffect(
    () => () => {
      // Leaving the page ends a recording and frees the microphone.
      const media = recorder.current;
      if (media) {
        media.onstop = null;
        if (media.state === 'recording') media.stop();
        media.stream.getTracks().forEach((track) => track.stop());
      }
    },
    [],
  );

  return { state, problem, start, stop };
}
