import type { RouteObject } from 'react-router';

import { AppShell } from './components/AppShell';
import { NotFound } from './components/NotFound';
import { PageFrame } from './components/PageFrame';
import { PAGES } from './pages';

/** The route tree: the shell around every page of `PAGES`; anything else is "not found". */
export const appRoutes: RouteObject[] = [
  {
    element: <AppShell />,
    children: [
      ...PAGES.map((page) => ({ path: page.path, element: <PageFrame page={page} /> })),
      { path: '*', element: <NotFound /> },
    ],
  },
];
