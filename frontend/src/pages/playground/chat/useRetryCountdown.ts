import { useCallback, useEffect, useRef, useState } from 'react';

import { ApiError } from '../../../api/errors';

/** Seconds to wait when a 503 `model_loading` came without a Retry-After header. */
export const DEFAULT_RETRY_S = 5;

/** The seconds to wait when `error` is the gateway's "model is loading, retry shortly" answer, else null. */
export function loadingRetryDelay(error: unknown): number | null {
  if (!(error instanceof ApiError) || error.status !== 503 || error.code !== 'model_loading') return null;
  return Math.max(1, Math.ceil(error.retryAfterS ?? DEFAULT_RETRY_S));
}

/**
 * A visible countdown before a retry: `wait(seconds)` counts down once a second and resolves true at
 * zero, or false when `cancel()` is called first. `secondsLeft` is null when nothing is pending.
 */
export function useRetryCountdown() {
  const [secondsLeft, setSecondsLeft] = useState<number | null>(null);
  const pending = useRef<{
    timer: ReturnType<typeof setInterval>;
    resolve: (elapsed: boolean) => void;
  } | null>(null);

  const settle = useCallback((elapsed: boolean) => {
    const current = pending.current;
    pending.current = null;
    setSecondsLeft(null);
    if (current) {
      clearInterval(current.timer);
      current.resolve(elapsed);
    }
  }, []);

  const cancel = useCallback(() => settle(false), [settle]);

  const wait = useCallback(
    (seconds: number) =>
      new Promise<boolean>((resolve) => {
        settle(false);
        let left = seconds;
        setSecondsLeft(left);
        const timer = setInterval(() => {
          left -= 1;
          if (left > 0) setSecondsLeft(left);
          else settle(true);
        }, 1000);
        pending.current = { timer, resolve };
      }),
    [settle],
  );

  useEffect(() => cancel, [cancel]);
  return { secondsLeft, wait, cancel };
}
