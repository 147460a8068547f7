import { useCallback, useEffect, useRef, useState } from 'react';

import { errorMessage } from '../../../api/errors';
import { streamChat, type ChatMessage, type ChatRequest, type Usage } from './streamChat';
import { loadingRetryDelay, useRetryCountdown } from './useRetryCountdown';

export type ChatPhase = 'idle' | 'streaming' | 'waiting' | 'done' | 'stopped' | 'error';

export interface Turn {
  role: 'user' | 'assistant';
  content: string;
}

export interface AnswerMetrics {
  /** Milliseconds from sending to the first text. */
  ttftMs: number | null;
  /** Completion tokens per second after the first one (from the usage chunk, else the chunks counted). */
  tokensPerS: number | null;
  usage: Usage | null;
  /** Text chunks received: an estimate of the tokens until the usage chunk comes. */
  chunks: number;
}

export interface ChatSettings {
  model: string;
  system: string;
  temperature: number;
  maxTokens: number;
}

type Outcome =
  | { kind: 'done' }
  | { kind: 'stopped' }
  | { kind: 'loading'; delay: number }
  | { kind: 'error'; message: string; chunks: number };

const NO_METRICS: AnswerMetrics = { ttftMs: null, tokensPerS: null, usage: null, chunks: 0 };

function rate(tokens: number, firstAt: number | null, endAt: number): number | null {
  if (firstAt === null || tokens < 2 || endAt - firstAt <= 0) return null;
  return ((tokens - 1) * 1000) / (endAt - firstAt);
}

/**
 * A conversation with one model: the turns, the streamed answer, its metrics, Stop, and the automatic
 * retry (with a countdown) while the gateway answers 503 `model_loading`. A message that fails before
 * any text comes back is taken off the conversation and handed to `onUnsent` (the page puts it back
 * in the input box).
 */
export function useChatSession(onUnsent: (text: string) => void) {
  const [turns, setTurns] = useState<Turn[]>([]);
  const [phase, setPhase] = useState<ChatPhase>('idle');
  const [error, setError] = useState<string | null>(null);
  const [metrics, setMetrics] = useState<AnswerMetrics>(NO_METRICS);
  const { secondsLeft, wait: waitCountdown, cancel: cancelCountdown } = useRetryCountdown();
  const controller = useRef<AbortController | null>(null);
  const unsent = useRef(onUnsent);
  useEffect(() => {
    unsent.current = onUnsent;
  }, [onUnsent]);

  const takeBack = useCallback((text: string) => {
    setTurns((current) => current.slice(0, -2));
    unsent.current(text);
  }, []);

  const streamOnce = useCallback(async (request: ChatRequest): Promise<Outcome> => {
    const abort = new AbortController();
    controller.current = abort;
    setPhase('streaming');
    setError(null);
    setMetrics(NO_METRICS);
    const startedAt = performance.now();
    let firstAt: number | null = null;
    let chunks = 0;
    const received: { usage: Usage | null } = { usage: null };
    try {
      await streamChat(request, abort.signal, {
        onText: (text) => {
          const now = performance.now();
          firstAt ??= now;
          chunks += 1;
          const ttftMs = firstAt - startedAt;
          const tokensPerS = rate(chunks, firstAt, now);
          setMetrics((m) => ({ ...m, ttftMs, tokensPerS, chunks }));
          setTurns((current) => {
            const last = current.at(-1);
            if (!last || last.role !== 'assistant') return current;
            return [...current.slice(0, -1), { ...last, content: last.content + text }];
          });
        },
        onUsage: (usage) => {
          received.usage = usage;
        },
      });
      const endAt = performance.now();
      const tokens = received.usage ? received.usage.completion_tokens : chunks;
      setMetrics({
        ttftMs: firstAt === null ? null : firstAt - startedAt,
        tokensPerS: rate(tokens, firstAt, endAt),
        usage: received.usage,
        chunks,
      });
      setPhase('done');
      return { kind: 'done' };
    } catch (caught) {
      if (abort.signal.aborted) {
        if (controller.current === abort) setPhase('stopped'); // not after a clear
        return { kind: 'stopped' };
      }
      const delay = loadingRetryDelay(caught);
      if (delay !== null) return { kind: 'loading', delay };
      return { kind: 'error', message: errorMessage(caught), chunks };
    } finally {
      if (controller.current === abort) controller.current = null;
    }
  }, []);

  /** One answer; while the model is loading, waits out the countdown and asks again. */
  const run = useCallback(
    async (request: ChatRequest, prompt: string): Promise<void> => {
      for (;;) {
        const outcome = await streamOnce(request);
        if (outcome.kind === 'loading') {
          setPhase('waiting');
          if (await waitCountdown(outcome.delay)) continue;
          return; // cancelled: cancelRetry has put things back
        }
        if (outcome.kind === 'error') {
          setError(outcome.message);
          setPhase('error');
          if (outcome.chunks === 0) takeBack(prompt);
        }
        return;
      }
    },
    [streamOnce, waitCountdown, takeBack],
  );

  const send = useCallback(
    (prompt: string, settings: ChatSettings) => {
      const history: ChatMessage[] = turns.filter((t) => t.content !== '');
      const messages: ChatMessage[] = [
        ...(settings.system.trim() ? [{ role: 'system' as const, content: settings.system }] : []),
        ...history,
        { role: 'user', content: prompt },
      ];
      setTurns([...turns, { role: 'user', content: prompt }, { role: 'assistant', content: '' }]);
      void run(
        { model: settings.model, messages, temperature: settings.temperature, maxTokens: settings.maxTokens },
        prompt,
      );
    },
    [turns, run],
  );

  /** Stops the answer being streamed (the gateway stops generating when the connection closes). */
  const stop = useCallback(() => controller.current?.abort(), []);

  /** Gives up waiting for a loading model; the message goes back to the input box. */
  const cancelRetry = useCallback(() => {
    cancelCountdown();
    const prompt = turns.at(-2)?.content ?? '';
    takeBack(prompt);
    setPhase('stopped');
  }, [cancelCountdown, takeBack, turns]);

  const clear = useCallback(() => {
    const streaming = controller.current;
    controller.current = null;
    streaming?.abort();
    cancelCountdown();
    setTurns([]);
    setPhase('idle');
    setError(null);
    setMetrics(NO_METRICS);
  }, [cancelCountdown]);

  useEffect(() => () => controller.current?.abort(), []);

  return {
    turns,
    phase,
    error,
    metrics,
    retryInS: secondsLeft,
    send,
    stop,
    cancelRetry,
    clear,
  };
}
