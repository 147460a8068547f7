/**
 * One streamed chat completion: POST /v1/chat/completions with `stream: true` and the usage chunk, read
 * as server-sent events. Aborting the signal closes the connection; the gateway then stops generating.
 */
import { gatewayFetch } from '../../../api/client';
import { apiErrorFrom, isErrorEnvelope } from '../../../api/errors';
import { readEvents } from '../../../api/sse';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  temperature: number;
  maxTokens: number;
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens?: number;
}

export interface StreamCallbacks {
  /** Text of the answer, as it arrives. */
  onText: (text: string) => void;
  onUsage: (usage: Usage) => void;
}

interface Chunk {
  choices?: { index: number; delta?: { content?: string | null }; finish_reason?: string | null }[];
  usage?: Usage | null;
}

/** Streams the answer; resolves with the finish reason (`stop`, `length`, or null when none came). */
export async function streamChat(
  request: ChatRequest,
  signal: AbortSignal,
  callbacks: StreamCallbacks,
): Promise<string | null> {
  const response = await gatewayFetch('/v1/chat/completions', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'text/event-stream' },
    body: JSON.stringify({
      model: request.model,
      messages: request.messages,
      temperature: request.temperature,
      max_tokens: request.maxTokens,
      stream: true,
      stream_options: { include_usage: true },
    }),
    signal,
  });
  if (!response.body) throw new Error('The gateway answered without a body.');
  let finish: string | null = null;
  for await (const { data } of readEvents(response.body)) {
    if (data.trim() === '[DONE]') break;
    let chunk: unknown;
    try {
      chunk = JSON.parse(data);
    } catch {
      continue; // not JSON: nothing a chat client can use
    }
    // An error after the stream began arrives as an event with OpenAI's error envelope.
    if (isErrorEnvelope(chunk)) throw apiErrorFrom(response.status, chunk);
    const { choices, usage } = chunk as Chunk;
    for (const choice of choices ?? []) {
      if (choice.index !== 0) continue;
      const text = choice.delta?.content;
      if (text) callbacks.onText(text);
      if (choice.finish_reason) finish = choice.finish_reason;
    }
    if (usage) callbacks.onUsage(usage);
  }
  return finish;
}
