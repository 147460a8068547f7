import SwapHorizIcon from '@mui/icons-material/SwapHoriz';
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Card from '@mui/material/Card';
import CardContent from '@mui/material/CardContent';
import Checkbox from '@mui/material/Checkbox';
import FormControlLabel from '@mui/material/FormControlLabel';
import IconButton from '@mui/material/IconButton';
import Stack from '@mui/material/Stack';
import TextField from '@mui/material/TextField';
import Tooltip from '@mui/material/Tooltip';
import { useMutation } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';

import { errorMessage } from '../../api/errors';
import { PageHeader } from '../../components/PageHeader';
import { ModelSelect } from './chat/ModelSelect';
import { useModelChoices } from './chat/useModelChoices';
import { loadingRetryDelay, useRetryCountdown } from './chat/useRetryCountdown';
import { LanguagePicker } from './translate/LanguagePicker';
import { TranslationResult } from './translate/TranslationResult';
import {
  translate,
  useTranslationLanguages,
  type LanguageOption,
  type TranslateRequest,
  type TranslationAnswer,
} from './translate/translateApi';
import { OptionsCard, PlaygroundColumns, RunControls, RunProgress } from './PlaygroundLayout';

interface Outcome {
  answer: TranslationAnswer;
  sources: string[];
  seconds: number;
}

/** A positive whole number typed in a field, or null when left empty (the gateway's default). */
function optionalCount(text: string): number | null | 'invalid' {
  if (!text.trim()) return null;
  const value = Number(text);
  return Number.isInteger(value) && value >= 1 ? value : 'invalid';
}

/** The first option matching one of `wanted` (a code or an alias), else null. */
function pick(options: LanguageOption[], wanted: string[]): string | null {
  for (const w of wanted) {
    const found = options.find((o) => o.code === w || o.aliases.includes(w));
    if (found) return found.code;
  }
  return null;
}

