import { useQuery, useQueryClient } from '@tanstack/react-query';

import { fetchLogs } from '../../api/queries';
import { queryKeys, type LogFilter } from '../../api/queryKeys';
import type { LogEntry } from '../../api/types';

/** Lines kept on the page; older ones drop off the top. */
export const MAX_LINES = 2000;
const PAGE = 500;
export const FOLLOW_POLL_MS = 2000;

export interface LogTail {
  entries: LogEntry[];
  lastId: number;
}

/**
 * The gateway's log for one filter, grown by polling `after=<last id>` while following. Each filter
 * has its own query (and so starts from the newest lines again); the accumulated lines live in the
 * query's data.
 */
export function useLogTail(filter: LogFilter, follow: boolean) {
  const queryClient = useQueryClient();
  const queryKey = queryKeys.admin.logs(filter);
  return useQuery({
    queryKey,
    queryFn: async (): Promise<LogTail> => {
      const previous = queryClient.getQueryData<LogTail>(queryKey);
      if (!previous) {
        const page = await fetchLogs(filter, null, PAGE);
        return { entries: page.entries, lastId: page.last_id };
      }
      let { entries, lastId } = previous;
      // Catch up page by page (a burst may have logged more than a page since the last poll).
      for (let round = 0; round < 4; round += 1) {
        const page = await fetchLogs(filter, lastId, PAGE);
        entries = entries.concat(page.entries);
        lastId = page.last_id;
        if (page.entries.length < PAGE) break;
      }
      return { entries: entries.slice(-MAX_LINES), lastId };
    },
    refetchInterval: follow ? FOLLOW_POLL_MS : false,
    refetchOnWindowFocus: follow,
  });
}
