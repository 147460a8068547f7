/**
 * Long-audio jobs (`/api/jobs`): their shapes, what each task offers, and the calls and hooks of the jobs
 * pages. JSON routes go through the typed client; the multipart upload and the result files through
 * `gatewayFetch`. The event stream is in `useJobEvents.ts`.
 */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';

import { api, gatewayFetch, unwrap } from '../../api/client';
import { queryKeys } from '../../api/queryKeys';
import type { components, operations } from '../../api/schema';
import { saveBlob } from '../playground/audio/saveFile';

export type Job = components['schemas']['Job'];
export type JobList = components['schemas']['JobList'];
export type JobTask = Job['task'];
export type JobState = Job['state'];
export type JobStage = components['schemas']['JobStage'];
export type StageState = JobStage['state'];
export type ResultFormat = NonNullable<
  NonNullable<operations['job_result_api_jobs__job_id__result_get']['parameters']['query']>['response_format']
>;

export const FINAL_STATES: readonly JobState[] = ['succeeded', 'failed', 'cancelled'];

export function isFinished(state: JobState): boolean {
  return FINAL_STATES.includes(state);
}

export const TASKS: { value: JobTask; label: string; hint: string }[] = [
  { value: 'transcribe', label: 'Transcribe', hint: 'the text, with timestamps' },
  { value: 'diarize', label: 'Diarize (who spoke when)', hint: 'speaker turns, no text' },
  { value: 'both', label: 'Both (transcript with speakers)', hint: 'the text, labelled by speaker' },
];

/** The result formats the gateway renders for each task (`FORMATS` of `services/jobs.py`). */
export const FORMATS: Record<JobTask, readonly ResultFormat[]> = {
  transcribe: ['json', 'text', 'srt', 'vtt', 'verbose_json'],
  diarize: ['json', 'rttm'],
  both: ['json', 'text', 'srt', 'vtt', 'verbose_json', 'diarized_json', 'rttm'],
};

export const FORMAT_LABELS: Record<ResultFormat, { label: string; extension: string }> = {
  json: { label: 'JSON', extension: 'json' },
  text: { label: 'Text', extension: 'txt' },
  srt: { label: 'SRT', extension: 'srt' },
  vtt: { label: 'WebVTT', extension: 'vtt' },
  verbose_json: { label: 'Verbose JSON', extension: 'verbose.json' },
  diarized_json: { label: 'Diarized JSON', extension: 'diarized.json' },
  rttm: { label: 'RTTM', extension: 'rttm' },
};

/** `talk.wav` → `talk.srt`: the upload's name with the format's extension. */
export function downloadName(filename: string, format: ResultFormat): string {
  const stem = filename.replace(/\.[^./\\]*$/, '') || 'result';
  return `${stem}.${FORMAT_LABELS[format].extension}`;
}

/** Poll the list this often while a job is queued or running, and this often otherwise. */
export const LIST_POLL_BUSY_MS = 2000;
export const LIST_POLL_IDLE_MS = 15_000;
/** Poll one job this often when its event stream is not available. */
export const JOB_POLL_MS = 2000;

export function useJobs() {
  return useQuery({
    queryKey: queryKeys.jobs.list(),
    queryFn: async (): Promise<Job[]> => unwrap(await api.GET('/api/jobs')).data,
    refetchInterval: (query) =>
      query.state.data?.some((job) => !isFinished(job.state)) ? LIST_POLL_BUSY_MS : LIST_POLL_IDLE_MS,
  });
}

export function useJob(jobId: string, poll: boolean) {
  return useQuery({
    queryKey: queryKeys.jobs.detail(jobId),
    queryFn: async (): Promise<Job> =>
      unwrap(await api.GET('/api/jobs/{job_id}', { params: { path: { job_id: jobId } } })),
    refetchInterval: (query) =>
      poll && query.state.data && !isFinished(query.state.data.state) ? JOB_POLL_MS : false,
    // A missing job stays missing: no retry of a 404.
    retry: false,
  });
}

export interface JobRequest {
  file: File;
  task: JobTask;
  model: string;
  language: string;
  targetLanguage: string;
  numSpeakers: string;
  minSpeakers: string;
  maxSpeakers: string;
}

/** The multipart form of `POST /api/jobs`; empty fields are left out (the gateway's defaults apply). */
export function jobForm(request: JobRequest): FormData {
  const form = new FormData();
  form.append('file', request.file, request.file.name);
  form.append('task', request.task);
  const optional: [string, string][] = [
    ['language', request.language],
    ['target_language', request.targetLanguage],
  ];
  if (request.task !== 'diarize') optional.push(['model', request.model]);
  if (request.task !== 'transcribe') {
    optional.push(
      ['num_speakers', request.numSpeakers],
      ['min_speakers', request.minSpeakers],
      ['max_speakers', request.maxSpeakers],
    );
  }
  for (const [name, value] of optional) {
    if (value.trim()) form.append(name, value.trim());
  }
  return form;
}

export function useSubmitJob() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (request: JobRequest): Promise<Job> => {
      const response = await gatewayFetch('/api/jobs', { method: 'POST', body: jobForm(request) });
      return (await response.json()) as Job;
    },
    onSuccess: (job) => {
      queryClient.setQueryData(queryKeys.jobs.detail(job.id), job);
      void queryClient.invalidateQueries({ queryKey: queryKeys.jobs.list() });
    },
  });
}

export function useCancelJob() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (jobId: string): Promise<Job> =>
      unwrap(await api.POST('/api/jobs/{job_id}/cancel', { params: { path: { job_id: jobId } } })),
    onSuccess: (job) => queryClient.setQueryData(queryKeys.jobs.detail(job.id), job),
    onSettled: () => queryClient.invalidateQueries({ queryKey: queryKeys.jobs.list() }),
  });
}

export function resultPath(jobId: string, format: ResultFormat): string {
  return `/api/jobs/${encodeURIComponent(jobId)}/result?response_format=${format}`;
}

/** The result in one format, saved by the browser as `<upload name>.<extension>`. */
export async function downloadResult(job: Job, format: ResultFormat): Promise<void> {
  const response = await gatewayFetch(resultPath(job.id, format));
  saveBlob(downloadName(job.filename, format), await response.blob());
}

interface DiarizedJson {
  segments: { speaker: string; start: number; end: number; text: string }[];
}
interface DiarizationJson {
  segments: { speaker: string; start: number; end: number }[];
}

function clock(seconds: number): string {
  const minutes = Math.floor(seconds / 60);
  return `${minutes}:${(seconds % 60).toFixed(1).padStart(4, '0')}`;
}

/** What the page shows of a finished job: the text, the text by speaker, or the speaker turns. */
export function usePreview(job: Job | undefined) {
  const format: ResultFormat =
    job?.task === 'both' ? 'diarized_json' : job?.task === 'diarize' ? 'json' : 'text';
  const jobId = job?.id ?? '';
  return useQuery({
    queryKey: queryKeys.jobs.result(jobId, format),
    enabled: job?.state === 'succeeded',
    staleTime: Infinity,
    queryFn: async (): Promise<string> => {
      const response = await gatewayFetch(resultPath(jobId, format));
      if (format === 'text') return response.text();
      if (format === 'diarized_json') {
        const body = (await response.json()) as DiarizedJson;
        return body.segments.map((s) => `[${s.speaker}] ${s.text}`).join('\n');
      }
      const body = (await response.json()) as DiarizationJson;
      return body.segments.map((s) => `${clock(s.start)}–${clock(s.end)}  ${s.speaker}`).join('\n');
    },
  });
}
