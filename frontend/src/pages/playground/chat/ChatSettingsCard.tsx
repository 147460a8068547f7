import Box from '@mui/material/Box';
import Card from '@mui/material/Card';
import CardContent from '@mui/material/CardContent';
import Slider from '@mui/material/Slider';
import Stack from '@mui/material/Stack';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';

import type { ChatSettings } from './useChatSession';
import { ModelSelect } from './ModelSelect';
import type { ModelChoices } from './useModelChoices';

export const MAX_TOKENS_LIMIT = 32_768;

export function ChatSettingsCard({
  models,
  settings,
  onChange,
  disabled,
}: {
  models: ModelChoices;
  settings: ChatSettings;
  onChange: (settings: ChatSettings) => void;
  disabled: boolean;
}) {
  const maxTokensValid =
    Number.isInteger(settings.maxTokens) && settings.maxTokens >= 1 && settings.maxTokens <= MAX_TOKENS_LIMIT;
  return (
    <Card component="section" aria-labelledby="chat-settings-title">
      <CardContent>
        <Typography variant="h2" id="chat-settings-title" sx={{ mb: 2 }}>
          Settings
        </Typography>
        <Stack spacing={2.5}>
          <ModelSelect
            models={models}
            value={settings.model}
            onChange={(model) => onChange({ ...settings, model })}
            label="Model"
            noneText="No chat model is served."
            testId="chat-model"
            disabled={disabled}
          />
          <TextField
            label="System prompt"
            placeholder="You are a helpful assistant."
            multiline
            minRows={2}
            maxRows={8}
            size="small"
            value={settings.system}
            onChange={(event) => onChange({ ...settings, system: event.target.value })}
            slotProps={{ htmlInput: { 'data-testid': 'chat-system' } }}
          />
          <Box>
            <Typography id="chat-temperature-label" variant="body2" gutterBottom>
              Temperature: {settings.temperature.toFixed(2)}
            </Typography>
            <Slider
              value={settings.temperature}
              min={0}
              max={2}
              step={0.05}
              onChange={(_, value) => onChange({ ...settings, temperature: value })}
              aria-labelledby="chat-temperature-label"
              valueLabelDisplay="auto"
              sx={{ mx: 1, width: 'calc(100% - 16px)' }}
            />
            <Typography variant="caption" color="text.secondary">
              0 answers the same way every time; higher is more varied.
            </Typography>
          </Box>
          <TextField
            label="Max tokens"
            type="number"
            size="small"
            value={Number.isNaN(settings.maxTokens) ? '' : settings.maxTokens}
            onChange={(event) => onChange({ ...settings, maxTokens: parseInt(event.target.value, 10) })}
            error={!maxTokensValid}
            helperText={
              maxTokensValid
                ? 'The longest answer, in tokens.'
                : `A whole number from 1 to ${MAX_TOKENS_LIMIT}.`
            }
            slotProps={{ htmlInput: { min: 1, max: MAX_TOKENS_LIMIT, step: 1 } }}
          />
        </Stack>
      </CardContent>
    </Card>
  );
}
