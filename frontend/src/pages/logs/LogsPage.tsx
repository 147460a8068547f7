import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import FormControlLabel from '@mui/material/FormControlLabel';
import MenuItem from '@mui/material/MenuItem';
import Paper from '@mui/material/Paper';
import Skeleton from '@mui/material/Skeleton';
import Switch from '@mui/material/Switch';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';
import { useEffect, useRef, useState } from 'react';

import { errorMessage } from '../../api/errors';
import type { LogEntry, LogLevel } from '../../api/types';
import { formatTime } from '../../components/format';
import { PageHeader } from '../../components/PageHeader';
import { useDebouncedValue } from '../../components/useDebouncedValue';
import { monospace } from '../../theme/theme';
import { useLogTail } from './useLogTail';

const LEVELS: LogLevel[] = ['debug', 'info', 'warning', 'error', 'critical'];

const LEVEL_COLORS: Record<string, string> = {
  debug: 'text.secondary',
  info: 'info.main',
  warning: 'warning.main',
  error: 'error.main',
  critical: 'error.main',
};

function LogLine({ entry }: { entry: LogEntry }) {
  return (
    <Box
      component="li"
      data-testid="log-line"
      sx={{
        display: 'flex',
        gap: 1,
        py: 0.25,
        px: 1,
        borderBottom: 1,
        borderColor: 'divider',
        flexWrap: { xs: 'wrap', sm: 'nowrap' },
      }}
    >
      <Box component="span" sx={{ color: 'text.secondary', flexShrink: 0 }}>
        {formatTime(entry.time)}
      </Box>
      <Box
        component="span"
        sx={{
          color: LEVEL_COLORS[entry.level] ?? 'text.primary',
          width: 64,
          flexShrink: 0,
          textTransform: 'uppercase',
        }}
      >
        {entry.level}
      </Box>
      <Box
        component="span"
        title={entry.logger}
        sx={{
          color: 'text.secondary',
          flexShrink: 0,
          width: { sm: 112 },
          overflow: 'hidden',
          textOverflow: 'ellipsis',
          whiteSpace: 'nowrap',
        }}
      >
        {entry.logger}
      </Box>
      <Box
        component="span"
        sx={{
          whiteSpace: 'pre-wrap',
          overflowWrap: 'anywhere',
          minWidth: 0,
          flexBasis: { xs: '100%', sm: 'auto' },
        }}
      >
        {entry.message}
      </Box>
    </Box>
  );
}

export default function LogsPage() {
  const [level, setLevel] = useState<LogLevel>('info');
  const [search, setSearch] = useState('');
  const [follow, setFollow] = useState(true);
  // Typing does not start a request per key.
  const q = useDebouncedValue(search.trim());
  const tail = useLogTail({ level, q }, follow);
  const scroller = useRef<HTMLDivElement>(null);
  const count = tail.data?.entries.length ?? 0;

  useEffect(() => {
    // Following keeps the newest line in view (inside the log box, not the page).
    const box = scroller.current;
    if (follow && box) box.scrollTop = box.scrollHeight;
  }, [follow, count]);

  return (
    <>
      <PageHeader
        title="Logs"
        subtitle="The gateway's recent log lines (kept in memory; secrets are masked)."
      />
      <Box sx={{ display: 'flex', flexWrap: 'wrap', gap: 2, alignItems: 'center', mb: 2 }}>
        <TextField
          select
          size="small"
          label="Level at least"
          value={level}
          onChange={(event) => setLevel(event.target.value as LogLevel)}
          sx={{ minWidth: 150 }}
        >
          {LEVELS.map((name) => (
            <MenuItem key={name} value={name}>
              {name}
            </MenuItem>
          ))}
        </TextField>
        <TextField
          size="small"
          type="search"
          label="Search"
          value={search}
          onChange={(event) => setSearch(event.target.value)}
          sx={{ flex: '1 1 200px', maxWidth: 400 }}
        />
        <FormControlLabel
          control={<Switch checked={follow} onChange={(_, on) => setFollow(on)} />}
          label="Follow"
        />
        <Typography variant="body2" color="text.secondary" aria-live="polite">
          {count} line{count === 1 ? '' : 's'}
        </Typography>
      </Box>
      {tail.error && (
        <Alert severity="error" sx={{ mb: 2 }}>
          {errorMessage(tail.error)}
        </Alert>
      )}
      {!tail.data ? (
        !tail.error && <Skeleton variant="rectangular" height={300} />
      ) : count === 0 ? (
        <Typography color="text.secondary">No line matches.</Typography>
      ) : (
        <Paper
          ref={scroller}
          variant="outlined"
          sx={{ maxHeight: '70vh', overflow: 'auto' }}
          tabIndex={0}
          aria-label="Log lines"
        >
          <Box component="ol" sx={{ listStyle: 'none', m: 0, p: 0, fontFamily: monospace, fontSize: 12.5 }}>
            {tail.data.entries.map((entry) => (
              <LogLine key={entry.id} entry={entry} />
            ))}
          </Box>
        </Paper>
      )}
    </>
  );
}
