import { QueryClient } from '@tanstack/react-query';

import { ApiError } from './api/errors';
import { authStore } from './auth/authStore';

/** A 4xx is an answer, not a glitch: only network errors and 5xx are retried (twice). */
export function shouldRetry(failureCount: number, error: unknown): boolean {
  if (error instanceof ApiError && error.status < 500) return false;
  return failureCount < 2;
}

export function createQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: { retry: shouldRetry, refetchOnWindowFocus: true },
      mutations: { retry: false },
    },
  });
}

/** Another key is another person: forget every answer and ask again. Returns the unsubscribe. */
export function resetQueriesOnKeyChange(queryClient: QueryClient): () => void {
  let key = authStore.key;
  return authStore.subscribe(() => {
    if (authStore.key === key) return;
    key = authStore.key;
    void queryClient.resetQueries();
  });
}
