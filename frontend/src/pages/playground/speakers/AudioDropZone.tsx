import UploadFileIcon from '@mui/icons-material/UploadFile';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Typography from '@mui/material/Typography';
import { useRef, useState, type DragEvent } from 'react';

import { formatBytes } from '../../../components/format';

const ACCEPT = 'audio/*,video/*,.wav,.flac,.mp3,.ogg,.opus,.m4a,.aac,.webm,.mp4';

/** Drop an audio file here, or choose one: the file the gateway will diarize. */
export function AudioDropZone({
  file,
  onFile,
  disabled,
}: {
  file: File | null;
  onFile: (file: File) => void;
  disabled?: boolean;
}) {
  const input = useRef<HTMLInputElement>(null);
  const [dragging, setDragging] = useState(false);

  const onDragOver = (event: DragEvent) => {
    event.preventDefault();
    if (!disabled) setDragging(true);
  };
  const onDrop = (event: DragEvent) => {
    event.preventDefault();
    setDragging(false);
    const dropped = event.dataTransfer.files[0];
    if (dropped && !disabled) onFile(dropped);
  };

  return (
    <Box
      onDragOver={onDragOver}
      onDragEnter={onDragOver}
      onDragLeave={() => setDragging(false)}
      onDrop={onDrop}
      sx={{
        border: 2,
        borderStyle: 'dashed',
        borderColor: dragging ? 'primary.main' : 'divider',
        bgcolor: dragging ? 'action.hover' : 'transparent',
        borderRadius: 1,
        p: 2,
        display: 'flex',
        flexWrap: 'wrap',
        alignItems: 'center',
        gap: 2,
      }}
    >
      <input
        ref={input}
        type="file"
        accept={ACCEPT}
        hidden
        aria-label="Audio file"
        data-testid="speakers-file"
        disabled={disabled}
        onChange={(event) => {
          const chosen = event.target.files?.[0];
          if (chosen) onFile(chosen);
          // The same file chosen again still fires a change.
          event.target.value = '';
        }}
      />
      <Button
        variant="outlined"
        startIcon={<UploadFileIcon />}
        onClick={() => input.current?.click()}
        disabled={disabled}
      >
        Choose audio…
      </Button>
      <Box sx={{ minWidth: 0, flex: '1 1 200px' }}>
        {file ? (
          <>
            <Typography variant="body2" sx={{ fontWeight: 600, overflowWrap: 'anywhere' }}>
              {file.name}
            </Typography>
            <Typography variant="caption" color="text.secondary">
              {formatBytes(file.size)}
              {file.type ? ` · ${file.type}` : ''}
            </Typography>
          </>
        ) : (
          <Typography variant="body2" color="text.secondary">
            or drop a recording here (wav, flac, mp3, ogg, m4a, webm…)
          </Typography>
        )}
      </Box>
    </Box>
  );
}
