import Alert from '@mui/material/Alert';
import MenuItem from '@mui/material/MenuItem';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';

import { errorMessage } from '../../../api/errors';
import type { ModelChoices } from './useModelChoices';

/** The model picker with each alias named as such, and what the list means for this key. */
export function ModelSelect({
  models,
  value,
  onChange,
  label,
  noneText,
  testId,
  disabled,
}: {
  models: ModelChoices;
  value: string;
  onChange: (name: string) => void;
  label: string;
  noneText: string;
  testId?: string;
  disabled?: boolean;
}) {
  if (models.error) return <Alert severity="error">{errorMessage(models.error)}</Alert>;
  const empty = !models.isPending && models.choices.length === 0;
  // Nothing while the lists load: a disabled field's helper is too faint to read (and says nothing yet).
  const helper = models.isPending
    ? undefined
    : empty
      ? noneText
      : models.kindsKnown
        ? undefined
        : 'This key cannot see what each model does: every served name is listed.';
  return (
    <TextField
      select
      size="small"
      fullWidth
      label={label}
      value={models.choices.some((c) => c.name === value) ? value : ''}
      onChange={(event) => onChange(event.target.value)}
      disabled={disabled || empty || models.isPending}
      helperText={helper}
      data-testid={testId}
    >
      {models.choices.map((choice) => (
        <MenuItem key={choice.name} value={choice.name}>
          {choice.name}
          {choice.aliasOf && (
            <Typography component="span" variant="body2" color="text.secondary" sx={{ ml: 1 }}>
              (alias of {choice.aliasOf})
            </Typography>
          )}
        </MenuItem>
      ))}
    </TextField>
  );
}
