/**
 * Where the API key lives: the browser's localStorage, or memory only when the browser refuses storage
 * (private windows, storage disabled). Also whether the key dialog is asked for, and with which message
 * (a 401 anywhere asks for it with the server's words).
 *
 * A plain module-level store (React reads it with `useSyncExternalStore`), so that the API client,
 * which lives outside React, reads the same key as the components.
 */
import { useSyncExternalStore } from 'react';

export const STORAGE_KEY = 'gateway.apiKey';

export type KeyPersistence = 'local' | 'memory';

export interface AuthSnapshot {
  key: string | null;
  /** Where `key` is kept: `memory` when the browser refused localStorage (forgotten on reload). */
  persistence: KeyPersistence;
  /** The key dialog is asked for; `message` is the server's explanation (a 401) or null. */
  prompt: { open: boolean; message: string | null };
}

type Listener = () => void;

function readStoredKey(): string | null {
  try {
    return window.localStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

class AuthStore {
  private snapshot: AuthSnapshot = {
    key: null,
    persistence: 'local',
    prompt: { open: false, message: null },
  };
  private readonly listeners = new Set<Listener>();

  constructor() {
    this.snapshot = { ...this.snapshot, key: readStoredKey() };
  }

  subscribe = (listener: Listener): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getSnapshot = (): AuthSnapshot => this.snapshot;

  get key(): string | null {
    return this.snapshot.key;
  }

  /** Keeps the key in localStorage, or in memory when the browser refuses; closes the dialog. */
  setKey(key: string): void {
    let persistence: KeyPersistence = 'local';
    try {
      window.localStorage.setItem(STORAGE_KEY, key);
    } catch {
      persistence = 'memory';
    }
    this.update({ key, persistence, prompt: { open: false, message: null } });
  }

  clearKey(): void {
    try {
      window.localStorage.removeItem(STORAGE_KEY);
    } catch {
      // nothing stored when storage is refused
    }
    this.update({ key: null, persistence: 'local' });
  }

  /** Asks for the key dialog; `message` (the server's words) is shown in it. */
  requestKey(message: string | null = null): void {
    this.update({ prompt: { open: true, message } });
  }

  dismissPrompt(): void {
    this.update({ prompt: { open: false, message: null } });
  }

  /** For tests: forget everything, reread storage. */
  reset(): void {
    this.snapshot = { key: readStoredKey(), persistence: 'local', prompt: { open: false, message: null } };
    this.emit();
  }

  private update(changes: Partial<AuthSnapshot>): void {
    this.snapshot = { ...this.snapshot, ...changes };
    this.emit();
  }

  private emit(): void {
    for (const listener of this.listeners) listener();
  }
}

export const authStore = new AuthStore();

export function useAuthState(): AuthSnapshot {
  return useSyncExternalStore(authStore.subscribe, authStore.getSnapshot);
}
