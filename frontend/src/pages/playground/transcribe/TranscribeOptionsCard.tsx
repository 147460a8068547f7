import Card from '@mui/material/Card';
import CardContent from '@mui/material/CardContent';
import Checkbox from '@mui/material/Checkbox';
import FormControl from '@mui/material/FormControl';
import FormControlLabel from '@mui/material/FormControlLabel';
import FormGroup from '@mui/material/FormGroup';
import FormHelperText from '@mui/material/FormHelperText';
import FormLabel from '@mui/material/FormLabel';
import MenuItem from '@mui/material/MenuItem';
import Stack from '@mui/material/Stack';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';

import { ModelSelect } from '../chat/ModelSelect';
import type { ModelChoices } from '../chat/useModelChoices';
import { LANGUAGES } from './languages';
import { RESPONSE_FORMATS, routeFor, type ResponseFormat, type TranscribeOptions } from './transcribeRequest';

const FORMAT_LABELS: Record<ResponseFormat, string> = {
  json: 'json (text only)',
  verbose_json: 'verbose_json (text, language, segments)',
  text: 'text',
  srt: 'srt (subtitles)',
  vtt: 'vtt (subtitles)',
};

function routeNote(options: TranscribeOptions): string {
  const route = routeFor(options);
  if (route === '/v1/audio/translations') return 'Sent to /v1/audio/translations (OpenAI: into English).';
  if (route === '/api/audio/transcribe') {
    return "Sent to the gateway's /api/audio/transcribe: OpenAI's routes translate into English only. It answers JSON with segments; the downloads are built from it.";
  }
  return 'Sent to /v1/audio/transcriptions.';
}

/** A select of the languages the playground offers, with an empty choice first (`emptyLabel`). */
function LanguageSelect({
  label,
  emptyLabel,
  value,
  onChange,
  disabled,
  helperText,
}: {
  label: string;
  emptyLabel: string;
  value: string;
  onChange: (code: string) => void;
  disabled: boolean;
  helperText: string;
}) {
  return (
    <TextField
      select
      size="small"
      label={label}
      slotProps={{ select: { displayEmpty: true }, inputLabel: { shrink: true } }}
      value={value}
      onChange={(event) => onChange(event.target.value)}
      disabled={disabled}
      helperText={helperText}
    >
      <MenuItem value="">{emptyLabel}</MenuItem>
      {LANGUAGES.map(([code, name]) => (
        <MenuItem key={code} value={code}>
          {name} ({code})
        </MenuItem>
      ))}
    </TextField>
  );
}

export function TranscribeOptionsCard({
  models,
  options,
  onChange,
  disabled,
}: {
  models: ModelChoices;
  options: TranscribeOptions;
  onChange: (options: TranscribeOptions) => void;
  disabled: boolean;
}) {
  const gatewayRoute = routeFor(options) === '/api/audio/transcribe';
  const granular = options.responseFormat === 'verbose_json' && !options.targetLanguage;
  return (
    <Card component="section" aria-labelledby="transcribe-options-title">
      <CardContent>
        <Typography variant="h2" id="transcribe-options-title" sx={{ mb: 2 }}>
          Options
        </Typography>
        <Stack spacing={2.5}>
          <ModelSelect
            models={models}
            value={options.model}
            onChange={(model) => onChange({ ...options, model })}
            label="Model"
            noneText="No speech model is served."
            disabled={disabled}
          />
          <LanguageSelect
            label="Spoken language"
            emptyLabel="Auto"
            value={options.language}
            onChange={(language) => onChange({ ...options, language })}
            disabled={disabled}
            helperText="Auto: detected when a model can, else the gateway's default."
          />
          <LanguageSelect
            label="Translate into"
            emptyLabel="No translation"
            value={options.targetLanguage}
            onChange={(targetLanguage) => onChange({ ...options, targetLanguage })}
            disabled={disabled}
            helperText={routeNote(options)}
          />
          <TextField
            select
            size="small"
            label="Response format"
            value={gatewayRoute ? 'verbose_json' : options.responseFormat}
            onChange={(event) =>
              onChange({ ...options, responseFormat: event.target.value as ResponseFormat })
            }
            disabled={disabled || gatewayRoute}
            helperText={
              gatewayRoute ? "The gateway's JSON (with segments)." : 'What the server answers with.'
            }
          >
            {RESPONSE_FORMATS.map((format) => (
              <MenuItem key={format} value={format}>
                {FORMAT_LABELS[format]}
              </MenuItem>
            ))}
          </TextField>
          <FormControl component="fieldset" disabled={disabled || !granular}>
            <FormLabel component="legend">Timestamps</FormLabel>
            <FormGroup row>
              <FormControlLabel
                label="Segments"
                control={
                  <Checkbox
                    checked={gatewayRoute || options.segmentTimestamps}
                    onChange={(_, checked) => onChange({ ...options, segmentTimestamps: checked })}
                  />
                }
              />
              <FormControlLabel
                label="Words"
                control={
                  <Checkbox
                    checked={gatewayRoute || options.wordTimestamps}
                    onChange={(_, checked) => onChange({ ...options, wordTimestamps: checked })}
                  />
                }
              />
            </FormGroup>
            <FormHelperText>
              {gatewayRoute
                ? 'Always both with a translation into another language.'
                : granular
                  ? 'Which timestamps verbose_json carries.'
                  : 'Chosen with verbose_json; srt and vtt always have segment times.'}
            </FormHelperText>
          </FormControl>
        </Stack>
      </CardContent>
    </Card>
  );
}
