import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Card from '@mui/material/Card';
import CardContent from '@mui/material/CardContent';
import LinearProgress from '@mui/material/LinearProgress';
import Stack from '@mui/material/Stack';
import Typography from '@mui/material/Typography';
import type { ReactNode } from 'react';

/** A playground's two columns: its options on the left (above on a phone), what it produced on the right. */
export function PlaygroundColumns({ children }: { children: ReactNode }) {
  return (
    <Box
      sx={{
        display: 'grid',
        gap: 2,
        gridTemplateColumns: { xs: 'minmax(0, 1fr)', md: '320px minmax(0, 1fr)' },
        alignItems: 'start',
      }}
    >
      {children}
    </Box>
  );
}

/** The "Options" card of a playground; `id` names its title for the section's label. */
export function OptionsCard({ id, children }: { id: string; children: ReactNode }) {
  return (
    <Card component="section" aria-labelledby={id}>
      <CardContent>
        <Typography variant="h2" id={id} sx={{ mb: 2 }}>
          Options
        </Typography>
        <Stack spacing={2.5}>{children}</Stack>
      </CardContent>
    </Card>
  );
}

/** The button that runs a playground's request, with Cancel beside it while it runs. */
export function RunControls({
  label,
  onRun,
  onCancel,
  disabled,
  pending,
  testId,
  children,
}: {
  label: string;
  onRun: () => void;
  onCancel: () => void;
  disabled: boolean;
  pending: boolean;
  testId: string;
  /** Said after the buttons (why the button is disabled, say). */
  children?: ReactNode;
}) {
  return (
    <Box sx={{ display: 'flex', gap: 1, flexWrap: 'wrap', alignItems: 'center' }}>
      <Button variant="contained" onClick={onRun} disabled={disabled || pending} data-testid={testId}>
        {label}
      </Button>
      {pending && (
        <Button variant="outlined" color="warning" onClick={onCancel}>
          Cancel
        </Button>
      )}
      {children}
    </Box>
  );
}

/** A running request's progress bar and what it is doing (`label` names the bar for screen readers). */
export function RunProgress({
  label,
  testId,
  children,
}: {
  label: string;
  testId: string;
  children: ReactNode;
}) {
  return (
    <Box>
      <LinearProgress aria-label={label} />
      <Typography variant="body2" role="status" data-testid={testId} sx={{ mt: 1 }}>
        {children}
      </Typography>
    </Box>
  );
}
