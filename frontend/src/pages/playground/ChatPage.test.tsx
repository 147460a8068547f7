import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';

import { clientMe, envelope } from '../../test/fixtures';
import { renderApp } from '../../test/render';
import { server } from '../../test/server';

const encoder = new TextEncoder();

function chunk(content: string | null, finish: string | null = null, usage: object | null = null): string {
  const choices =
    content === null && usage
      ? []
      : [{ index: 0, delta: content === null ? {} : { content }, finish_reason: finish }];
  return `data: ${JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion.chunk', model: 'qwen', choices, usage })}\n\n`;
}

/** A chat stream as the gateway sends it: role chunk, text chunks, finish, usage, [DONE]. */
function answer(pieces: string[], usage = { prompt_tokens: 12, completion_tokens: pieces.length }) {
  return [
    chunk(''),
    ...pieces.map((piece) => chunk(piece)),
    chunk(null, 'stop'),
    chunk(null, null, { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens }),
    'data: [DONE]\n\n',
  ];
}

function eventStream(
  events: string[],
  { holdOpen = false, signal }: { holdOpen?: boolean; signal?: AbortSignal } = {},
) {
  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      for (const event of events) {
        controller.enqueue(encoder.encode(event));
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      if (!holdOpen) controller.close();
      else
        signal?.addEventListener('abort', () => controller.error(new DOMException('aborted', 'AbortError')));
    },
  });
  return new HttpResponse(body, { headers: { 'Content-Type': 'text/event-stream' } });
}

async function typeAndSend(text: string) {
  const input = await screen.findByTestId('chat-input');
  await waitFor(() =>
    expect(screen.getByRole('combobox', { name: 'Model' })).toHaveTextContent('Qwen/Qwen3-8B'),
  );
  await userEvent.type(input, text);
  await userEvent.keyboard('{Enter}');
}

