/** Threshold colours for badges and bars: the same reading means the same colour on every page. */
export type Level = 'success' | 'warning' | 'error';

export function percentLevel(percent: number, warnAt = 75, errorAt = 90): Level {
  if (percent >= errorAt) return 'error';
  if (percent >= warnAt) return 'warning';
  return 'success';
}

export function temperatureLevel(celsius: number): Level {
  return percentLevel(celsius, 75, 85);
}

/** Free space: little is bad, so the scale runs the other way. */
export function freeSpaceLevel(freeFraction: number): Level {
  if (freeFraction < 0.1) return 'error';
  if (freeFraction < 0.2) return 'warning';
  return 'success';
}
