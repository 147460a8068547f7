import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Card from '@mui/material/Card';
import CardContent from '@mui/material/CardContent';
import Link from '@mui/material/Link';
import MenuItem from '@mui/material/MenuItem';
import Slider from '@mui/material/Slider';
import Stack from '@mui/material/Stack';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';
import { useMutation } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';

import { errorMessage } from '../../api/errors';
import { formatBytes, formatDuration } from '../../components/format';
import { PageHeader } from '../../components/PageHeader';
import { ModelSelect } from './chat/ModelSelect';
import { useModelChoices } from './chat/useModelChoices';
import { loadingRetryDelay, useRetryCountdown } from './chat/useRetryCountdown';
import {
  MAX_INPUT_CHARS,
  MAX_SPEED,
  MIN_SPEED,
  SPEECH_FORMATS,
  synthesize,
  type SpeechFormat,
  type SpeechOutcome,
  type SpeechProgress,
  type SpeechRequest,
} from './speech/speechApi';
import { useVoices, voicesFromError } from './speech/useVoices';
import { VoiceField } from './speech/VoiceField';
import { OptionsCard, PlaygroundColumns, RunControls, RunProgress } from './PlaygroundLayout';

const FORMAT_LABELS: Record<SpeechFormat, string> = {
  mp3: 'mp3 (plays while it streams)',
  opus: 'opus (Ogg)',
  aac: 'aac',
  flac: 'flac (lossless)',
  wav: 'wav',
  pcm: 'pcm (raw samples: download only)',
};

interface Result extends SpeechOutcome {
  url: string;
  format: SpeechFormat;
}

function progressText(progress: SpeechProgress | null, secondsLeft: number | null): string {
  if (secondsLeft !== null) return `Model loading — retrying in ${secondsLeft} s`;
  if (!progress || progress.firstByteMs === null) return 'Waiting for the first audio…';
  return `First audio after ${formatDuration(progress.firstByteMs / 1000)} · ${formatBytes(progress.bytes)} so far${
    progress.streaming ? ' · playing as it streams' : ''
  }`;
}