describe('the chat playground', () => {
  it('streams the answer from SSE chunks and shows TTFT, speed and usage', async () => {
    const bodies: Record<string, unknown>[] = [];
    server.use(
      http.post('*/v1/chat/completions', async ({ request }) => {
        bodies.push((await request.json()) as Record<string, unknown>);
        return eventStream(answer(['Hel', 'lo', ' there', '!']));
      }),
    );
    renderApp('/playground/chat');
    await userEvent.type(await screen.findByTestId('chat-system'), 'Be brief.');
    await typeAndSend('Hi{Shift>}{Enter}{/Shift}you');

    await waitFor(() => expect(screen.getByTestId('chat-status')).toHaveTextContent('Done'));
    expect(screen.getByTestId('chat-answer')).toHaveTextContent('Hello there!');
    const metrics = screen.getByTestId('chat-metrics');
    expect(metrics).toHaveTextContent(/TTFT \d+ ms/);
    expect(metrics).toHaveTextContent(/tok\/s/);
    expect(metrics).toHaveTextContent('12 prompt + 4 completion tokens');
    expect(screen.queryByTestId('chat-stop')).not.toBeInTheDocument();
    expect(screen.getByTestId('chat-input')).toHaveValue('');

    expect(bodies[0]).toMatchObject({
      model: 'Qwen/Qwen3-8B',
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: 512,
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hi\nyou' },
      ],
    });

    // The next message carries the conversation so far.
    await typeAndSend('More');
    await waitFor(() => expect(bodies).toHaveLength(2));
    expect(bodies[1]?.messages).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hi\nyou' },
      { role: 'assistant', content: 'Hello there!' },
      { role: 'user', content: 'More' },
    ]);
    await waitFor(() => expect(screen.getByTestId('chat-status')).toHaveTextContent('Done'));
    await userEvent.click(screen.getByRole('button', { name: 'Clear conversation' }));
    expect(screen.queryByTestId('chat-answer')).not.toBeInTheDocument();
    expect(screen.getByText(/No message yet/)).toBeInTheDocument();
  });

  it('Stop aborts the request and keeps the text so far', async () => {
    let aborted = false;
    server.use(
      http.post('*/v1/chat/completions', ({ request }) => {
        request.signal.addEventListener('abort', () => {
          aborted = true;
        });
        return eventStream([chunk(''), chunk('Once upon')], { holdOpen: true, signal: request.signal });
      }),
    );
    renderApp('/playground/chat');
    await typeAndSend('Tell a story');

    await waitFor(() => expect(screen.getByTestId('chat-answer')).toHaveTextContent('Once upon'));
    expect(screen.getByTestId('chat-status')).toHaveTextContent('Streaming…');
    expect(screen.getByTestId('chat-send')).toBeDisabled();
    const stop = screen.getByTestId('chat-stop');
    expect(stop).toBeEnabled();
    await userEvent.click(stop);

    await waitFor(() => expect(screen.getByTestId('chat-status')).toHaveTextContent('Stopped'));
    expect(aborted).toBe(true);
    expect(screen.getByTestId('chat-answer')).toHaveTextContent('Once upon');
    expect(screen.queryByTestId('chat-stop')).not.toBeInTheDocument();
    expect(screen.getByTestId('chat-metrics')).toHaveTextContent(/TTFT \d+ ms/);
  });

  it('waits out a 503 "model loading" with a countdown, then streams', async () => {
    let calls = 0;
    server.use(
      http.post('*/v1/chat/completions', () => {
        calls += 1;
        if (calls === 1) {
          return HttpResponse.json(
            envelope(
              "model 'qwen' is loading (loading, 40%); retry shortly",
              'service_unavailable_error',
              'model_loading',
            ),
            { status: 503, headers: { 'Retry-After': '2' } },
          );
        }
        return eventStream(answer(['Ready', ' now']));
      }),
    );
    renderApp('/playground/chat');
    await typeAndSend('Hello');

    expect(await screen.findByTestId('chat-retry-countdown')).toHaveTextContent(
      'Model loading — retrying in 2 s',
    );
    await waitFor(() =>
      expect(screen.getByTestId('chat-retry-countdown')).toHaveTextContent('retrying in 1 s'),
    );
    await waitFor(() => expect(screen.getByTestId('chat-status')).toHaveTextContent('Done'));
    expect(calls).toBe(2);
    expect(screen.getByTestId('chat-answer')).toHaveTextContent('Ready now');
    expect(screen.queryByTestId('chat-retry-countdown')).not.toBeInTheDocument();
  });

  it('a cancelled wait puts the message back in the box', async () => {
    server.use(
      http.post('*/v1/chat/completions', () =>
        HttpResponse.json(envelope('model is loading', 'service_unavailable_error', 'model_loading'), {
          status: 503,
          headers: { 'Retry-After': '30' },
        }),
      ),
    );
    renderApp('/playground/chat');
    await typeAndSend('Hello');
    await screen.findByTestId('chat-retry-countdown');
    await userEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(screen.queryByTestId('chat-retry-countdown')).not.toBeInTheDocument();
    expect(screen.getByTestId('chat-status')).toHaveTextContent('Stopped');
    expect(screen.getByTestId('chat-input')).toHaveValue('Hello');
  });

  it("shows the server's message for other errors, and for one that comes mid-stream", async () => {
    server.use(
      http.post('*/v1/chat/completions', () =>
        HttpResponse.json(
          envelope("max_tokens is too large: the model's context is 4096 tokens", 'invalid_request_error'),
          {
            status: 400,
          },
        ),
      ),
    );
    renderApp('/playground/chat');
    await typeAndSend('Hello');
    await waitFor(() =>
      expect(screen.getByTestId('chat-status')).toHaveTextContent(
        "max_tokens is too large: the model's context is 4096 tokens",
      ),
    );
    expect(screen.getByTestId('chat-input')).toHaveValue('Hello'); // nothing came back: the message is not lost

    server.use(
      http.post('*/v1/chat/completions', () =>
        eventStream([
          chunk(''),
          chunk('Partial'),
          `data: ${JSON.stringify(envelope('generation failed (response chatcmpl-1); the server log has the details', 'server_error', 'internal_error'))}\n\n`,
          'data: [DONE]\n\n',
        ]),
      ),
    );
    await userEvent.click(screen.getByTestId('chat-send'));
    await waitFor(() =>
      expect(screen.getByTestId('chat-status')).toHaveTextContent('generation failed (response chatcmpl-1)'),
    );
    expect(screen.getByTestId('chat-answer')).toHaveTextContent('Partial');
  });

  it('a client key sees every served name, with a note', async () => {
    server.use(http.get('*/api/auth/me', () => HttpResponse.json(clientMe)));
    renderApp('/playground/chat');
    expect(await screen.findByText(/every served name is listed/)).toBeInTheDocument();
  });
});
