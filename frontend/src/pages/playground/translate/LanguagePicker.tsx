import Autocomplete, { createFilterOptions } from '@mui/material/Autocomplete';
import Box from '@mui/material/Box';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';

import { monospace } from '../../../theme/theme';
import { displayName, type LanguageOption } from './translateApi';

const filter = createFilterOptions<LanguageOption>({
  // Found by its code, its name or any alias: "fra", "French", "fr".
  stringify: (option) => [option.code, option.name ?? '', ...option.aliases].join(' '),
  limit: 200,
});

const codeOf = (value: LanguageOption | string): string => (typeof value === 'string' ? value : value.code);

/**
 * The code of what was typed (and kept on leaving the field): an option's label as shown, its code, name or
 * an alias, in any case; anything else as typed (the gateway says whether it knows it).
 */
function resolve(typed: string, options: LanguageOption[]): string {
  const text = typed.trim();
  const lower = text.toLowerCase();
  const found = options.find(
    (o) =>
      labelOf(o) === text ||
      o.code.toLowerCase() === lower ||
      o.name?.toLowerCase() === lower ||
      o.aliases.some((a) => a.toLowerCase() === lower),
  );
  return found ? found.code : text;
}

function labelOf(option: LanguageOption | string): string {
  if (typeof option === 'string') return option;
  const name = displayName(option);
  return name ? `${name} (${option.code})` : option.code;
}

/**
 * A searchable language picker: the model's codes with their friendly names and aliases. A code the list
 * does not have (the list failed to load, or an alias typed by hand) can still be typed: the gateway decides.
 */
export function LanguagePicker({
  label,
  options,
  value,
  onChange,
  disabled,
  loading,
  testId,
}: {
  label: string;
  options: LanguageOption[];
  value: string;
  onChange: (code: string) => void;
  disabled: boolean;
  loading: boolean;
  testId: string;
}) {
  const selected = options.find((o) => o.code === value) ?? (value ? value : null);
  return (
    <Autocomplete<LanguageOption, false, false, true>
      freeSolo
      autoSelect
      handleHomeEndKeys
      options={options}
      value={selected}
      loading={loading}
      disabled={disabled}
      filterOptions={filter}
      getOptionLabel={labelOf}
      isOptionEqualToValue={(option, current) => option.code === codeOf(current)}
      onChange={(_, next) =>
        onChange(typeof next === 'string' ? resolve(next, options) : next ? next.code : '')
      }
      renderOption={(props, option) => {
        const { key, ...rest } = props;
        const name = displayName(option);
        const aliases = option.aliases.filter((a) => a.toLowerCase() !== name?.toLowerCase());
        return (
          <Box component="li" key={key} {...rest} sx={{ display: 'block !important' }}>
            <Typography variant="body2" component="span">
              {name ?? option.code}
            </Typography>{' '}
            <Typography
              variant="body2"
              component="span"
              color="text.secondary"
              sx={{ fontFamily: monospace }}
            >
              {option.code}
            </Typography>
            {aliases.length > 0 && (
              <Typography variant="caption" color="text.secondary" component="div">
                also: {aliases.join(', ')}
              </Typography>
            )}
          </Box>
        );
      }}
      renderInput={(params) => (
        <TextField
          {...params}
          label={label}
          size="small"
          placeholder="Search a language or code"
          slotProps={{
            ...params.slotProps,
            htmlInput: { ...params.slotProps.htmlInput, 'data-testid': testId },
          }}
        />
      )}
      sx={{ flex: '1 1 200px', minWidth: 0 }}
    />
  );
}