export default function SpeechPage() {
  const models = useModelChoices('tts');
  const [chosenModel, setChosenModel] = useState('');
  const model = chosenModel || models.choices[0]?.name || '';
  const voices = useVoices(model);
  // The voices a 400 listed for this model, when the gateway did not list them otherwise.
  const [heardVoices, setHeardVoices] = useState<{ model: string; voices: string[] } | null>(null);
  const offered = voices.voices ?? (heardVoices?.model === model ? heardVoices.voices : null);
  const [chosenVoice, setVoice] = useState<string | null>(null);
  const wanted = chosenVoice ?? voices.defaultVoice;
  // Once the model's voices are known, only one of them (an empty select asks for a choice).
  const voice = offered && !offered.includes(wanted) ? '' : wanted;
  const [format, setFormat] = useState<SpeechFormat>('mp3');
  const [speed, setSpeed] = useState(1);
  const [input, setInput] = useState('');
  const [progress, setProgress] = useState<SpeechProgress | null>(null);
  const audio = useRef<HTMLAudioElement>(null);
  const controller = useRef<AbortController | null>(null);
  const objectUrls = useRef<string[]>([]);
  const { secondsLeft, wait, cancel: cancelWait } = useRetryCountdown();

  const revokeAll = () => {
    for (const url of objectUrls.current) URL.revokeObjectURL(url);
    objectUrls.current = [];
  };

  const run = useMutation({
    mutationFn: async (request: SpeechRequest): Promise<Result> => {
      const abort = new AbortController();
      controller.current = abort;
      for (;;) {
        try {
          const outcome = await synthesize(request, {
            signal: abort.signal,
            audio: audio.current,
            onProgress: setProgress,
            onObjectUrl: (url) => objectUrls.current.push(url),
          });
          const url = URL.createObjectURL(outcome.blob);
          objectUrls.current.push(url);
          // Played after the download when it could not stream (a streamed one keeps playing as it is).
          const player = audio.current;
          if (player && !outcome.streamed && request.format !== 'pcm') {
            player.src = url;
            player.play()?.catch(() => undefined);
          }
          return { ...outcome, url, format: request.format };
        } catch (error) {
          const listed = voicesFromError(error);
          if (listed) setHeardVoices({ model: request.model, voices: listed });
          const delay = loadingRetryDelay(error);
          if (delay === null || abort.signal.aborted) throw error;
          if (!(await wait(delay))) throw new DOMException('Cancelled', 'AbortError');
        }
      }
    },
  });

  useEffect(
    () => () => {
      controller.current?.abort();
      for (const url of objectUrls.current) URL.revokeObjectURL(url);
    },
    [],
  );

  const tooLong = input.length > MAX_INPUT_CHARS;
  const ready = !!model && !!voice.trim() && input.trim() !== '' && !tooLong;

  const speak = () => {
    if (!ready) return;
    audio.current?.pause();
    audio.current?.removeAttribute('src');
    revokeAll();
    setProgress(null);
    run.mutate({ model, input, voice: voice.trim(), format, speed });
  };

  const cancel = () => {
    cancelWait();
    controller.current?.abort();
  };

  const result = run.data;
  return (
    <>
      <PageHeader title="Speech" subtitle="Turn text into speech with a text-to-speech model, and listen." />
      <PlaygroundColumns>
        <OptionsCard id="speech-options-title">
          <ModelSelect
            models={models}
            value={model}
            onChange={(name) => {
              setChosenModel(name);
              setVoice(null);
            }}
            label="Model"
            noneText="No speech synthesis model is served."
            testId="speech-model"
            disabled={run.isPending}
          />
          <VoiceField voices={offered} value={voice} onChange={setVoice} disabled={run.isPending} />
          <TextField
            select
            size="small"
            label="Format"
            value={format}
            onChange={(event) => setFormat(event.target.value as SpeechFormat)}
            disabled={run.isPending}
            data-testid="speech-format"
          >
            {SPEECH_FORMATS.map((f) => (
              <MenuItem key={f} value={f}>
                {FORMAT_LABELS[f]}
              </MenuItem>
            ))}
          </TextField>
          <Box>
            <Typography id="speech-speed-label" variant="body2" gutterBottom>
              Speed: {speed.toFixed(2)}×
            </Typography>
            <Slider
              value={speed}
              min={MIN_SPEED}
              max={MAX_SPEED}
              step={0.05}
              marks={[{ value: 1 }]}
              onChange={(_, value) => setSpeed(value)}
              aria-labelledby="speech-speed-label"
              valueLabelDisplay="auto"
              disabled={run.isPending}
              sx={{ mx: 1, width: 'calc(100% - 16px)' }}
            />
            <Typography variant="caption" color="text.secondary">
              {MIN_SPEED}× to {MAX_SPEED}×; 1 is the model's own pace.
            </Typography>
          </Box>
        </OptionsCard>
        <Stack spacing={2} sx={{ minWidth: 0 }}>
          <Card component="section" aria-label="Text to speak">
            <CardContent>
              <Stack spacing={2}>
                <TextField
                  label="Text"
                  multiline
                  minRows={4}
                  maxRows={16}
                  value={input}
                  onChange={(event) => setInput(event.target.value)}
                  disabled={run.isPending}
                  error={tooLong}
                  helperText={
                    <Box
                      component="span"
                      data-testid="speech-counter"
                      sx={{ fontVariantNumeric: 'tabular-nums' }}
                    >
                      {input.length} / {MAX_INPUT_CHARS} characters
                      {tooLong ? ': too long for one request' : ''}
                    </Box>
                  }
                  slotProps={{ htmlInput: { 'data-testid': 'speech-text' } }}
                />
                <RunControls
                  label="Speak"
                  onRun={speak}
                  onCancel={cancel}
                  disabled={!ready}
                  pending={run.isPending}
                  testId="speech-submit"
                />
              </Stack>
            </CardContent>
          </Card>
          {run.isPending && (
            <RunProgress label="Synthesising" testId="speech-status">
              {progressText(progress, secondsLeft)}
            </RunProgress>
          )}
          {run.isError && (
            <Alert severity="error" data-testid="speech-status">
              {errorMessage(run.error)}
            </Alert>
          )}
          <Card
            component="section"
            aria-labelledby="speech-audio-title"
            sx={{ display: run.isIdle && !result ? 'none' : undefined }}
          >
            <CardContent>
              <Stack spacing={1.5}>
                <Typography variant="h2" id="speech-audio-title">
                  Audio
                </Typography>
                <Box
                  component="audio"
                  ref={audio}
                  controls
                  aria-label="Speech player"
                  data-testid="speech-player"
                  sx={{ width: '100%', display: result?.format === 'pcm' ? 'none' : undefined }}
                />
                {result && (
                  <>
                    <Typography
                      variant="body2"
                      color="text.secondary"
                      role="status"
                      data-testid="speech-metrics"
                      sx={{ fontVariantNumeric: 'tabular-nums' }}
                    >
                      First audio byte after{' '}
                      {result.firstByteMs === null ? '–' : formatDuration(result.firstByteMs / 1000)} · all of
                      it after {formatDuration(result.totalMs / 1000)} · {formatBytes(result.blob.size)}{' '}
                      {result.blob.type}
                      {result.streamed ? ' · played while it streamed' : ''}
                    </Typography>
                    {result.format === 'pcm' && (
                      <Typography variant="body2">
                        Raw PCM has no header a browser can play: download it and open it as raw samples.
                      </Typography>
                    )}
                    <Box>
                      <Link
                        href={result.url}
                        download={`speech.${result.format}`}
                        data-testid="speech-download"
                      >
                        Download speech.{result.format}
                      </Link>
                    </Box>
                  </>
                )}
              </Stack>
            </CardContent>
          </Card>
        </Stack>
      </PlaygroundColumns>
    </>
  );
}
