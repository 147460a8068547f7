import CssBaseline from '@mui/material/CssBaseline';
import { ThemeProvider } from '@mui/material/styles';
import { QueryClientProvider, type QueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { createBrowserRouter, RouterProvider } from 'react-router';

import { createQueryClient, resetQueriesOnKeyChange } from './queryClient';
import { appRoutes } from './routes';
import { theme } from './theme/theme';

/** A browser router, or in tests a memory router (the same type). */
type Router = ReturnType<typeof createBrowserRouter>;

interface AppProps {
  /** Tests pass a memory router and a fresh query client. */
  router?: Router;
  queryClient?: QueryClient;
}

export function App({ router, queryClient }: AppProps) {
  const [client] = useState(() => queryClient ?? createQueryClient());
  const [appRouter] = useState(() => router ?? createBrowserRouter(appRoutes));
  useEffect(() => resetQueriesOnKeyChange(client), [client]);
  return (
    <ThemeProvider theme={theme} defaultMode="system">
      <CssBaseline enableColorScheme />
      <QueryClientProvider client={client}>
        <RouterProvider router={appRouter} />
      </QueryClientProvider>
    </ThemeProvider>
  );
}
