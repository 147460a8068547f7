import DownloadIcon from '@mui/icons-material/Download';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Card from '@mui/material/Card';
import CardContent from '@mui/material/CardContent';
import Typography from '@mui/material/Typography';
import { useMutation } from '@tanstack/react-query';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';

import { ApiError } from '../../api/errors';
import { formatDuration } from '../../components/format';
import { PageHeader } from '../../components/PageHeader';
import { useNow } from '../../components/useNow';
import { saveTextFile } from './audio/saveFile';
import { RunStatus, type RunState } from './speakers/RunStatus';
import { SpeakerRequestForm } from './speakers/SpeakerRequestForm';
import { SpeakerTimeline } from './speakers/SpeakerTimeline';
import { SpeakerTranscript } from './speakers/SpeakerTranscript';
import { useAudioClock } from './speakers/useAudioClock';
import { useSpeechSlots } from './speakers/useSpeechSlots';
import {
  activeSegmentIndex,
  speakerLanes,
  whoSaidWhat,
  type Transcription,
  type WhoSaidWhatRequest,
} from './speakers/whoSaidWhat';

/** A model that is loading answers 503 `model_loading`: the page tries again this many times. */
const MAX_ATTEMPTS = 60;
const DEFAULT_RETRY_S = 5;

interface Retry {
  at: number;
  error: ApiError;
  attempt: number;
}

function objectUrl(file: File): string | null {
  return typeof URL.createObjectURL === 'function' ? URL.createObjectURL(file) : null;
}

const ORIGIN_WORDS: Record<Transcription['source_language_origin'], string> = {
  request: 'as asked',
  detected: 'detected',
  default: 'the default',
};

