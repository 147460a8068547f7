import { createTheme } from '@mui/material/styles';

/** Light and dark schemes; the ThemeProvider follows the system's choice (`defaultMode="system"`). */
export const theme = createTheme({
  cssVariables: { colorSchemeSelector: 'media' },
  colorSchemes: {
    light: {
      palette: {
        primary: { main: '#1d5fbf' },
        // Darker than MUI's defaults (3.1:1 and 3.85:1 on white): text in these colours passes WCAG AA.
        warning: { main: '#b45309' },
        info: { main: '#0369a1' },
        background: { default: '#f5f7fa' },
      },
    },
    dark: { palette: { primary: { main: '#7fb0ff' }, background: { default: '#0f1216', paper: '#161a20' } } },
  },
  shape: { borderRadius: 8 },
  typography: {
    fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif',
    h1: { fontSize: '1.6rem', fontWeight: 600 },
    h2: { fontSize: '1.25rem', fontWeight: 600 },
    h3: { fontSize: '1.05rem', fontWeight: 600 },
  },
  components: {
    MuiCard: { defaultProps: { variant: 'outlined' } },
    MuiButton: {
      defaultProps: { disableElevation: true },
      styleOverrides: { root: { textTransform: 'none' } },
    },
    MuiTab: { styleOverrides: { root: { textTransform: 'none' } } },
    MuiToggleButton: { styleOverrides: { root: { textTransform: 'none' } } },
  },
});

export const monospace = 'ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace';
