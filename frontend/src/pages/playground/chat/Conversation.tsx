import Box from '@mui/material/Box';
import Paper from '@mui/material/Paper';
import Typography from '@mui/material/Typography';
import { useEffect, useRef } from 'react';

import type { ChatPhase, Turn } from './useChatSession';

function emptyAnswerNote(phase: ChatPhase, latest: boolean): string | null {
  if (latest && (phase === 'streaming' || phase === 'waiting')) return null;
  if (latest && phase === 'stopped') return 'Stopped before the first token.';
  if (latest && phase === 'error') return 'No answer.';
  return 'The model answered with no text.';
}

function TurnBubble({ turn, latest, phase }: { turn: Turn; latest: boolean; phase: ChatPhase }) {
  const mine = turn.role === 'user';
  const note = !mine && turn.content === '' ? emptyAnswerNote(phase, latest) : null;
  return (
    <Box
      component="li"
      sx={{ display: 'flex', justifyContent: mine ? 'flex-end' : 'flex-start', mb: 1.5 }}
      aria-label={mine ? 'You' : 'Assistant'}
    >
      <Box
        sx={{
          maxWidth: { xs: '92%', sm: '80%' },
          px: 1.5,
          py: 1,
          borderRadius: 2,
          bgcolor: mine ? 'action.selected' : 'background.paper',
          border: 1,
          borderColor: 'divider',
        }}
      >
        <Typography variant="caption" color="text.secondary" component="div">
          {mine ? 'You' : 'Assistant'}
        </Typography>
        <Typography
          component="div"
          variant="body2"
          sx={{ whiteSpace: 'pre-wrap', overflowWrap: 'anywhere' }}
          data-testid={latest && !mine ? 'chat-answer' : undefined}
        >
          {turn.content}
        </Typography>
        {note && (
          <Typography variant="body2" color="text.secondary" sx={{ fontStyle: 'italic' }}>
            {note}
          </Typography>
        )}
      </Box>
    </Box>
  );
}

/** The turns so far; the newest assistant message is `chat-answer` and grows while it streams. */
export function Conversation({ turns, phase }: { turns: Turn[]; phase: ChatPhase }) {
  const scroller = useRef<HTMLDivElement>(null);
  const lastIndex = turns.findLastIndex((t) => t.role === 'assistant');
  const size = turns.reduce((sum, t) => sum + t.content.length, 0) + turns.length;

  useEffect(() => {
    const box = scroller.current;
    if (box) box.scrollTop = box.scrollHeight;
  }, [size]);

  return (
    <Paper
      ref={scroller}
      variant="outlined"
      tabIndex={0}
      aria-label="Conversation"
      sx={{ p: 1.5, minHeight: 200, maxHeight: '55vh', overflow: 'auto', bgcolor: 'background.default' }}
    >
      {turns.length === 0 ? (
        <Typography color="text.secondary" variant="body2">
          No message yet. Write one below: Enter sends, Shift+Enter starts a new line.
        </Typography>
      ) : (
        <Box component="ol" sx={{ listStyle: 'none', m: 0, p: 0 }}>
          {turns.map((turn, index) => (
            <TurnBubble key={index} turn={turn} latest={index === lastIndex} phase={phase} />
          ))}
        </Box>
      )}
    </Paper>
  );
}
