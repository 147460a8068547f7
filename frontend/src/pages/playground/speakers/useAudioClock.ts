import { useCallback, useEffect, useRef, useState } from 'react';

/**
 * The audio element's current time, followed every animation frame while it plays (the playhead moves
 * smoothly) and on every seek while it does not. `attach` is the element's ref; `seek` moves the audio and
 * plays from there.
 */
export function useAudioClock() {
  const element = useRef<HTMLAudioElement | null>(null);
  const [audio, setAudio] = useState<HTMLAudioElement | null>(null);
  const attach = useCallback((node: HTMLAudioElement | null) => {
    element.current = node;
    setAudio(node);
  }, []);
  const [time, setTime] = useState(0);
  const [playing, setPlaying] = useState(false);

  useEffect(() => {
    if (!audio) return;
    let frame = 0;
    const tick = () => {
      setTime(audio.currentTime);
      frame = requestAnimationFrame(tick);
    };
    const onPlay = () => {
      setPlaying(true);
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(tick);
    };
    const onStop = () => {
      setPlaying(false);
      cancelAnimationFrame(frame);
      setTime(audio.currentTime);
    };
    const onTime = () => setTime(audio.currentTime);
    const onEmptied = () => {
      setPlaying(false);
      setTime(0);
    };
    audio.addEventListener('play', onPlay);
    audio.addEventListener('pause', onStop);
    audio.addEventListener('ended', onStop);
    audio.addEventListener('timeupdate', onTime);
    audio.addEventListener('seeked', onTime);
    audio.addEventListener('emptied', onEmptied);
    return () => {
      cancelAnimationFrame(frame);
      audio.removeEventListener('play', onPlay);
      audio.removeEventListener('pause', onStop);
      audio.removeEventListener('ended', onStop);
      audio.removeEventListener('timeupdate', onTime);
      audio.removeEventListener('seeked', onTime);
      audio.removeEventListener('emptied', onEmptied);
    };
  }, [audio]);

  const seek = useCallback((seconds: number) => {
    const audio = element.current;
    if (!audio) return;
    const target = Math.max(0, seconds);
    audio.currentTime = target;
    setTime(target);
    if (audio.paused) {
      // A browser may refuse to play (autoplay rules); the seek stands, the play button is there.
      Promise.resolve(audio.play()).catch(() => undefined);
    }
  }, []);

  return { attach, time, playing, seek };
}
