import UploadFileIcon from '@mui/icons-material/UploadFile';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Typography from '@mui/material/Typography';
import { useId, useState, type DragEvent, type ReactNode } from 'react';

import { formatBytes } from './format';
import { visuallyHidden } from './visuallyHidden';

/** What the file picker offers: audio and video (the gateway decodes both with ffmpeg), with the usual
 * extensions for systems that do not know a file's type. */
const ACCEPT = 'audio/*,video/*,.wav,.flac,.mp3,.ogg,.opus,.m4a,.aac,.webm,.mp4';

export interface AudioDropZoneProps {
  /** Called with the file chosen, or the first one dropped. */
  onFile: (file: File) => void;
  /** The chosen file, shown (name and size) in place of the hint; leave out where the page shows it itself. */
  file?: File | null;
  /** No choosing and no dropping (while a request runs). */
  disabled?: boolean;
  /** The file input's `data-testid`. */
  inputTestId: string;
  /** The file input's accessible name. */
  inputLabel?: string;
  /** The text of the choose button. */
  buttonLabel?: string;
  /** What the zone says while no file is shown ("or drop an audio file here"). */
  hint: ReactNode;
  /** More controls beside the choose button (the transcription playground's recorder). */
  children?: ReactNode;
  /** The hint above and the buttons centred below it, instead of one row. */
  stacked?: boolean;
  /** The zone's own `data-testid`. */
  'data-testid'?: string;
}

/**
 * A dashed zone to drop an audio file on, with a button to choose one instead. The file input itself takes
 * the keyboard focus (the button is its label), and the zone is outlined while it has it.
 */
export function AudioDropZone({
  onFile,
  file,
  disabled = false,
  inputTestId,
  inputLabel = 'Audio file',
  buttonLabel = 'Choose a file',
  hint,
  children,
  stacked = false,
  'data-testid': testId,
}: AudioDropZoneProps) {
  const [dragging, setDragging] = useState(false);
  const hintId = useId();

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

  const chooser = (
    <Button
      component="label"
      variant="outlined"
      startIcon={<UploadFileIcon />}
      tabIndex={-1}
      role={undefined}
      disabled={disabled}
    >
      {buttonLabel}
      <Box
        component="input"
        type="file"
        accept={ACCEPT}
        data-testid={inputTestId}
        aria-label={inputLabel}
        aria-describedby={hintId}
        disabled={disabled}
        sx={visuallyHidden}
        onChange={(event) => {
          const chosen = event.currentTarget.files?.[0];
          if (chosen) onFile(chosen);
          event.currentTarget.value = ''; // choosing the same file again is a change too
        }}
      />
    </Button>
  );
  const said = (
    <Typography
      id={hintId}
      variant="body2"
      color="text.secondary"
      sx={
        stacked
          ? { mb: 1.5, overflowWrap: 'anywhere' }
          : { minWidth: 0, flex: '1 1 200px', overflowWrap: 'anywhere' }
      }
    >
      {file ? (
        <>
          <strong>{file.name}</strong> · {formatBytes(file.size)}
        </>
      ) : (
        hint
      )}
    </Typography>
  );

  return (
    <Box
      onDragOver={onDragOver}
      onDragEnter={onDragOver}
      onDragLeave={() => setDragging(false)}
      onDrop={onDrop}
      data-testid={testId}
      sx={{
        border: 2,
        borderStyle: 'dashed',
        borderColor: dragging ? 'primary.main' : 'divider',
        bgcolor: dragging ? 'action.hover' : 'transparent',
        borderRadius: 2,
        p: 2,
        '&:has(input:focus-visible)': { outline: 2, outlineColor: 'primary.main', outlineStyle: 'solid' },
        ...(stacked
          ? { textAlign: 'center' }
          : { display: 'flex', flexWrap: 'wrap', alignItems: 'center', gap: 2 }),
      }}
    >
      {stacked ? (
        <>
          {said}
          <Box sx={{ display: 'flex', gap: 1, justifyContent: 'center', flexWrap: 'wrap' }}>
            {chooser}
            {children}
          </Box>
        </>
      ) : (
        <>
          {chooser}
          {children}
          {said}
        </>
      )}
    </Box>
  );
}
