import Checkbox from '@mui/material/Checkbox';
import FormControl from '@mui/material/FormControl';
import FormControlLabel from '@mui/material/FormControlLabel';
import FormGroup from '@mui/material/FormGroup';
import FormHelperText from '@mui/material/FormHelperText';
import FormLabel from '@mui/material/FormLabel';
import MenuItem from '@mui/material/MenuItem';
import TextField from '@mui/material/TextField';

import { ModelSelect } from '../chat/ModelSelect';
import type { ModelChoices } from '../chat/useModelChoices';
import { LANGUAGES, languagesOf, WHISPER_LANGUAGES } from './languages';
import type { AsrFacts } from './useAsrFacts';
import { RESPONSE_FORMATS, routeFor, type ResponseFormat, type TranscribeOptions } from './transcribeRequest';
import { OptionsCard } from '../PlaygroundLayout';

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
  languages,
  value,
  onChange,
  disabled,
  helperText,
  testId,
}: {
  label: string;
  emptyLabel: string;
  languages: [code: string, name: string][];
  value: string;
  onChange: (code: string) => void;
  disabled: boolean;
  helperText: string;
  testId?: string;
}) {
  // A choice made for another model stays shown (the gateway says if this one does not take it).
  const shown =
    value && !languages.some(([code]) => code === value) ? [...languages, [value, value]] : languages;
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
      data-testid={testId}
    >
      <MenuItem value="">{emptyLabel}</MenuItem>
      {shown.map(([code, name]) => (
        <MenuItem key={code} value={code}>
          {name} ({code})
        </MenuItem>
      ))}
    </TextField>
  );
}

/** The spoken-language select's empty choice and note, by what the model does without a language. */
function autoLanguage(facts: AsrFacts): { label: string; note: string } {
  if (facts.detectsLanguage === true) {
    return { label: 'Detect automatically', note: 'Left empty, the model detects the language.' };
  }
  if (facts.detectsLanguage === false) {
    return {
      label: "The gateway's default",
      note: "This model does not detect languages: name it, or the gateway's default is assumed.",
    };
  }
  return { label: 'Auto', note: "Auto: detected when a model can, else the gateway's default." };
}

export function TranscribeOptionsCard({
  models,
  facts,
  options,
  onChange,
  disabled,
}: {
  models: ModelChoices;
  facts: AsrFacts;
  options: TranscribeOptions;
  onChange: (options: TranscribeOptions) => void;
  disabled: boolean;
}) {
  const spoken = facts.languages
    ? languagesOf(facts.languages)
    : facts.detectsLanguage
      ? WHISPER_LANGUAGES
      : LANGUAGES;
  const targets = facts.translatesTo ? languagesOf(facts.translatesTo) : spoken;
  const auto = autoLanguage(facts);
  const gatewayRoute = routeFor(options) === '/api/audio/transcribe';
  const granular = options.responseFormat === 'verbose_json' && !options.targetLanguage;
  return (
    <OptionsCard id="transcribe-options-title">
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
        emptyLabel={auto.label}
        languages={spoken}
        value={options.language}
        onChange={(language) => onChange({ ...options, language })}
        disabled={disabled}
        helperText={auto.note}
        testId="transcribe-language"
      />
      <LanguageSelect
        label="Translate into"
        testId="transcribe-target"
        emptyLabel="No translation"
        languages={targets}
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
        onChange={(event) => onChange({ ...options, responseFormat: event.target.value as ResponseFormat })}
        disabled={disabled || gatewayRoute}
        helperText={gatewayRoute ? "The gateway's JSON (with segments)." : 'What the server answers with.'}
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
    </OptionsCard>
  );
}
