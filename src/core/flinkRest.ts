// Flink's REST API, read only (a session cluster's JobManager or the job's MiniCluster), every call bounded in time.
import { errorMessage, UserError } from './errors';
import { currentJob, normalizeRestUrl } from './flinkJobs';

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

export interface FlinkVertex {
  id: string;
  name: string;
  status: string;
  parallelism: number;
  readRecords: number;
  writeRecords: number;
}

export interface FlinkJobDetail {
  jid: string;
  name: string;
  state: string;
  vertices: FlinkVertex[];
}

/** GET /jobs/:id with a hard timeout: the job's state and each vertex's status and record counts. */
export async function fetchJobDetail(restUrl: string, jobId: string, timeoutMs = 3000): Promise<FlinkJobDetail> {
  const url = `${restUrl.replace(/\/$/, '')}/jobs/${jobId}`;
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    throw new UserError(`Flink's REST API at ${restUrl} does not answer (${(error as Error).name === 'TimeoutError' ? 'timeout' : 'not reachable'}).`);
  }
  if (!response.ok) throw new UserError(`Flink's REST API at ${restUrl} answered ${response.status} for job ${jobId}.`);
  const body = (await response.json()) as {
    jid: string;
    name: string;
    state: string;
    vertices?: Array<{ id: string; name: string; status: string; parallelism: number; metrics?: { 'read-records'?: number; 'write-records'?: number } }>;
  };
  return {
    jid: body.jid,
    name: body.name,
    state: body.state,
    vertices: (body.vertices ?? []).map((v) => ({ id: v.id, name: v.name, status: v.status, parallelism: v.parallelism, readRecords: v.metrics?.['read-records'] ?? 0, writeRecords: v.metrics?.['write-records'] ?? 0 })),
  };
}

/** Records the job's sources have read from outside (Kafka): the read-records of the vertices that start with a source. */
export function sourceRecords(job: FlinkJobDetail): number {
  return job.vertices.filter((v) => v.name.startsWith('Source')).reduce((sum, v) => sum + v.readRecords, 0);
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

export interface FlinkOverview {
  reachable: boolean;
  jobs: FlinkJobSummary[];
  /** The job to show (running or starting first, else the newest). */
  current?: FlinkJobSummary;
  /** Why it is not reachable. */
  error?: string;
}

/**
 * The Flink REST API (a session cluster's JobManager, or the PyFlink MiniCluster of `pipeline job start`). Only
 * reads, with a bounded time; "not reachable" is an answer, not an error: a stopped local job has no REST API.
 */
export class FlinkRestClient {
  constructor(
    readonly address: string,
    private readonly timeoutMs = 2500,
  ) {}

  async overview(): Promise<FlinkOverview> {
    const { url, error } = normalizeRestUrl(this.address);
    if (!url) return { reachable: false, jobs: [], error };
    try {
      const jobs = await fetchJobsOverview(url, this.timeoutMs);
      return { reachable: true, jobs, current: currentJob(jobs) };
    } catch (e) {
      return { reachable: false, jobs: [], error: errorMessage(e) };
    }
  }
}
