import Alert from '@mui/material/Alert';
import Autocomplete from '@mui/material/Autocomplete';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Card from '@mui/material/Card';
import CardContent from '@mui/material/CardContent';
import MenuItem from '@mui/material/MenuItem';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';
import { useState, type FormEvent } from 'react';
import { useNavigate } from 'react-router';

import { errorMessage } from '../../api/errors';
import { AudioDropZone } from '../../components/AudioDropZone';
import { useModelChoices } from '../playground/chat/useModelChoices';
import { TASKS, useSubmitJob, type JobTask } from './jobsApi';

/** A new job: the file, the task and its options; on success the job's page opens. */
export function SubmitJobForm() {
  const navigate = useNavigate();
  const submit = useSubmitJob();
  const [file, setFile] = useState<File | null>(null);
  const [task, setTask] = useState<JobTask>('transcribe');
  const asrModels = useModelChoices('asr');
  const [model, setModel] = useState('');
  const [language, setLanguage] = useState('');
  const [targetLanguage, setTargetLanguage] = useState('');
  const [numSpeakers, setNumSpeakers] = useState('');
  const [minSpeakers, setMinSpeakers] = useState('');
  const [maxSpeakers, setMaxSpeakers] = useState('');
  const transcribes = task !== 'diarize';
  const diarizes = task !== 'transcribe';

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    if (!file) return;
    submit.mutate(
      { file, task, model, language, targetLanguage, numSpeakers, minSpeakers, maxSpeakers },
      { onSuccess: (job) => void navigate(`/jobs/${encodeURIComponent(job.id)}`) },
    );
  };

  const speakerField = (label: string, value: string, set: (value: string) => void) => (
    <TextField
      size="small"
      type="number"
      label={label}
      value={value}
      onChange={(event) => set(event.target.value)}
      slotProps={{ htmlInput: { min: 1, max: 100, step: 1 } }}
      sx={{ width: 130 }}
    />
  );

  return (
    <Card component="section" aria-labelledby="new-job-title" sx={{ mb: 3 }}>
      <CardContent component="form" onSubmit={onSubmit}>
        <Typography variant="h2" id="new-job-title" sx={{ mb: 2 }}>
          New job
        </Typography>
        <AudioDropZone
          file={file}
          onFile={setFile}
          inputTestId="job-file"
          hint="or drop an audio file here (wav, flac, mp3, ogg, m4a, webm, …)"
        />
        <Box sx={{ display: 'flex', flexWrap: 'wrap', gap: 2, mt: 2 }}>
          <TextField
            select
            size="small"
            label="Task"
            value={task}
            onChange={(event) => setTask(event.target.value as JobTask)}
            data-testid="job-task"
            helperText={TASKS.find((t) => t.value === task)?.hint}
            sx={{ minWidth: 240 }}
          >
            {TASKS.map((t) => (
              <MenuItem key={t.value} value={t.value}>
                {t.label}
              </MenuItem>
            ))}
          </TextField>
          {transcribes && (
            <>
              <Autocomplete
                freeSolo
                options={asrModels.choices.map((c) => c.name)}
                inputValue={model}
                onInputChange={(_, value) => setModel(value)}
                sx={{ width: 220 }}
                renderInput={(params) => (
                  <TextField
                    {...params}
                    size="small"
                    label="ASR model"
                    placeholder="the gateway's default"
                    helperText="any speech model's served name; empty: the default"
                  />
                )}
              />
              <TextField
                size="small"
                label="Language"
                value={language}
                onChange={(event) => setLanguage(event.target.value)}
                helperText="ISO 639-1; empty: detected"
                sx={{ width: 160 }}
              />
              <TextField
                size="small"
                label="Translate into"
                value={targetLanguage}
                onChange={(event) => setTargetLanguage(event.target.value)}
                helperText="empty: no translation"
                sx={{ width: 160 }}
              />
            </>
          )}
        </Box>
        {diarizes && (
          <Box
            component="fieldset"
            sx={{
              border: 0,
              p: 0,
              m: 0,
              mt: 2,
              display: 'flex',
              flexWrap: 'wrap',
              gap: 2,
              alignItems: 'center',
            }}
          >
            <Typography component="legend" variant="body2" color="text.secondary" sx={{ mb: 1 }}>
              Speakers (optional): an exact count, or a range
            </Typography>
            {speakerField('Exactly', numSpeakers, setNumSpeakers)}
            {speakerField('At least', minSpeakers, setMinSpeakers)}
            {speakerField('At most', maxSpeakers, setMaxSpeakers)}
          </Box>
        )}
        {submit.error && (
          <Alert severity="error" sx={{ mt: 2 }}>
            {errorMessage(submit.error)}
          </Alert>
        )}
        <Box sx={{ display: 'flex', alignItems: 'center', gap: 2, mt: 2 }}>
          <Button
            type="submit"
            variant="contained"
            data-testid="job-submit"
            disabled={!file || submit.isPending}
          >
            {submit.isPending ? 'Submitting…' : 'Submit'}
          </Button>
          {!file && (
            <Typography variant="body2" color="text.secondary">
              Choose a file first.
            </Typography>
          )}
        </Box>
      </CardContent>
    </Card>
  );
}
