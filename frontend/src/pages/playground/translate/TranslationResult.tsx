import Box from '@mui/material/Box';
import Card from '@mui/material/Card';
import CardContent from '@mui/material/CardContent';
import Stack from '@mui/material/Stack';
import Typography from '@mui/material/Typography';

import { CodeBlock } from '../../../components/CodeBlock';
import { formatDuration } from '../../../components/format';
import { displayName, type LanguageOption, type TranslationAnswer } from './translateApi';

function languageLabel(code: string, options: LanguageOption[]): string {
  const option = options.find((o) => o.code === code);
  const name = option ? displayName(option) : null;
  return name ? `${name} (${code})` : code;
}

/** The translations in order (each under its source when several were sent), with the usage. */
export function TranslationResult({
  answer,
  sources,
  seconds,
  options,
}: {
  answer: TranslationAnswer;
  sources: string[];
  seconds: number;
  options: LanguageOption[];
}) {
  const several = answer.translations.length > 1;
  const usage = answer.usage;
  return (
    <Card component="section" aria-labelledby="translate-result-title">
      <CardContent>
        <Stack spacing={1.5}>
          <Typography variant="h2" id="translate-result-title">
            {languageLabel(answer.src_lang, options)} → {languageLabel(answer.tgt_lang, options)}
          </Typography>
          <Box data-testid="translate-result">
            {answer.translations.map((translation, index) => (
              <Box key={index} sx={{ mb: several ? 1.5 : 0 }}>
                {several && (
                  <Typography variant="caption" color="text.secondary" component="div">
                    {sources[index] ?? ''}
                  </Typography>
                )}
                <Typography
                  variant="body1"
                  data-testid="translation"
                  sx={{ whiteSpace: 'pre-wrap', overflowWrap: 'anywhere' }}
                >
                  {translation || '(empty)'}
                </Typography>
              </Box>
            ))}
          </Box>
          <Typography
            variant="body2"
            color="text.secondary"
            data-testid="translate-usage"
            sx={{ fontVariantNumeric: 'tabular-nums' }}
          >
            {usage.input_tokens} input + {usage.output_tokens} output = {usage.total_tokens} tokens ·{' '}
            {answer.model} · {formatDuration(seconds)}
          </Typography>
          {several && (
            <CodeBlock code={answer.translations.join('\n')} label="All translations, one per line" />
          )}
        </Stack>
      </CardContent>
    </Card>
  );
}
