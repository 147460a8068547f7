import DownloadIcon from '@mui/icons-material/Download';
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import { useState } from 'react';

import { errorMessage } from '../../api/errors';
import { downloadName, downloadResult, FORMAT_LABELS, FORMATS, type Job, type ResultFormat } from './jobsApi';

/** One button per format the job's task offers; each saves `<upload name>.<extension>`. */
export function JobDownloads({ job }: { job: Job }) {
  const [busy, setBusy] = useState<ResultFormat | null>(null);
  const [error, setError] = useState<unknown>(null);
  const ready = job.state === 'succeeded';

  const download = async (format: ResultFormat) => {
    setBusy(format);
    setError(null);
    try {
      await downloadResult(job, format);
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(null);
    }
  };

  return (
    <Box>
      <Box sx={{ display: 'flex', flexWrap: 'wrap', gap: 1 }}>
        {FORMATS[job.task].map((format) => (
          <Button
            key={format}
            data-testid={`download-${format}`}
            variant="outlined"
            size="small"
            startIcon={<DownloadIcon />}
            disabled={!ready || busy !== null}
            onClick={() => void download(format)}
            title={`Save as ${downloadName(job.filename, format)}`}
          >
            {FORMAT_LABELS[format].label}
          </Button>
        ))}
      </Box>
      {error !== null && (
        <Alert severity="error" sx={{ mt: 1 }}>
          {errorMessage(error)}
        </Alert>
      )}
    </Box>
  );
}
