import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Card from '@mui/material/Card';
import CardContent from '@mui/material/CardContent';
import Chip from '@mui/material/Chip';
import Skeleton from '@mui/material/Skeleton';
import Stack from '@mui/material/Stack';
import Tab from '@mui/material/Tab';
import Tabs from '@mui/material/Tabs';
import ToggleButton from '@mui/material/ToggleButton';
import ToggleButtonGroup from '@mui/material/ToggleButtonGroup';
import Typography from '@mui/material/Typography';
import { useState } from 'react';

import { errorMessage } from '../../api/errors';
import { useAdminStatus, useMe, useServedModels } from '../../api/queries';
import type { ServedModel } from '../../api/types';
import { CodeBlock } from '../../components/CodeBlock';
import { PageHeader } from '../../components/PageHeader';
import { monospace } from '../../theme/theme';
import { HTTPX_KINDS, KEY_VARIABLE, snippetKindFor, snippetsFor, type SnippetKind } from './snippets';

interface ServedGroup {
  id: string;
  aliases: string[];
}

/** `/v1/models` lists a model's id, then its aliases (same `root`): one card per model. */
function groupByRoot(models: ServedModel[]): ServedGroup[] {
  const groups = new Map<string, string[]>();
  for (const model of models) {
    const names = groups.get(model.root) ?? [];
    if (model.id !== model.root) names.push(model.id);
    groups.set(model.root, names);
  }
  return [...groups].map(([id, aliases]) => ({ id, aliases }));
}

const KIND_LABELS: Record<SnippetKind, string> = {
  chat: 'Chat',
  transcription: 'Transcription',
  diarization: 'Diarization',
  translation: 'Translation',
  speech: 'Speech',
};

function ModelSnippets({
  group,
  knownKind,
  origin,
}: {
  group: ServedGroup;
  knownKind: SnippetKind | null;
  origin: string;
}) {
  const [chosenKind, setChosenKind] = useState<SnippetKind>('chat');
  const [language, setLanguage] = useState<'curl' | 'python'>('curl');
  const kind = knownKind ?? chosenKind;
  const snippets = snippetsFor(kind, group.id, origin);
  return (
    <Card component="section" aria-labelledby={`code-${group.id}`}>
      <CardContent>
        <Stack spacing={1.5}>
          <Box sx={{ display: 'flex', gap: 1, flexWrap: 'wrap', alignItems: 'center' }}>
            <Typography
              variant="h3"
              component="h2"
              id={`code-${group.id}`}
              sx={{ fontFamily: monospace, overflowWrap: 'anywhere' }}
            >
              {group.id}
            </Typography>
            {knownKind && <Chip size="small" label={KIND_LABELS[knownKind]} />}
            {group.aliases.map((alias) => (
              <Chip
                key={alias}
                size="small"
                variant="outlined"
                label={`alias: ${alias}`}
                sx={{ fontFamily: monospace }}
              />
            ))}
          </Box>
          {!knownKind && (
            <ToggleButtonGroup
              size="small"
              exclusive
              value={chosenKind}
              onChange={(_, value: SnippetKind | null) => value && setChosenKind(value)}
              aria-label={`What ${group.id} does`}
              sx={{ flexWrap: 'wrap' }}
            >
              <ToggleButton value="chat">Chat</ToggleButton>
              <ToggleButton value="transcription">Transcription</ToggleButton>
              <ToggleButton value="diarization">Diarization</ToggleButton>
              <ToggleButton value="translation">Translation</ToggleButton>
              <ToggleButton value="speech">Speech</ToggleButton>
            </ToggleButtonGroup>
          )}
          <Tabs
            value={language}
            onChange={(_, value: 'curl' | 'python') => setLanguage(value)}
            aria-label={`Language of the ${group.id} example`}
          >
            <Tab value="curl" label="curl" />
            <Tab value="python" label={HTTPX_KINDS.has(kind) ? 'Python (httpx)' : 'Python (openai)'} />
          </Tabs>
          <CodeBlock
            code={language === 'curl' ? snippets.curl : snippets.python}
            label={`${language} example for ${group.id}`}
          />
        </Stack>
      </CardContent>
    </Card>
  );
}

export default function CodePage() {
  const origin = window.location.origin;
  const me = useMe();
  const served = useServedModels();
  const admin = me.data?.role === 'admin';
  const status = useAdminStatus({ enabled: admin, refetchInterval: false });
  const kindOf = (name: string) =>
    snippetKindFor(status.data?.models.find((m) => m.served_names.includes(name))?.kind);
  return (
    <>
      <PageHeader
        title="Use it from code"
        subtitle="The gateway speaks OpenAI's API: point any OpenAI SDK at it."
      />
      <Stack spacing={2}>
        <Card>
          <CardContent>
            <Typography variant="body2">
              Base URL: <code>{origin}/v1</code>. The examples read the key from <code>{KEY_VARIABLE}</code>:
            </Typography>
            <Box sx={{ mt: 1 }}>
              <CodeBlock code={`export ${KEY_VARIABLE}=<your key>\npip install openai`} label="setup" />
            </Box>
          </CardContent>
        </Card>
        {served.error && <Alert severity="error">{errorMessage(served.error)}</Alert>}
        {!served.data
          ? !served.error && <Skeleton variant="rectangular" height={200} />
          : groupByRoot(served.data).map((group) => (
              <ModelSnippets key={group.id} group={group} knownKind={kindOf(group.id)} origin={origin} />
            ))}
        {served.data?.length === 0 && <Alert severity="info">No model is served.</Alert>}
      </Stack>
    </>
  );
}
