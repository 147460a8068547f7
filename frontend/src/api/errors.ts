/**
 * The one place that turns a failed gateway call into something a person can read.
 *
 * The gateway answers every error with OpenAI's envelope `{"error": {"message", "type", "param", "code"}}`;
 * proxies in between may answer with HTML or plain text, and a stopped gateway does not answer at all.
 */

export interface ErrorEnvelope {
  error: { message: string; type?: string | null; param?: string | null; code?: string | null };
}

export class ApiError extends Error {
  readonly status: number;
  readonly type: string | null;
  readonly code: string | null;
  readonly param: string | null;
  /** Seconds from a `Retry-After` header (429, 503 model_loading), when the gateway sent one. */
  readonly retryAfterS: number | null;

  constructor(
    status: number,
    message: string,
    details: {
      type?: string | null;
      code?: string | null;
      param?: string | null;
      retryAfterS?: number | null;
    } = {},
  ) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.type = details.type ?? null;
    this.code = details.code ?? null;
    this.param = details.param ?? null;
    this.retryAfterS = details.retryAfterS ?? null;
  }
}

export function isErrorEnvelope(body: unknown): body is ErrorEnvelope {
  if (typeof body !== 'object' || body === null || !('error' in body)) return false;
  const inner = body.error;
  return (
    typeof inner === 'object' && inner !== null && 'message' in inner && typeof inner.message === 'string'
  );
}

const STATUS_TEXT: Record<number, string> = {
  401: 'the gateway needs a valid API key',
  403: 'this key may not do that',
  404: 'not found',
  429: 'too many requests; wait a moment',
  502: 'the gateway could not be reached through the proxy',
  503: 'the gateway is not ready',
  504: 'the gateway took too long to answer',
};

function retryAfter(headers: Headers | undefined): number | null {
  const value = headers?.get('Retry-After');
  if (!value) return null;
  const seconds = Number(value);
  return Number.isFinite(seconds) ? seconds : null;
}

/** An ApiError from a status and a body already read (JSON envelope, other JSON, or text). */
export function apiErrorFrom(status: number, body: unknown, headers?: Headers): ApiError {
  const retryAfterS = retryAfter(headers);
  if (isErrorEnvelope(body)) {
    const { message, type, code, param } = body.error;
    return new ApiError(status, message, { type, code, param, retryAfterS });
  }
  if (
    typeof body === 'object' &&
    body !== null &&
    typeof (body as { detail?: unknown }).detail === 'string'
  ) {
    return new ApiError(status, (body as { detail: string }).detail, { retryAfterS });
  }
  const text = typeof body === 'string' ? body.trim() : '';
  const looksLikeText = text !== '' && text.length <= 300 && !text.startsWith('<');
  const fallback = STATUS_TEXT[status] ?? 'the gateway answered with an error';
  return new ApiError(status, looksLikeText ? text : `${fallback} (HTTP ${status})`, { retryAfterS });
}

/** Reads a failed `Response` (of a call made with plain `fetch`: streams, uploads) into an ApiError. */
export async function apiErrorFromResponse(response: Response): Promise<ApiError> {
  const text = await response.text().catch(() => '');
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return apiErrorFrom(response.status, body, response.headers);
}

/** A readable sentence for anything a gateway call may throw. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof DOMException && error.name === 'AbortError') return 'Stopped.';
  if (error instanceof TypeError) {
    // fetch rejects with a TypeError when nothing answers (server down, network, CORS)
    return 'The gateway did not answer. Is it running, and is this page served by it?';
  }
  if (error instanceof Error && error.message) return error.message;
  return 'Something went wrong.';
}
