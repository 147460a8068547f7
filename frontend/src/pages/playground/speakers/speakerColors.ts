/**
 * Speaker colours: a darker shade on the light scheme and a lighter one on the dark scheme, so blocks keep
 * their contrast with the page in both. The colour is set as the `--speaker-color` CSS variable of an
 * element (the scheme follows the system through a media query, so it cannot be picked in JavaScript);
 * its children paint with `var(--speaker-color)`. Speakers are always named in text too.
 */
import { amber, blue, brown, deepOrange, green, indigo, pink, purple, teal } from '@mui/material/colors';
import type { SxProps, Theme } from '@mui/material/styles';

const PAIRS: { light: string; dark: string }[] = [
  { light: blue[700], dark: blue[300] },
  { light: deepOrange[700], dark: deepOrange[300] },
  { light: green[700], dark: green[300] },
  { light: purple[500], dark: purple[200] },
  { light: teal[700], dark: teal[200] },
  { light: pink[600], dark: pink[200] },
  { light: brown[500], dark: brown[200] },
  { light: indigo[400], dark: indigo[200] },
  { light: amber[900], dark: amber[300] },
];

export const SPEAKER_COLOR = 'var(--speaker-color)';

/** Sets `--speaker-color` for the speaker at `order` (its position in the answer's list). */
export function speakerColorVars(order: number): Exclude<SxProps<Theme>, readonly unknown[]> {
  const pair = PAIRS[order % PAIRS.length] ?? PAIRS[0]!;
  return (theme: Theme) => ({
    '--speaker-color': pair.light,
    ...theme.applyStyles('dark', { '--speaker-color': pair.dark }),
  });
}
