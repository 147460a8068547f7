/**
 * For the jobs pages' tests only: jobs shaped like the gateway's, and an MSW stand-in for `/api/jobs`
 * that keeps submitted jobs, cancels them, renders results and streams events the test sends.
 */
import { http, HttpResponse } from 'msw';

import { envelope, NOW } from '../../test/fixtures';
import type { Job, JobTask } from './jobsApi';

const STAGES: Record<JobTask, string[]> = {
  transcribe: ['decode', 'asr', 'merge'],
  diarize: ['decode', 'diarization', 'merge'],
  both: ['decode', 'asr', 'diarization', 'merge'],
};

export function job(overrides: Partial<Job> = {}): Job {
  const task = overrides.task ?? 'transcribe';
  return {
    id: 'job_1',
    object: 'audio.job',
    owner: 'erp',
    task,
    state: 'queued',
    options: {
      model: 'canary',
      language: null,
      target_language: null,
      num_speakers: null,
      min_speakers: null,
      max_speakers: null,
    },
    filename: 'talk.wav',
    duration: null,
    progress: Object.fromEntries(STAGES[task].map((name) => [name, { state: 'pending', progress: 0 }])),
    error: null,
    created_at: NOW - 60,
    started_at: null,
    finished_at: null,
    ...overrides,
  };
}

/** The same job with every stage done. */
export function succeeded(base: Job): Job {
  return {
    ...base,
    state: 'succeeded',
    duration: 13.5,
    started_at: base.created_at + 1,
    finished_at: base.created_at + 4,
    progress: Object.fromEntries(
      Object.keys(base.progress).map((name) => [name, { state: 'succeeded', progress: 1 }]),
    ),
  };
}

/** A server-sent event stream the test writes to. */
export class EventStream {
  private controller: ReadableStreamDefaultController<Uint8Array> | null = null;
  private readonly encoder = new TextEncoder();
  readonly stream = new ReadableStream<Uint8Array>({
    start: (controller) => {
      this.controller = controller;
    },
  });

  response() {
    return new HttpResponse(this.stream, {
      headers: { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' },
    });
  }

  send(sent: Job) {
    this.write(`data: ${JSON.stringify(sent)}\n\n`);
  }

  write(text: string) {
    this.controller?.enqueue(this.encoder.encode(text));
  }

  close() {
    this.controller?.close();
  }
}

export const RESULTS: Record<string, string | object> = {
  json: { text: 'hello from the job' },
  text: 'hello from the job',
  srt: '1\n00:00:00,000 --> 00:00:13,500\nhello from the job\n',
  vtt: 'WEBVTT\n\n00:00:00.000 --> 00:00:13.500\nhello from the job\n',
  verbose_json: { task: 'transcribe', text: 'hello from the job', segments: [] },
  diarized_json: {
    text: 'hello there',
    segments: [
      { speaker: 'A', start: 0, end: 2, text: 'hello' },
      { speaker: 'B', start: 2, end: 4, text: 'there' },
    ],
  },
  rttm: 'SPEAKER talk 1 0.000 2.000 <NA> <NA> SPEAKER_00 <NA> <NA>\n',
};

export interface JobsBackend {
  jobs: Job[];
  /** Each submitted form, in order. */
  submitted: FormData[];
  /** Each `response_format` asked of `/result`. */
  resultFormats: string[];
  cancelled: string[];
  /** The stream `/events` answers with (a new one per test); null: answer with the job and end. */
  events: EventStream | null;
}

/** Handlers over `backend`: the list (a client sees only `erp`'s jobs unless `admin`), one job, submit,
 * cancel, result and events. */
export function jobsHandlers(backend: JobsBackend, { admin = false } = {}) {
  const find = (id: string | readonly string[] | undefined) => backend.jobs.find((j) => j.id === id);
  const notFound = (id: unknown) =>
    HttpResponse.json(envelope(`no job '${String(id)}'`, 'not_found_error', 'not_found'), { status: 404 });
  return [
    http.get('*/api/jobs', () =>
      HttpResponse.json({
        object: 'list',
        data: backend.jobs.filter((j) => admin || j.owner === 'erp'),
      }),
    ),
    http.post('*/api/jobs', async ({ request }) => {
      const form = await request.formData();
      backend.submitted.push(form);
      const file = form.get('file');
      const created = job({
        id: `job_${backend.jobs.length + 1}`,
        task: form.get('task') as JobTask,
        filename: file instanceof File ? file.name : 'audio',
        created_at: NOW,
      });
      backend.jobs.unshift(created);
      return HttpResponse.json(created, { status: 202 });
    }),
    http.get('*/api/jobs/:id', ({ params }) => {
      const found = find(params.id);
      return found ? HttpResponse.json(found) : notFound(params.id);
    }),
    http.post('*/api/jobs/:id/cancel', ({ params }) => {
      const found = find(params.id);
      if (!found) return notFound(params.id);
      if (found.state === 'succeeded' || found.state === 'failed') {
        return HttpResponse.json(envelope(`job ${found.id} has ${found.state}`, 'conflict_error'), {
          status: 409,
        });
      }
      backend.cancelled.push(found.id);
      Object.assign(found, { state: 'cancelled', finished_at: NOW });
      return HttpResponse.json(found);
    }),
    http.get('*/api/jobs/:id/result', ({ params, request }) => {
      const found = find(params.id);
      if (!found) return notFound(params.id);
      const format = new URL(request.url).searchParams.get('response_format') ?? 'json';
      backend.resultFormats.push(format);
      const body = RESULTS[format];
      return typeof body === 'string' ? HttpResponse.text(body) : HttpResponse.json(body);
    }),
    http.get('*/api/jobs/:id/events', ({ params }) => {
      const found = find(params.id);
      if (!found) return notFound(params.id);
      if (backend.events) return backend.events.response();
      return new HttpResponse(`data: ${JSON.stringify(found)}\n\n`, {
        headers: { 'Content-Type': 'text/event-stream' },
      });
    }),
  ];
}

export function jobsBackend(jobs: Job[] = []): JobsBackend {
  return { jobs, submitted: [], resultFormats: [], cancelled: [], events: null };
}
