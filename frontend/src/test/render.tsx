import { render } from '@testing-library/react';
import { createMemoryRouter } from 'react-router';

import { App } from '../App';
import { createQueryClient } from '../queryClient';
import { appRoutes } from '../routes';

/** The whole app (shell, router, queries) at `path`, against MSW. */
export function renderApp(path = '/') {
  const router = createMemoryRouter(appRoutes, { initialEntries: [path] });
  const queryClient = createQueryClient();
  // Tests fail fast: no retries of 5xx, no refetch loops beyond what a test waits for.
  queryClient.setDefaultOptions({
    queries: { retry: false, refetchOnWindowFocus: false },
    mutations: { retry: false },
  });
  const result = render(<App router={router} queryClient={queryClient} />);
  return { ...result, router, queryClient };
}
