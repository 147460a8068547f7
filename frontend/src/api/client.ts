/**
 * The typed gateway client: openapi-fetch over the paths generated from the gateway's `/openapi.json`
 * (`npm run gen:api`). Every call carries the key from the auth store; a 401 opens the key dialog with
 * the server's message.
 *
 *   const { data, error, response } = await api.GET('/api/admin/status');
 *   const status = unwrap(await api.GET('/api/admin/status')); // throws ApiError instead
 *
 * Streams (SSE) and uploads that the generated types do not describe use `gatewayFetch`, which does the
 * same for plain `fetch`.
 */
import createClient, { type Client, type Middleware } from 'openapi-fetch';

import { authStore } from '../auth/authStore';
import { apiErrorFrom, apiErrorFromResponse, type ApiError } from './errors';
import type { paths } from './schema';

export type GatewayClient = Client<paths>;

interface ClientOptions {
  /** A fixed key instead of the stored one (the key dialog checks a key before keeping it). */
  key?: string;
  /** Open the key dialog on a 401 (default true). */
  promptOnUnauthorized?: boolean;
}

function origin(): string {
  return globalThis.location?.origin ?? 'http://localhost';
}

async function promptWithServerMessage(response: Response): Promise<void> {
  const error = await apiErrorFromResponse(response.clone());
  authStore.requestKey(error.message);
}

export function createGatewayClient({ key, promptOnUnauthorized = true }: ClientOptions = {}): GatewayClient {
  const client = createClient<paths>({
    baseUrl: origin(),
    // Looked up on each call, so a fetch replaced after import (tests' MSW) is the one used.
    fetch: (request) => globalThis.fetch(request),
  });
  const auth: Middleware = {
    onRequest({ request }) {
      const current = key ?? authStore.key;
      if (current && !request.headers.has('Authorization')) {
        request.headers.set('Authorization', `Bearer ${current}`);
      }
      return request;
    },
    async onResponse({ response }) {
      if (response.status === 401 && promptOnUnauthorized) await promptWithServerMessage(response);
      return response;
    },
  };
  client.use(auth);
  return client;
}

/** The app's client: the stored key, the dialog on a 401. */
export const api = createGatewayClient();

/** `data` of an openapi-fetch result, or the gateway's error as an ApiError. */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.response.ok && result.data !== undefined) return result.data;
  if (result.response.ok) return undefined as T; // 204 and other empty answers
  throw apiErrorFrom(result.response.status, result.error, result.response.headers);
}

/**
 * `fetch` for the routes the typed client does not cover (SSE streams, multipart uploads, file downloads):
 * the key is added, a 401 opens the key dialog, and an error answer throws an ApiError.
 */
export async function gatewayFetch(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  const key = authStore.key;
  if (key && !headers.has('Authorization')) headers.set('Authorization', `Bearer ${key}`);
  const response = await globalThis.fetch(new URL(path, origin()), { ...init, headers });
  if (response.status === 401) await promptWithServerMessage(response);
  if (!response.ok) throw await apiErrorFromResponse(response);
  return response;
}

export type { ApiError };
