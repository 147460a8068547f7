import FiberManualRecord from '@mui/icons-material/FiberManualRecord';
import Stop from '@mui/icons-material/Stop';
import UploadFile from '@mui/icons-material/UploadFile';
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Card from '@mui/material/Card';
import CardContent from '@mui/material/CardContent';
import Typography from '@mui/material/Typography';
import { useEffect, useRef, useState, type DragEvent, type ReactNode } from 'react';

import { formatBytes } from '../../../components/format';
import { useMicrophoneRecorder } from '../audio/useMicrophoneRecorder';

const visuallyHidden = {
  position: 'absolute',
  width: '1px',
  height: '1px',
  margin: '-1px',
  padding: 0,
  border: 0,
  overflow: 'hidden',
  clip: 'rect(0 0 0 0)',
  whiteSpace: 'nowrap',
} as const;

function RecordingClock({ since }: { since: number }) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 500);
    return () => clearInterval(timer);
  }, []);
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
  const input = useRef<HTMLInputElement>(null);
  const [dragging, setDragging] = useState(false);
  const mic = useMicrophoneRecorder(onFile);
  const recording = mic.state.kind === 'recording';

  const onDrop = (event: DragEvent<HTMLDivElement>) => {
    event.preventDefault();
    setDragging(false);
    const dropped = event.dataTransfer.files[0];
    if (dropped && !disabled) onFile(dropped);
  };

  return (
    <Card component="section" aria-labelledby="transcribe-audio-title">
      <CardContent>
        <Typography variant="h2" id="transcribe-audio-title" sx={{ mb: 2 }}>
          Audio
        </Typography>
        <Box
          onDragOver={(event) => {
            event.preventDefault();
            if (!disabled) setDragging(true);
          }}
          onDragLeave={() => setDragging(false)}
          onDrop={onDrop}
          data-testid="transcribe-dropzone"
          sx={{
            border: 2,
            borderStyle: 'dashed',
            borderColor: dragging ? 'primary.main' : 'divider',
            bgcolor: dragging ? 'action.hover' : 'transparent',
            borderRadius: 2,
            p: 2,
            textAlign: 'center',
          }}
        >
          <Typography variant="body2" color="text.secondary" sx={{ mb: 1.5 }}>
            Drop an audio or video file here (wav, flac, mp3, ogg, m4a, webm, …), or
          </Typography>
          <Box sx={{ display: 'flex', gap: 1, justifyContent: 'center', flexWrap: 'wrap' }}>
            <Button
              variant="outlined"
              startIcon={<UploadFile />}
              onClick={() => input.current?.click()}
              disabled={disabled || recording}
            >
              Choose a file
            </Button>
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
          </Box>
          <Box
            component="input"
            ref={input}
            type="file"
            accept="audio/*,video/*"
            tabIndex={-1}
            aria-label="Audio file"
            data-testid="transcribe-file"
            disabled={disabled}
            onChange={(event) => {
              const chosen = event.currentTarget.files?.[0];
              if (chosen) onFile(chosen);
              event.currentTarget.value = ''; // choosing the same file again is a change too
            }}
            sx={visuallyHidden}
          />
        </Box>
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
