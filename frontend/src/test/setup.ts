import '@testing-library/jest-dom/vitest';

import { cleanup, configure } from '@testing-library/react';
import { afterAll, afterEach, beforeAll, vi } from 'vitest';

import { authStore } from '../auth/authStore';
import { fakeMatchMedia } from './media';
import { server } from './server';

// Two shared cores and MUI's first renders: give `findBy*` and `waitFor` time.
configure({ asyncUtilTimeout: 5000 });

// The network is MSW's: a request no test handled is an error, not a silent pass.
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => {
  cleanup();
  server.resetHandlers();
  vi.restoreAllMocks();
  window.localStorage.clear();
  authStore.reset();
});
afterAll(() => server.close());

// jsdom lacks these; MUI and the charts ask for them.
if (!window.matchMedia) window.matchMedia = fakeMatchMedia(() => false);
if (!('ResizeObserver' in globalThis)) {
  globalThis.ResizeObserver = class {
    observe() {}
    unobserve() {}
    disconnect() {}
  };
}
