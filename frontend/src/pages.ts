/**
 * The app's pages: one entry per route, read by the router (routes.tsx) and the navigation drawer.
 * To add a page: write `pages/<area>/<Name>Page.tsx` with a default export, add an entry here (lazy, so
 * it lands in its own chunk), and give it `nav` to list it in the drawer. `access: 'admin'` hides it from
 * client keys. See doc/frontend.md.
 */
import { lazy, type ComponentType, type LazyExoticComponent } from 'react';

export type Access = 'admin' | 'any';
export type NavSection = 'operate' | 'try' | 'build';
export type NavIcon =
  | 'overview'
  | 'models'
  | 'logs'
  | 'chat'
  | 'transcribe'
  | 'speakers'
  | 'translate'
  | 'speech'
  | 'jobs'
  | 'code'
  | 'usage'
  | 'my-usage';

export interface PageDef {
  path: string;
  title: string;
  access: Access;
  Component: LazyExoticComponent<ComponentType>;
  /** Listed in the drawer when set; detail pages (`/jobs/:id`) have none. */
  nav?: { label: string; icon: NavIcon; section: NavSection };
}

export const NAV_SECTIONS: { id: NavSection; label: string }[] = [
  { id: 'operate', label: 'Operate' },
  { id: 'try', label: 'Try it' },
  { id: 'build', label: 'Build' },
];

/** Where a client key lands (it may not see the Overview at `/`). */
export const CLIENT_HOME = '/playground/chat';

export const PAGES: PageDef[] = [
  {
    path: '/',
    title: 'Overview',
    access: 'admin',
    Component: lazy(() => import('./pages/overview/OverviewPage')),
    nav: { label: 'Overview', icon: 'overview', section: 'operate' },
  },
  {
    path: '/models',
    title: 'Models',
    access: 'admin',
    Component: lazy(() => import('./pages/models/ModelsPage')),
    nav: { label: 'Models', icon: 'models', section: 'operate' },
  },
  {
    path: '/logs',
    title: 'Logs',
    access: 'admin',
    Component: lazy(() => import('./pages/logs/LogsPage')),
    nav: { label: 'Logs', icon: 'logs', section: 'operate' },
  },
  {
    path: '/playground/chat',
    title: 'Chat',
    access: 'any',
    Component: lazy(() => import('./pages/playground/ChatPage')),
    nav: { label: 'Chat', icon: 'chat', section: 'try' },
  },
  {
    path: '/playground/transcribe',
    title: 'Transcription',
    access: 'any',
    Component: lazy(() => import('./pages/playground/TranscribePage')),
    nav: { label: 'Transcription', icon: 'transcribe', section: 'try' },
  },
  {
    path: '/playground/speakers',
    title: 'Who said what',
    access: 'any',
    Component: lazy(() => import('./pages/playground/SpeakersPage')),
    nav: { label: 'Who said what', icon: 'speakers', section: 'try' },
  },
  {
    path: '/playground/translate',
    title: 'Translation',
    access: 'any',
    Component: lazy(() => import('./pages/playground/TranslatePage')),
    nav: { label: 'Translate', icon: 'translate', section: 'try' },
  },
  {
    path: '/playground/speech',
    title: 'Speech',
    access: 'any',
    Component: lazy(() => import('./pages/playground/SpeechPage')),
    nav: { label: 'Speech', icon: 'speech', section: 'try' },
  },
  {
    path: '/jobs',
    title: 'Jobs',
    access: 'any',
    Component: lazy(() => import('./pages/jobs/JobsPage')),
    nav: { label: 'Jobs', icon: 'jobs', section: 'try' },
  },
  {
    path: '/jobs/:jobId',
    title: 'Job',
    access: 'any',
    Component: lazy(() => import('./pages/jobs/JobPage')),
  },
  {
    path: '/code',
    title: 'Use it from code',
    access: 'any',
    Component: lazy(() => import('./pages/code/CodePage')),
    nav: { label: 'Use it from code', icon: 'code', section: 'build' },
  },
  {
    path: '/usage',
    title: 'Usage',
    access: 'admin',
    Component: lazy(() => import('./pages/usage/UsagePage')),
    nav: { label: 'Usage', icon: 'usage', section: 'operate' },
  },
  {
    path: '/my-usage',
    title: 'My usage',
    access: 'any',
    Component: lazy(() => import('./pages/usage/MyUsagePage')),
    nav: { label: 'My usage', icon: 'my-usage', section: 'build' },
  },
];
