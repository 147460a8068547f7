import Card from '@mui/material/Card';
import Table from '@mui/material/Table';
import TableBody from '@mui/material/TableBody';
import TableCell from '@mui/material/TableCell';
import TableContainer from '@mui/material/TableContainer';
import TableHead from '@mui/material/TableHead';
import TableRow from '@mui/material/TableRow';
import Typography from '@mui/material/Typography';

import { formatAudioSeconds, formatCount } from './format';
import type { UsageTotal } from './usageApi';

interface UsageTotalsTableProps {
  totals: UsageTotal[];
  /** Admins see every client's rows; a client's own view leaves the column out. */
  showClient: boolean;
  testId: string;
}

/** The range's totals per client and model, biggest users of tokens first. */
export function UsageTotalsTable({ totals, showClient, testId }: UsageTotalsTableProps) {
  const rows = [...totals].sort(
    (a, b) =>
      b.total_tokens - a.total_tokens ||
      b.audio_seconds - a.audio_seconds ||
      a.client.localeCompare(b.client) ||
      (a.model ?? '').localeCompare(b.model ?? ''),
  );
  return (
    <TableContainer
      component={Card}
      data-testid={testId}
      tabIndex={0}
      role="region"
      aria-label={showClient ? 'Totals per client and model' : 'Totals per model'}
    >
      <Table size="small">
        <TableHead>
          <TableRow>
            {showClient && <TableCell>Client</TableCell>}
            <TableCell>Model</TableCell>
            <TableCell align="right">Requests</TableCell>
            <TableCell align="right">Errors</TableCell>
            <TableCell align="right">Prompt tokens</TableCell>
            <TableCell align="right">Completion tokens</TableCell>
            <TableCell align="right">Total tokens</TableCell>
            <TableCell align="right">Audio</TableCell>
          </TableRow>
        </TableHead>
        <TableBody>
          {rows.length === 0 ? (
            <TableRow>
              <TableCell colSpan={showClient ? 8 : 7}>
                <Typography variant="body2" color="text.secondary">
                  No requests in this range.
                </Typography>
              </TableCell>
            </TableRow>
          ) : (
            rows.map((row) => (
              <TableRow key={`${row.client}\u0000${row.model ?? ''}`} data-testid="usage-total-row">
                {showClient && <TableCell>{row.client}</TableCell>}
                <TableCell sx={{ overflowWrap: 'anywhere' }}>{row.model ?? '–'}</TableCell>
                <TableCell align="right">{formatCount(row.requests)}</TableCell>
                <TableCell align="right">{formatCount(row.errors)}</TableCell>
                <TableCell align="right">{formatCount(row.prompt_tokens)}</TableCell>
                <TableCell align="right">{formatCount(row.completion_tokens)}</TableCell>
                <TableCell align="right">{formatCount(row.total_tokens)}</TableCell>
                <TableCell align="right">{formatAudioSeconds(row.audio_seconds)}</TableCell>
              </TableRow>
            ))
          )}
        </TableBody>
      </Table>
    </TableContainer>
  );
}
