import { UserError } from './errors';

export interface FlinkJobSummary {
  jid: string;
  name: string;
  state: string;
  startTime: number;
  duration: number;
}

export const DEFAULT_FLINK_REST = 'http://127.0.0.1:8081';

/** GET /jobs/overview with a hard timeout; throws a UserError when Flink's REST API does not answer. */
export async function fetchJobsOverview(restUrl: string, timeoutMs = 3000): Promise<FlinkJobSummary[]> {
  const url = `${restUrl.replace(/\/$/, '')}/jobs/overview`;
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    throw new UserError(`Flink's REST API at ${restUrl} does not answer (${(error as Error).name === 'TimeoutError' ? 'timeout' : 'not reachable'}).`);
  }
  if (!response.ok) throw new UserError(`Flink's REST API at ${restUrl} answered ${response.status}.`);
  const body = (await response.json()) as { jobs?: Array<{ jid: string; name: string; state: string; 'start-time': number; duration: number }> };
  return (body.jobs ?? []).map((j) => ({ jid: j.jid, name: j.name, state: j.state, startTime: j['start-time'], duration: j.duration }));
}

/** Completed checkpoint count of a job (GET /jobs/:id/checkpoints), or undefined when it cannot be read. */
export async function fetchCompletedCheckpoints(restUrl: string, jobId: string, timeoutMs = 3000): Promise<number | undefined> {
  try {
    const response = await fetch(`${restUrl.replace(/\/$/, '')}/jobs/${jobId}/checkpoints`, { signal: AbortSignal.timeout(timeoutMs) });
    if (!response.ok) return undefined;
    const body = (await response.json()) as { counts?: { completed?: number } };
    return body.counts?.completed;
  } catch {
    return undefined;
  }
}
