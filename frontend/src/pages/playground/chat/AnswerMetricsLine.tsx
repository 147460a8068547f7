import Typography from '@mui/material/Typography';

import type { AnswerMetrics, ChatPhase } from './useChatSession';

/** "TTFT 120 ms · 42.0 tok/s · 19 prompt + 64 completion tokens" for the latest answer. */
function metricsText(metrics: AnswerMetrics, phase: ChatPhase): string {
  const parts: string[] = [];
  parts.push(`TTFT ${metrics.ttftMs === null ? '–' : `${Math.round(metrics.ttftMs)} ms`}`);
  const estimate = phase === 'streaming' || metrics.usage === null;
  const speed = metrics.tokensPerS === null ? '–' : metrics.tokensPerS.toFixed(1);
  parts.push(`${estimate && metrics.tokensPerS !== null ? '≈ ' : ''}${speed} tok/s`);
  if (metrics.usage) {
    parts.push(
      `${metrics.usage.prompt_tokens} prompt + ${metrics.usage.completion_tokens} completion tokens`,
    );
  } else if (phase === 'streaming') {
    parts.push(`${metrics.chunks} chunk${metrics.chunks === 1 ? '' : 's'} so far`);
  } else {
    parts.push('usage not reported');
  }
  return parts.join(' · ');
}

export function AnswerMetricsLine({ metrics, phase }: { metrics: AnswerMetrics; phase: ChatPhase }) {
  return (
    <Typography
      variant="body2"
      color="text.secondary"
      data-testid="chat-metrics"
      sx={{ fontVariantNumeric: 'tabular-nums' }}
    >
      {metricsText(metrics, phase)}
    </Typography>
  );
}