export default function TranslatePage() {
  const models = useModelChoices('translation');
  const [chosenModel, setChosenModel] = useState('');
  const model = chosenModel || models.choices[0]?.name || '';
  const languages = useTranslationLanguages(model);
  const options = languages.data ?? [];
  const [chosenSource, setSource] = useState<string | null>(null);
  const [chosenTarget, setTarget] = useState<string | null>(null);
  const source = chosenSource ?? pick(options, ['eng_Latn', 'en']) ?? options[0]?.code ?? '';
  const target =
    chosenTarget ?? pick(options, ['fra_Latn', 'fr']) ?? options.find((o) => o.code !== source)?.code ?? '';
  const [text, setText] = useState('');
  const [perLine, setPerLine] = useState(false);
  const [beamSize, setBeamSize] = useState('');
  const [maxLength, setMaxLength] = useState('');
  const controller = useRef<AbortController | null>(null);
  const { secondsLeft, wait, cancel: cancelWait } = useRetryCountdown();

  const beams = optionalCount(beamSize);
  const length = optionalCount(maxLength);
  const sources = perLine ? text.split('\n').filter((line) => line.trim()) : [text];

  const run = useMutation({
    mutationFn: async (request: TranslateRequest): Promise<Outcome> => {
      const abort = new AbortController();
      controller.current = abort;
      const startedAt = performance.now();
      for (;;) {
        try {
          const answer = await translate(request, abort.signal);
          const asked = typeof request.text === 'string' ? [request.text] : request.text;
          return { answer, sources: asked, seconds: (performance.now() - startedAt) / 1000 };
        } catch (error) {
          const delay = loadingRetryDelay(error);
          if (delay === null || abort.signal.aborted) throw error;
          if (!(await wait(delay))) throw new DOMException('Cancelled', 'AbortError');
        }
      }
    },
  });

  useEffect(() => () => controller.current?.abort(), []);

  const ready =
    !!model && !!source && !!target && text.trim() !== '' && beams !== 'invalid' && length !== 'invalid';

  const submit = () => {
    if (!ready) return;
    run.mutate({
      model,
      text: perLine ? sources : text,
      srcLang: source,
      tgtLang: target,
      beamSize: beams,
      maxLength: length,
    });
  };

  const swap = () => {
    setSource(target);
    setTarget(source);
    const done = run.data?.answer.translations;
    if (done?.length) {
      setText(done.join(perLine ? '\n' : ' '));
      run.reset();
    }
  };

  const cancel = () => {
    cancelWait();
    controller.current?.abort();
  };

  return (
    <>
      <PageHeader
        title="Translation"
        subtitle="Translate text between the languages a translation model knows."
      />
      <PlaygroundColumns>
        <OptionsCard id="translate-options-title">
          <ModelSelect
            models={models}
            value={model}
            onChange={(name) => {
              setChosenModel(name);
              setSource(null);
              setTarget(null);
            }}
            label="Model"
            noneText="No translation model is served."
            testId="translate-model"
            disabled={run.isPending}
          />
          <TextField
            size="small"
            label="Beam size"
            type="number"
            value={beamSize}
            onChange={(event) => setBeamSize(event.target.value)}
            error={beams === 'invalid'}
            helperText={beams === 'invalid' ? 'A whole number from 1.' : 'Empty: 1 (greedy); at most 8.'}
            slotProps={{ htmlInput: { min: 1, max: 8, step: 1 } }}
            disabled={run.isPending}
          />
          <TextField
            size="small"
            label="Max length (tokens)"
            type="number"
            value={maxLength}
            onChange={(event) => setMaxLength(event.target.value)}
            error={length === 'invalid'}
            helperText={length === 'invalid' ? 'A whole number from 1.' : "Empty: the gateway's default."}
            slotProps={{ htmlInput: { min: 1, step: 1 } }}
            disabled={run.isPending}
          />
        </OptionsCard>
        <Stack spacing={2} sx={{ minWidth: 0 }}>
          <Card component="section" aria-label="Text to translate">
            <CardContent>
              <Stack spacing={2}>
                <Box sx={{ display: 'flex', gap: 1, alignItems: 'center', flexWrap: 'wrap' }}>
                  <LanguagePicker
                    label="From"
                    options={options}
                    value={source}
                    onChange={setSource}
                    disabled={run.isPending || !model}
                    loading={languages.isFetching}
                    testId="translate-source"
                  />
                  <Tooltip title="Swap the languages (and the result into the text)">
                    <span>
                      <IconButton
                        aria-label="Swap languages"
                        onClick={swap}
                        disabled={run.isPending || (!source && !target)}
                        data-testid="translate-swap"
                      >
                        <SwapHorizIcon />
                      </IconButton>
                    </span>
                  </Tooltip>
                  <LanguagePicker
                    label="To"
                    options={options}
                    value={target}
                    onChange={setTarget}
                    disabled={run.isPending || !model}
                    loading={languages.isFetching}
                    testId="translate-target"
                  />
                </Box>
                {languages.error && (
                  <Alert severity="warning" data-testid="translate-languages-error">
                    The model's languages could not be listed: {errorMessage(languages.error)} Type a code
                    (such as fra_Latn) or a name instead.
                  </Alert>
                )}
                <TextField
                  label="Text"
                  multiline
                  minRows={4}
                  maxRows={16}
                  value={text}
                  onChange={(event) => setText(event.target.value)}
                  disabled={run.isPending}
                  onKeyDown={(event) => {
                    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) submit();
                  }}
                  helperText="Ctrl+Enter translates."
                  slotProps={{ htmlInput: { 'data-testid': 'translate-text' } }}
                />
                <FormControlLabel
                  label="Each line is a separate text"
                  control={
                    <Checkbox
                      checked={perLine}
                      onChange={(_, checked) => setPerLine(checked)}
                      disabled={run.isPending}
                    />
                  }
                />
                <RunControls
                  label="Translate"
                  onRun={submit}
                  onCancel={cancel}
                  disabled={!ready}
                  pending={run.isPending}
                  testId="translate-submit"
                />
              </Stack>
            </CardContent>
          </Card>
          {run.isPending && (
            <RunProgress label="Translating" testId="translate-status">
              {secondsLeft !== null ? `Model loading — retrying in ${secondsLeft} s` : 'Translating…'}
            </RunProgress>
          )}
          {run.isError && (
            <Alert severity="error" data-testid="translate-status">
              {errorMessage(run.error)}
            </Alert>
          )}
          {run.data && (
            <TranslationResult
              answer={run.data.answer}
              sources={run.data.sources}
              seconds={run.data.seconds}
              options={options}
            />
          )}
        </Stack>
      </PlaygroundColumns>
    </>
  );
}
