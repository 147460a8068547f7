import FiberManualRecord from '@mui/icons-material/FiberManualRecord';
import Stop from '@mui/icons-material/Stop';
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Card from '@mui/material/Card';
import CardContent from '@mui/material/CardContent';
import Typography from '@mui/material/Typography';
import type { ReactNode } from 'react';

import { AudioDropZone } from '../../../components/AudioDropZone';
import { formatBytes } from '../../../components/format';
import { useNow } from '../../../components/useNow';
import { useMicrophoneRecorder } from '../audio/useMicrophoneRecorder';

function RecordingClock({ since }: { since: number }) {
  const now = useNow(true, 500);
  const seconds = Math.max(0, Math.floor((now - since) / 1000));
  return (
    <Typography variant="body2" color="error" role="timer" aria-live="off">
      Recording… {Math.floor(seconds / 60)}:{String(seconds % 60).padStart(2, '0')}
    </Typography>
  );
}

/** Where the audio comes from: a file (picked or dropped) or the microphone; the chosen one is played below. */
export function AudioSourceCard({
  file,
  onFile,
  disabled,
  player,
}: {
  file: File | null;
  onFile: (file: File) => void;
  disabled: boolean;
  player: ReactNode;
}) {
  const mic = useMicrophoneRecorder(onFile);
  const recording = mic.state.kind === 'recording';

  return (
    <Card component="section" aria-labelledby="transcribe-audio-title">
      <CardContent>
        <Typography variant="h2" id="transcribe-audio-title" sx={{ mb: 2 }}>
          Audio
        </Typography>
        <AudioDropZone
          onFile={onFile}
          disabled={disabled || recording}
          inputTestId="transcribe-file"
          data-testid="transcribe-dropzone"
          hint="Drop an audio or video file here (wav, flac, mp3, ogg, m4a, webm, …), or"
          stacked
        >
          <Button
            variant={recording ? 'contained' : 'outlined'}
            color={recording ? 'error' : 'primary'}
            startIcon={recording ? <Stop /> : <FiberManualRecord />}
            onClick={() => (recording ? mic.stop() : void mic.start())}
            disabled={
              (disabled && !recording) ||
              mic.state.kind === 'starting' ||
              mic.problem?.reason === 'insecure' ||
              mic.problem?.reason === 'unsupported'
            }
            data-testid="transcribe-record"
          >
            {recording ? 'Stop recording' : 'Record'}
          </Button>
        </AudioDropZone>
        {mic.state.kind === 'recording' && <RecordingClock since={mic.state.since} />}
        {mic.problem && (
          <Alert severity={mic.problem.reason === 'failed' ? 'error' : 'warning'} sx={{ mt: 1.5 }}>
            <span data-testid="mic-help">{mic.problem.message}</span>
          </Alert>
        )}
        {file && (
          <Box sx={{ mt: 2 }}>
            <Typography variant="body2" sx={{ overflowWrap: 'anywhere' }}>
              <strong>{file.name}</strong> · {formatBytes(file.size)}
            </Typography>
            {player}
          </Box>
        )}
      </CardContent>
    </Card>
  );
}
