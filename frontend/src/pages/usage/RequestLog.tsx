import CheckIcon from '@mui/icons-material/Check';
import ContentCopyIcon from '@mui/icons-material/ContentCopy';
import Alert from '@mui/material/Alert';
import Autocomplete from '@mui/material/Autocomplete';
import Box from '@mui/material/Box';
import Card from '@mui/material/Card';
import CardContent from '@mui/material/CardContent';
import Chip from '@mui/material/Chip';
import IconButton from '@mui/material/IconButton';
import LinearProgress from '@mui/material/LinearProgress';
import MenuItem from '@mui/material/MenuItem';
import Skeleton from '@mui/material/Skeleton';
import Table from '@mui/material/Table';
import TableBody from '@mui/material/TableBody';
import TableCell from '@mui/material/TableCell';
import TableContainer from '@mui/material/TableContainer';
import TableHead from '@mui/material/TableHead';
import TablePagination from '@mui/material/TablePagination';
import TableRow from '@mui/material/TableRow';
import TextField from '@mui/material/TextField';
import Tooltip from '@mui/material/Tooltip';
import Typography from '@mui/material/Typography';
import { useState } from 'react';

import { errorMessage } from '../../api/errors';
import { formatDuration, formatTime } from '../../components/format';
import { useDebouncedValue } from '../../components/useDebouncedValue';
import { monospace } from '../../theme/theme';
import { formatCount } from './format';
import {
  KNOWN_ROUTES,
  STATUS_FILTERS,
  useRequestLog,
  type RequestLogEntry,
  type RequestLogFilter,
} from './usageApi';

const PAGE_SIZES = [25, 50, 100];

/** A select of the names seen in the usage (clients or models), or any. */
function NameFilter({
  label,
  value,
  names,
  onChange,
  testId,
}: {
  label: string;
  value: string;
  names: string[];
  onChange: (value: string) => void;
  testId: string;
}) {
  return (
    <TextField
      select
      size="small"
      label={label}
      value={value}
      onChange={(event) => onChange(event.target.value)}
      sx={FILTER_WIDTH}
      data-testid={testId}
    >
      <MenuItem value="">Any</MenuItem>
      {names.map((name) => (
        <MenuItem key={name} value={name}>
          {name}
        </MenuItem>
      ))}
    </TextField>
  );
}

function statusColor(status: number): 'success' | 'warning' | 'error' | 'default' {
  if (status >= 500) return 'error';
  if (status >= 400) return 'warning';
  if (status >= 200 && status < 300) return 'success';
  return 'default';
}

function StatusChip({ status }: { status: number }) {
  return (
    <Chip
      component="span"
      size="small"
      label={status}
      color={statusColor(status)}
      data-testid="request-status"
    />
  );
}

function CopyRequestId({ id }: { id: string }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(id);
      setCopied(true);
      setTimeout(() => setCopied(false), 1500);
    } catch {
      setCopied(false); // the clipboard needs HTTPS or localhost; the id stays selectable
    }
  };
  return (
    <Box sx={{ display: 'flex', alignItems: 'center', gap: 0.5 }}>
      <Box component="span" sx={{ fontFamily: monospace, fontSize: 12, whiteSpace: 'nowrap' }}>
        {id}
      </Box>
      <Tooltip title={copied ? 'Copied' : 'Copy'}>
        <IconButton size="small" aria-label={`Copy request id ${id}`} onClick={() => void copy()}>
          {copied ? <CheckIcon fontSize="inherit" /> : <ContentCopyIcon fontSize="inherit" />}
        </IconButton>
      </Tooltip>
    </Box>
  );
}

function LogRow({ entry }: { entry: RequestLogEntry }) {
  const tokens = entry.prompt_tokens + entry.completion_tokens;
  return (
    <TableRow data-testid="request-log-row" hover>
      <TableCell sx={{ whiteSpace: 'nowrap' }}>{formatTime(entry.time)}</TableCell>
      <TableCell>{entry.client}</TableCell>
      <TableCell sx={{ fontFamily: monospace, fontSize: 12.5, whiteSpace: 'nowrap' }}>
        {entry.kind === 'job' ? entry.route : `${entry.method} ${entry.route}`}
      </TableCell>
      <TableCell sx={{ maxWidth: 220, overflowWrap: 'anywhere' }}>{entry.model ?? '–'}</TableCell>
      <TableCell>
        <StatusChip status={entry.status} />
      </TableCell>
      <TableCell align="right" sx={{ whiteSpace: 'nowrap' }}>
        {formatDuration(entry.latency_ms / 1000)}
      </TableCell>
      <TableCell
        align="right"
        title={tokens ? `${entry.prompt_tokens} prompt + ${entry.completion_tokens} completion` : undefined}
      >
        {tokens ? formatCount(tokens) : '–'}
      </TableCell>
      <TableCell align="right">{entry.audio_seconds ? entry.audio_seconds.toFixed(1) : '–'}</TableCell>
      <TableCell sx={{ fontFamily: monospace, fontSize: 12.5 }}>{entry.error_code ?? ''}</TableCell>
      <TableCell>
        <CopyRequestId id={entry.request_id} />
      </TableCell>
    </TableRow>
  );
}

