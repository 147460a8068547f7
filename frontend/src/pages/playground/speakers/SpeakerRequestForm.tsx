import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Link from '@mui/material/Link';
import MenuItem from '@mui/material/MenuItem';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';
import { useState } from 'react';
import { Link as RouterLink } from 'react-router';

import type { ModelStatus } from '../../../api/types';
import { AudioDropZone } from '../../../components/AudioDropZone';
import { DEFAULT_ASR_MODEL, type SpeechSlots } from './useSpeechSlots';
import { MAX_SPEAKERS, countsProblem, type SpeakerCounts, type WhoSaidWhatRequest } from './whoSaidWhat';

type CountsMode = SpeakerCounts['mode'];

function parseCount(text: string): number | null {
  const trimmed = text.trim();
  return trimmed === '' ? null : Number(trimmed);
}

function countsFrom(mode: CountsMode, exact: string, min: string, max: string): SpeakerCounts {
  if (mode === 'exact') return { mode, num: parseCount(exact) ?? Number.NaN };
  if (mode === 'range') return { mode, min: parseCount(min), max: parseCount(max) };
  return { mode: 'auto' };
}

/** A slot that is not loaded yet, in a sentence for the admin (null when loaded or unknown). */
function slotNote(slot: ModelStatus | null | undefined, lazyLoad: boolean | null): string | null {
  if (!slot || slot.state === 'loaded') return null;
  if (slot.state === 'loading' || slot.state === 'downloading') return `${slot.key} is ${slot.state}`;
  if (slot.state === 'error') return `${slot.key} failed; the Models page says why`;
  return lazyLoad ? `${slot.key} loads on the first run (it takes longer)` : `${slot.key} is not loaded`;
}

/** The upload, the speaker counts and the models; "Run" hands a request to the page. */
export function SpeakerRequestForm({
  file,
  onFile,
  slots,
  busy,
  onRun,
  onCancel,
}: {
  file: File | null;
  onFile: (file: File) => void;
  slots: SpeechSlots;
  busy: boolean;
  onRun: (request: WhoSaidWhatRequest) => void;
  onCancel: () => void;
}) {
  const [mode, setMode] = useState<CountsMode>('auto');
  const [exact, setExact] = useState('2');
  const [min, setMin] = useState('');
  const [max, setMax] = useState('');
  const [chosenModel, setChosenModel] = useState('');
  const [language, setLanguage] = useState('');

  const counts = countsFrom(mode, exact, min, max);
  const problem = countsProblem(counts);
  // The picked ASR model, or the first the status lists (the route's default when the key sees none).
  const model = slots.asr.some((m) => m.key === chosenModel) ? chosenModel : (slots.asr[0]?.key ?? '');
  const asrSlot = slots.asr.find((m) => m.key === model);
  const notes = [slotNote(asrSlot, slots.lazyLoad), slotNote(slots.diarization, slots.lazyLoad)].filter(
    (note): note is string => note !== null,
  );

  const submit = () => {
    if (!file || problem) return;
    onRun({
      file,
      counts,
      ...(model ? { model } : {}),
      ...(language.trim() ? { language: language.trim().toLowerCase() } : {}),
    });
  };

  const countField = (label: string, value: string, set: (v: string) => void) => (
    <TextField
      size="small"
      type="number"
      label={label}
      value={value}
      onChange={(event) => set(event.target.value)}
      slotProps={{ htmlInput: { min: 1, max: MAX_SPEAKERS, step: 1 } }}
      sx={{ width: 120 }}
      disabled={busy}
    />
  );

  return (
    <Box
      component="form"
      aria-label="Audio to diarize"
      onSubmit={(event) => {
        event.preventDefault();
        submit();
      }}
      sx={{ display: 'flex', flexDirection: 'column', gap: 2 }}
    >
      <AudioDropZone
        file={file}
        onFile={onFile}
        disabled={busy}
        inputTestId="speakers-file"
        buttonLabel="Choose audio…"
        hint="or drop a recording here (wav, flac, mp3, ogg, m4a, webm…)"
      />
      <Box sx={{ display: 'flex', flexWrap: 'wrap', gap: 2, alignItems: 'flex-start' }}>
        <TextField
          select
          size="small"
          label="Speakers"
          value={mode}
          onChange={(event) => setMode(event.target.value as CountsMode)}
          sx={{ minWidth: 170 }}
          disabled={busy}
        >
          <MenuItem value="auto">Detect</MenuItem>
          <MenuItem value="exact">Exact number</MenuItem>
          <MenuItem value="range">Between…</MenuItem>
        </TextField>
        {mode === 'exact' && countField('Number', exact, setExact)}
        {mode === 'range' && (
          <>
            {countField('At least', min, setMin)}
            {countField('At most', max, setMax)}
          </>
        )}
        {slots.asr.length > 1 && (
          <TextField
            select
            size="small"
            label="Speech model"
            value={model}
            onChange={(event) => setChosenModel(event.target.value)}
            sx={{ minWidth: 180 }}
            disabled={busy}
          >
            {slots.asr.map((m) => (
              <MenuItem key={m.key} value={m.key}>
                {m.key} ({m.model_id})
              </MenuItem>
            ))}
          </TextField>
        )}
        <TextField
          size="small"
          label="Language"
          placeholder="detect"
          value={language}
          onChange={(event) => setLanguage(event.target.value)}
          helperText="ISO code: en, de…"
          slotProps={{ htmlInput: { maxLength: 8, autoComplete: 'off', spellCheck: false } }}
          sx={{ width: 140 }}
          disabled={busy}
        />
        <Box sx={{ display: 'flex', gap: 1, ml: { sm: 'auto' } }}>
          {busy && (
            <Button variant="outlined" color="inherit" onClick={onCancel}>
              Cancel
            </Button>
          )}
          <Button
            type="submit"
            variant="contained"
            data-testid="speakers-submit"
            disabled={!file || busy || problem !== null}
          >
            Run
          </Button>
        </Box>
      </Box>
      {problem && (
        <Typography variant="body2" color="error" role="alert">
          {problem}
        </Typography>
      )}
      <Typography variant="caption" color="text.secondary">
        Speakers by {slots.diarization?.model_id ?? DIARIZATION_LABEL}, words by{' '}
        {asrSlot?.model_id ?? (model || DEFAULT_ASR_MODEL)}.
        {notes.length > 0 && <> Note: {notes.join('; ')}.</>}
        {slots.isAdmin && notes.length > 0 && (
          <>
            {' '}
            <Link component={RouterLink} to="/models">
              Models
            </Link>
          </>
        )}
      </Typography>
    </Box>
  );
}

const DIARIZATION_LABEL = 'pyannote';
