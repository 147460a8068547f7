import { describe, expect, it } from 'vitest';

import { ApiError, apiErrorFrom, apiErrorFromResponse, errorMessage } from './errors';

describe('errorMessage', () => {
  it("reads the message of OpenAI's error envelope", async () => {
    const response = new Response(
      JSON.stringify({
        error: {
          message: 'Invalid API key',
          type: 'authentication_error',
          param: null,
          code: 'invalid_api_key',
        },
      }),
      { status: 401, headers: { 'Content-Type': 'application/json' } },
    );
    const error = await apiErrorFromResponse(response);
    expect(error).toBeInstanceOf(ApiError);
    expect(error.status).toBe(401);
    expect(error.code).toBe('invalid_api_key');
    expect(errorMessage(error)).toBe('Invalid API key');
  });

  it('keeps Retry-After of a 503 model_loading', () => {
    const error = apiErrorFrom(
      503,
      {
        error: {
          message: "model 'qwen' is loading (40%); retry shortly",
          type: 'server_error',
          code: 'model_loading',
        },
      },
      new Headers({ 'Retry-After': '5' }),
    );
    expect(error.retryAfterS).toBe(5);
    expect(error.code).toBe('model_loading');
  });

  it('says what a status means when a proxy answers with HTML', () => {
    const error = apiErrorFrom(502, '<html><body>Bad Gateway</body></html>');
    expect(errorMessage(error)).toBe('the gateway could not be reached through the proxy (HTTP 502)');
  });

  it('keeps a short plain-text answer', () => {
    expect(errorMessage(apiErrorFrom(500, 'Internal Server Error'))).toBe('Internal Server Error');
  });

  it("reads FastAPI's own {detail} answers", () => {
    expect(errorMessage(apiErrorFrom(404, { detail: 'Not Found' }))).toBe('Not Found');
  });

  it('explains a gateway that does not answer', () => {
    expect(errorMessage(new TypeError('Failed to fetch'))).toMatch(/did not answer/);
  });

  it('reads any other error', () => {
    expect(errorMessage(new Error('boom'))).toBe('boom');
    expect(errorMessage(42)).toBe('Something went wrong.');
  });
});
