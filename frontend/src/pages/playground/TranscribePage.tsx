import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Stack from '@mui/material/Stack';
import Typography from '@mui/material/Typography';
import { useMutation } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';

import { errorMessage } from '../../api/errors';
import { formatDuration } from '../../components/format';
import { PageHeader } from '../../components/PageHeader';
import { useModelChoices } from './chat/useModelChoices';
import { loadingRetryDelay, useRetryCountdown } from './chat/useRetryCountdown';
import { AudioSourceCard } from './transcribe/AudioSourceCard';
import { TranscribeOptionsCard } from './transcribe/TranscribeOptionsCard';
import { transcribe, type TranscribeOptions, type TranscriptView } from './transcribe/transcribeRequest';
import { TranscriptResult } from './transcribe/TranscriptResult';
import { useAsrFacts } from './transcribe/useAsrFacts';
import { PlaygroundColumns, RunControls, RunProgress } from './PlaygroundLayout';

interface Source {
  file: File;
  url: string;
}

interface Outcome {
  view: TranscriptView;
  fileName: string;
  seconds: number;
}

export default function TranscribePage() {
  const models = useModelChoices('asr');
  const [options, setOptions] = useState<TranscribeOptions>({
    model: '',
    language: '',
    targetLanguage: '',
    responseFormat: 'verbose_json',
    wordTimestamps: false,
    segmentTimestamps: true,
  });
  const [source, setSource] = useState<Source | null>(null);
  const [audioDuration, setAudioDuration] = useState<number | null>(null);
  // Where the player is, once it has played or been moved (-1 before: no segment is marked as playing).
  const [currentTime, setCurrentTime] = useState(-1);
  const audio = useRef<HTMLAudioElement>(null);
  const controller = useRef<AbortController | null>(null);
  const objectUrl = useRef<string | null>(null);
  const { secondsLeft, wait, cancel: cancelWait } = useRetryCountdown();
  const model = options.model || models.choices[0]?.name || '';
  const facts = useAsrFacts(model);

  const run = useMutation({
    mutationFn: async ({ file, asked }: { file: File; asked: TranscribeOptions }): Promise<Outcome> => {
      const abort = new AbortController();
      controller.current = abort;
      const startedAt = performance.now();
      for (;;) {
        try {
          const view = await transcribe(file, asked, abort.signal);
          return { view, fileName: file.name, seconds: (performance.now() - startedAt) / 1000 };
        } catch (error) {
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
      if (objectUrl.current) URL.revokeObjectURL(objectUrl.current);
    },
    [],
  );

  const chooseFile = (file: File) => {
    if (objectUrl.current) URL.revokeObjectURL(objectUrl.current);
    const url = URL.createObjectURL(file);
    objectUrl.current = url;
    setSource({ file, url });
    setAudioDuration(null);
    setCurrentTime(-1);
    run.reset();
  };

  const submit = () => {
    if (!source || !model) return;
    run.mutate({ file: source.file, asked: { ...options, model } });
  };

  const cancel = () => {
    cancelWait();
    controller.current?.abort();
  };

  const seek = (seconds: number) => {
    const player = audio.current;
    if (!player) return;
    player.currentTime = seconds;
    setCurrentTime(seconds);
    player.play()?.catch(() => undefined); // a browser may refuse to play; the seek stands
  };

  const player = source && (
    <Box
      component="audio"
      ref={audio}
      src={source.url}
      controls
      preload="metadata"
      aria-label={`Player for ${source.file.name}`}
      onLoadedMetadata={(event) => {
        const length = event.currentTarget.duration;
        setAudioDuration(Number.isFinite(length) ? length : null);
      }}
      onTimeUpdate={(event) => setCurrentTime(event.currentTarget.currentTime)}
      sx={{ width: '100%', mt: 1 }}
    />
  );

  return (
    <>
      <PageHeader
        title="Transcription"
        subtitle="Upload or record audio and get its text, timed segments and subtitles."
      />
      <PlaygroundColumns>
        <TranscribeOptionsCard
          models={models}
          facts={facts}
          options={{ ...options, model }}
          onChange={setOptions}
          disabled={run.isPending}
        />
        <Stack spacing={2} sx={{ minWidth: 0 }}>
          <AudioSourceCard
            file={source?.file ?? null}
            onFile={chooseFile}
            disabled={run.isPending}
            player={player}
          />
          <RunControls
            label="Transcribe"
            onRun={submit}
            onCancel={cancel}
            disabled={!source || !model}
            pending={run.isPending}
            testId="transcribe-submit"
          >
            {!source && (
              <Typography variant="body2" color="text.secondary">
                Choose or record audio first.
              </Typography>
            )}
          </RunControls>
          {run.isPending && (
            <RunProgress label="Transcribing" testId="transcribe-status">
              {secondsLeft !== null
                ? `Model loading — retrying in ${secondsLeft} s`
                : `Transcribing ${run.variables.file.name}…`}
            </RunProgress>
          )}
          {run.isError && (
            <Alert severity="error" data-testid="transcribe-status">
              {errorMessage(run.error)}
            </Alert>
          )}
          {run.isSuccess && (
            <Typography variant="body2" color="text.secondary" role="status" data-testid="transcribe-status">
              Done in {formatDuration(run.data.seconds)}.
            </Typography>
          )}
          {run.data && (
            <TranscriptResult
              view={run.data.view}
              fileName={run.data.fileName}
              audioDuration={audioDuration}
              currentTime={currentTime}
              onSeek={seek}
            />
          )}
        </Stack>
      </PlaygroundColumns>
    </>
  );
}
