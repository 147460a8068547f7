import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Stack from '@mui/material/Stack';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';
import { useState, type KeyboardEvent } from 'react';

import { PageHeader } from '../../components/PageHeader';
import { AnswerMetricsLine } from './chat/AnswerMetricsLine';
import { ChatSettingsCard, MAX_TOKENS_LIMIT } from './chat/ChatSettingsCard';
import { Conversation } from './chat/Conversation';
import { useChatSession, type ChatPhase, type ChatSettings } from './chat/useChatSession';
import { useModelChoices } from './chat/useModelChoices';

const PHASE_TEXT: Record<Exclude<ChatPhase, 'error'>, string> = {
  idle: 'Ready',
  streaming: 'Streaming…',
  waiting: 'Waiting for the model to load…',
  done: 'Done',
  stopped: 'Stopped',
};

function ChatStatus({ phase, error }: { phase: ChatPhase; error: string | null }) {
  if (phase === 'error') {
    return (
      <Alert severity="error" data-testid="chat-status">
        {error}
      </Alert>
    );
  }
  return (
    <Typography variant="body2" role="status" data-testid="chat-status">
      {PHASE_TEXT[phase]}
    </Typography>
  );
}

export default function ChatPage() {
  const models = useModelChoices('llm');
  const [settings, setSettings] = useState<ChatSettings>({
    model: '',
    system: '',
    temperature: 0.7,
    maxTokens: 512,
  });
  const [input, setInput] = useState('');
  const chat = useChatSession((text) => setInput(text));
  const model = settings.model || models.choices[0]?.name || '';
  const busy = chat.phase === 'streaming' || chat.phase === 'waiting';
  const maxTokensValid =
    Number.isInteger(settings.maxTokens) && settings.maxTokens >= 1 && settings.maxTokens <= MAX_TOKENS_LIMIT;
  const canSend = !busy && model !== '' && input.trim() !== '' && maxTokensValid;

  const send = () => {
    if (!canSend) return;
    chat.send(input, { ...settings, model });
    setInput('');
  };

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      send();
    }
  };

  const lastIsAnswer = chat.turns.at(-1)?.role === 'assistant';

  return (
    <>
      <PageHeader
        title="Chat"
        subtitle="Talk to a served language model: the answer streams in, with its speed and token usage."
      />
      <Box
        sx={{
          display: 'grid',
          gap: 2,
          gridTemplateColumns: { xs: 'minmax(0, 1fr)', md: '300px minmax(0, 1fr)' },
          alignItems: 'start',
        }}
      >
        <ChatSettingsCard
          models={models}
          settings={{ ...settings, model }}
          onChange={setSettings}
          disabled={busy}
        />
        <Stack spacing={1.5} component="section" aria-label="Conversation and message">
          <Conversation turns={chat.turns} phase={chat.phase} />
          {chat.retryInS !== null && (
            <Alert
              severity="info"
              action={
                <Button color="inherit" size="small" onClick={chat.cancelRetry}>
                  Cancel
                </Button>
              }
            >
              <span data-testid="chat-retry-countdown" role="timer" aria-live="polite">
                Model loading — retrying in {chat.retryInS} s
              </span>
            </Alert>
          )}
          <Box
            sx={{
              display: 'flex',
              flexWrap: 'wrap',
              gap: 1,
              alignItems: 'center',
              justifyContent: 'space-between',
            }}
          >
            <ChatStatus phase={chat.phase} error={chat.error} />
            {lastIsAnswer && chat.phase !== 'waiting' && (
              <AnswerMetricsLine metrics={chat.metrics} phase={chat.phase} />
            )}
          </Box>
          <TextField
            label="Message"
            placeholder="Ask something…"
            multiline
            minRows={2}
            maxRows={10}
            value={input}
            onChange={(event) => setInput(event.target.value)}
            onKeyDown={onKeyDown}
            helperText="Enter sends, Shift+Enter starts a new line."
            slotProps={{ htmlInput: { 'data-testid': 'chat-input' } }}
          />
          <Box sx={{ display: 'flex', gap: 1, flexWrap: 'wrap' }}>
            <Button variant="contained" onClick={send} disabled={!canSend} data-testid="chat-send">
              Send
            </Button>
            {chat.phase === 'streaming' && (
              <Button variant="outlined" color="warning" onClick={chat.stop} data-testid="chat-stop">
                Stop
              </Button>
            )}
            <Button
              variant="text"
              onClick={() => {
                chat.clear();
              }}
              disabled={chat.turns.length === 0 && chat.phase !== 'error'}
            >
              Clear conversation
            </Button>
          </Box>
        </Stack>
      </Box>
    </>
  );
}
