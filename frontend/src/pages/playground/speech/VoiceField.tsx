import MenuItem from '@mui/material/MenuItem';
import TextField from '@mui/material/TextField';

/**
 * The voice: a select of the model's voices when the gateway lists them, else a free field (a wrong name
 * gets the gateway's 400, which lists the valid ones).
 */
export function VoiceField({
  voices,
  value,
  onChange,
  disabled,
}: {
  voices: string[] | null;
  value: string;
  onChange: (voice: string) => void;
  disabled: boolean;
}) {
  if (voices && voices.length) {
    return (
      <TextField
        select
        size="small"
        label="Voice"
        value={voices.includes(value) ? value : ''}
        onChange={(event) => onChange(event.target.value)}
        disabled={disabled}
        data-testid="speech-voice"
        helperText={`${voices.length} voice${voices.length === 1 ? '' : 's'} of this model.`}
      >
        {voices.map((voice) => (
          <MenuItem key={voice} value={voice}>
            {voice}
          </MenuItem>
        ))}
      </TextField>
    );
  }
  return (
    <TextField
      size="small"
      label="Voice"
      value={value}
      onChange={(event) => onChange(event.target.value)}
      disabled={disabled}
      helperText="The model's voice name; a wrong one is answered with the valid ones."
      slotProps={{ htmlInput: { 'data-testid': 'speech-voice-input' } }}
    />
  );
}
