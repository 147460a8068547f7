import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';

import { gatewayFetch } from '../../api/client';
import { queryKeys } from '../../api/queryKeys';
import { isFinished, useJob, type Job } from './jobsApi';
import { readEvents } from '../../api/sse';

/** How the page follows a job: its event stream (`live`), or polling when the stream failed or ended early. */
export type FollowMode = 'off' | 'connecting' | 'live' | 'polling';

/**
 * One job, kept current: fetched once, then followed through `GET /api/jobs/{id}/events` while unfinished.
 * Every event is the whole job, written into the job's query, so whatever shows the job updates at once.
 * The stream is read with `gatewayFetch` (the key goes in a header, which `EventSource` cannot send) and
 * aborted when the page goes or the job ends. When the stream fails or ends before a final state, the
 * job's query polls instead.
 */
export function useLiveJob(jobId: string) {
  const queryClient = useQueryClient();
  const [liveFor, setLiveFor] = useState<string | null>(null);
  const [pollingFor, setPollingFor] = useState<string | null>(null);
  const polling = pollingFor === jobId;
  const job = useJob(jobId, polling);
  const active = job.data !== undefined && !isFinished(job.data.state);

  useEffect(() => {
    if (!active || polling) return;
    const controller = new AbortController();
    let ended = false;
    const follow = async () => {
      try {
        const response = await gatewayFetch(`/api/jobs/${encodeURIComponent(jobId)}/events`, {
          signal: controller.signal,
          headers: { Accept: 'text/event-stream' },
        });
        if (!response.body) throw new Error('the gateway sent no event stream');
        setLiveFor(jobId);
        for await (const event of readEvents(response.body)) {
          const job = JSON.parse(event.data) as Job;
          queryClient.setQueryData(queryKeys.jobs.detail(jobId), job);
          if (isFinished(job.state)) {
            ended = true;
            void queryClient.invalidateQueries({ queryKey: queryKeys.jobs.list() });
          }
        }
      } catch {
        // Aborted (page left, job ended) or failed: the fallback below decides.
      }
      if (controller.signal.aborted) return;
      setLiveFor(null);
      if (!ended) setPollingFor(jobId);
    };
    void follow();
    return () => controller.abort();
  }, [jobId, active, polling, queryClient]);

  const follow: FollowMode = !active
    ? 'off'
    : polling
      ? 'polling'
      : liveFor === jobId
        ? 'live'
        : 'connecting';
  return { job, follow };
}