interface RequestLogProps {
  /** The clients and models the filters offer. */
  clients: string[];
  models: string[];
}

const FILTER_WIDTH = { flex: '1 1 160px', minWidth: 140, maxWidth: { sm: 260 } } as const;

/** The request log, newest first: filters, a server-side page, refreshed every 10 s. */
export function RequestLog({ clients, models }: RequestLogProps) {
  const [client, setClient] = useState('');
  const [model, setModel] = useState('');
  const [status, setStatus] = useState('');
  const [routeText, setRouteText] = useState('');
  const route = useDebouncedValue(routeText.trim());
  const [page, setPage] = useState(0);
  const [pageSize, setPageSize] = useState(PAGE_SIZES[1]!);
  const filter: RequestLogFilter = { client, model, route, status, limit: pageSize, offset: page * pageSize };
  const log = useRequestLog(filter);
  const total = log.data?.total ?? 0;

  // Any filter change starts again from the newest entries.
  const change = (set: (value: string) => void) => (value: string) => {
    set(value);
    setPage(0);
  };

  return (
    <Card data-testid="request-log">
      <CardContent>
        <Box sx={{ display: 'flex', flexWrap: 'wrap', gap: 1, alignItems: 'baseline', mb: 2 }}>
          <Typography variant="h3" component="h2">
            Request log
          </Typography>
          <Typography variant="body2" color="text.secondary" aria-live="polite">
            {log.data ? `${formatCount(total)} matching` : ''}
          </Typography>
        </Box>
        <Box sx={{ display: 'flex', flexWrap: 'wrap', gap: 1.5, mb: 2 }}>
          <NameFilter
            label="Client"
            value={client}
            names={clients}
            onChange={change(setClient)}
            testId="request-log-filter-client"
          />
          <NameFilter
            label="Model"
            value={model}
            names={models}
            onChange={change(setModel)}
            testId="request-log-filter-model"
          />
          <TextField
            select
            size="small"
            label="Status"
            value={status}
            onChange={(event) => change(setStatus)(event.target.value)}
            sx={FILTER_WIDTH}
            data-testid="request-log-filter-status"
          >
            {STATUS_FILTERS.map((option) => (
              <MenuItem key={option.value} value={option.value}>
                {option.label}
              </MenuItem>
            ))}
          </TextField>
          <Autocomplete
            freeSolo
            size="small"
            options={KNOWN_ROUTES}
            inputValue={routeText}
            onInputChange={(_, value) => change(setRouteText)(value)}
            sx={{ flex: '2 1 220px', minWidth: 180, maxWidth: { sm: 320 } }}
            renderInput={(params) => (
              <TextField {...params} label="Route" data-testid="request-log-filter-route" />
            )}
          />
        </Box>
        {log.error ? (
          <Alert severity="error">{errorMessage(log.error)}</Alert>
        ) : !log.data ? (
          <Skeleton variant="rectangular" height={240} />
        ) : (
          <>
            <Box sx={{ height: 4 }}>
              {log.isFetching && log.isPlaceholderData && <LinearProgress aria-label="Loading the log" />}
            </Box>
            <TableContainer tabIndex={0} role="region" aria-label="Requests, newest first">
              <Table size="small">
                <TableHead>
                  <TableRow>
                    <TableCell>Time</TableCell>
                    <TableCell>Client</TableCell>
                    <TableCell>Route</TableCell>
                    <TableCell>Model</TableCell>
                    <TableCell>Status</TableCell>
                    <TableCell align="right">Latency</TableCell>
                    <TableCell align="right">Tokens</TableCell>
                    <TableCell align="right">Audio s</TableCell>
                    <TableCell>Error</TableCell>
                    <TableCell>Request id</TableCell>
                  </TableRow>
                </TableHead>
                <TableBody>
                  {log.data.data.length === 0 ? (
                    <TableRow>
                      <TableCell colSpan={10}>
                        <Typography variant="body2" color="text.secondary">
                          No request matches.
                        </Typography>
                      </TableCell>
                    </TableRow>
                  ) : (
                    log.data.data.map((entry) => <LogRow key={entry.id} entry={entry} />)
                  )}
                </TableBody>
              </Table>
            </TableContainer>
            <TablePagination
              component="div"
              count={total}
              page={total && page * pageSize >= total ? Math.max(0, Math.ceil(total / pageSize) - 1) : page}
              onPageChange={(_, next) => setPage(next)}
              rowsPerPage={pageSize}
              rowsPerPageOptions={PAGE_SIZES}
              onRowsPerPageChange={(event) => {
                setPageSize(Number(event.target.value));
                setPage(0);
              }}
              sx={{ overflowX: 'auto' }}
            />
          </>
        )}
      </CardContent>
    </Card>
  );
}