export default function SpeakersPage() {
  const slots = useSpeechSlots();
  const [file, setFile] = useState<File | null>(null);
  const [audioUrl, setAudioUrl] = useState<string | null>(null);
  const urlRef = useRef<string | null>(null);
  const { attach: attachAudio, time, seek } = useAudioClock();

  const controller = useRef<AbortController | null>(null);
  const startedAt = useRef(0);
  const [lastRequest, setLastRequest] = useState<WhoSaidWhatRequest | null>(null);
  const [attempt, setAttempt] = useState(1);
  const [runStart, setRunStart] = useState(0);
  const [retry, setRetry] = useState<Retry | null>(null);
  const [tookS, setTookS] = useState<number | null>(null);

  const { mutate, reset, ...mutation } = useMutation({
    mutationFn: ({ request, signal }: { request: WhoSaidWhatRequest; signal: AbortSignal }) =>
      whoSaidWhat(request, signal),
  });

  const run = useCallback(
    (request: WhoSaidWhatRequest, attemptNumber: number) => {
      controller.current?.abort();
      const current = new AbortController();
      controller.current = current;
      if (attemptNumber === 1) {
        startedAt.current = Date.now();
        setRunStart(startedAt.current);
      }
      setRetry(null);
      setTookS(null);
      setLastRequest(request);
      setAttempt(attemptNumber);
      mutate(
        { request, signal: current.signal },
        {
          onSuccess: () => setTookS((Date.now() - startedAt.current) / 1000),
          onError: (error) => {
            if (current.signal.aborted) return;
            if (
              error instanceof ApiError &&
              error.status === 503 &&
              error.code === 'model_loading' &&
              attemptNumber < MAX_ATTEMPTS
            ) {
              const waitS = error.retryAfterS ?? DEFAULT_RETRY_S;
              setRetry({ at: Date.now() + waitS * 1000, error, attempt: attemptNumber });
            }
          },
        },
      );
    },
    [mutate],
  );

  const cancel = useCallback(() => {
    controller.current?.abort();
    controller.current = null;
    setRetry(null);
    reset();
  }, [reset]);

  // A model still loading: try again when the gateway said to.
  useEffect(() => {
    if (!retry || !lastRequest) return;
    const id = window.setTimeout(
      () => run(lastRequest, retry.attempt + 1),
      Math.max(0, retry.at - Date.now()),
    );
    return () => window.clearTimeout(id);
  }, [retry, lastRequest, run]);

  // Leaving the page stops the upload and frees the audio.
  useEffect(
    () => () => {
      controller.current?.abort();
      if (urlRef.current) URL.revokeObjectURL(urlRef.current);
    },
    [],
  );

  const chooseFile = (chosen: File) => {
    cancel();
    if (urlRef.current) URL.revokeObjectURL(urlRef.current);
    urlRef.current = objectUrl(chosen);
    setAudioUrl(urlRef.current);
    setFile(chosen);
    setLastRequest(null);
  };

  const now = useNow(mutation.isPending || retry !== null);
  const state: RunState = retry
    ? { kind: 'waiting', error: retry.error, retryInS: (retry.at - now) / 1000 }
    : mutation.isPending
      ? { kind: 'busy', elapsedS: Math.max(0, (now - runStart) / 1000), attempt }
      : mutation.isError
        ? { kind: 'failed', error: mutation.error }
        : { kind: 'idle' };

  const result = mutation.data;
  const lanes = useMemo(() => (result ? speakerLanes(result) : []), [result]);
  const speakerOrder = useMemo(() => new Map(lanes.map((lane) => [lane.speaker, lane.order])), [lanes]);
  const segments = useMemo(() => result?.segments ?? [], [result]);
  const duration = result ? Math.max(result.duration, ...segments.map((segment) => segment.end)) : 0;
  const activeIndex = activeSegmentIndex(segments, time);

  return (
    <>
      <PageHeader
        title="Who said what"
        subtitle="Upload a conversation: pyannote finds the speakers, the speech model their words, on one time axis."
      />
      <Card>
        <CardContent>
          <SpeakerRequestForm
            file={file}
            onFile={chooseFile}
            slots={slots}
            busy={state.kind === 'busy' || state.kind === 'waiting'}
            onRun={(request) => run(request, 1)}
            onCancel={cancel}
          />
        </CardContent>
      </Card>
      <RunStatus
        state={state}
        isAdmin={slots.isAdmin}
        onRetry={() => lastRequest && run(lastRequest, 1)}
        onCancel={cancel}
      />
      {file && (
        <Box
          sx={{
            display: 'grid',
            gridTemplateColumns: { xs: 'minmax(0, 1fr)', md: 'minmax(0, 3fr) minmax(0, 2fr)' },
            gap: 2,
            alignItems: 'start',
          }}
        >
          <Card component="section" aria-labelledby="speakers-timeline-title">
            <CardContent>
              <Box sx={{ display: 'flex', flexWrap: 'wrap', alignItems: 'baseline', gap: 1, mb: 1 }}>
                <Typography variant="h2" id="speakers-timeline-title">
                  Timeline
                </Typography>
                {result && (
                  <Typography variant="body2" color="text.secondary" sx={{ flex: 1, minWidth: 0 }}>
                    {formatDuration(result.duration)} of audio · language {result.source_language} (
                    {ORIGIN_WORDS[result.source_language_origin]})
                    {tookS !== null ? ` · answered in ${formatDuration(tookS)}` : ''}
                  </Typography>
                )}
                {result && (
                  <Button
                    size="small"
                    startIcon={<DownloadIcon />}
                    onClick={() =>
                      saveTextFile(
                        `${file.name.replace(/\.[^.]+$/, '')}.speakers.json`,
                        JSON.stringify(result, null, 2),
                        'application/json',
                      )
                    }
                  >
                    JSON
                  </Button>
                )}
              </Box>
              <Box
                component="audio"
                ref={attachAudio}
                data-testid="speaker-audio"
                src={audioUrl ?? undefined}
                controls
                preload="metadata"
                aria-label={`Audio: ${file.name}`}
                sx={{ width: '100%', display: 'block', mb: 2 }}
              />
              {result ? (
                <SpeakerTimeline
                  lanes={lanes}
                  duration={duration}
                  time={time}
                  activeIndex={activeIndex}
                  onSeek={seek}
                />
              ) : (
                <Typography color="text.secondary">
                  Run to see who speaks when: one lane per speaker, a click on a segment plays it.
                </Typography>
              )}
            </CardContent>
          </Card>
          <Card component="section" aria-labelledby="speakers-transcript-title">
            <CardContent>
              <Typography variant="h2" id="speakers-transcript-title" sx={{ mb: 1 }}>
                Transcript
              </Typography>
              {result ? (
                <SpeakerTranscript
                  segments={segments}
                  text={result.text}
                  speakerOrder={speakerOrder}
                  activeIndex={activeIndex}
                  onSeek={seek}
                />
              ) : (
                <Typography color="text.secondary">The words, labelled with their speaker.</Typography>
              )}
            </CardContent>
          </Card>
        </Box>
      )}
    </>
  );
}
