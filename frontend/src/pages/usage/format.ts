/** Numbers of the usage pages: counts with separators, audio in seconds (minutes and hours when long). */

export function formatCount(value: number): string {
  return Math.round(value).toLocaleString();
}

export function formatAudioSeconds(seconds: number): string {
  const short = (value: number) => Number(value.toFixed(1)).toLocaleString();
  if (seconds < 60) return `${short(seconds)} s`;
  if (seconds < 3600) return `${short(seconds / 60)} min`;
  return `${short(seconds / 3600)} h`;
}

/** A reset time (Unix seconds) in the viewer's local time, with its date. */
export function formatResetTime(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toLocaleString(undefined, {
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  });
}
