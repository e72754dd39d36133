// Flink's REST API, read only (a session cluster's JobManager or the job's MiniCluster): jobs, their detail and exceptions, the cluster.
import { errorMessage } from '../shared/errors';
import { currentJob, normalizeRestUrl } from './flinkJobs';
import { jobPath, restJson } from './flinkRestCall';
import type { FlinkClusterOverview, FlinkException, FlinkJobDetail, FlinkJobSummary, TaskManagerInfo } from './flinkRestTypes';

/** GET /jobs/overview with a hard timeout; throws a UserError when Flink's REST API does not answer. */
export async function fetchJobsOverview(restUrl: string, timeoutMs = 3000): Promise<FlinkJobSummary[]> {
  const body = await restJson<{ jobs?: Array<{ jid: string; name: string; state: string; 'start-time': number; duration: number }> }>(
    restUrl,
    '/jobs/overview',
    timeoutMs,
  );
  return (body.jobs ?? []).map((j) => ({ jid: j.jid, name: j.name, state: j.state, startTime: j['start-time'], duration: j.duration }));
}

interface RawVertex {
  id: string;
  name: string;
  status: string;
  parallelism: number;
  metrics?: Record<string, number | boolean | undefined>;
}

/** GET /jobs/:id with a hard timeout: the job's state, times, plan and each vertex's status and record counts. */
export async function fetchJobDetail(restUrl: string, jobId: string, timeoutMs = 3000): Promise<FlinkJobDetail> {
  const body = await restJson<{
    jid: string;
    name: string;
    state: string;
    'start-time'?: number;
    duration?: number;
    now?: number;
    timestamps?: Record<string, number>;
    vertices?: RawVertex[];
    plan?: { nodes?: { id: string; description?: string; inputs?: { id: string; ship_strategy?: string }[] }[] };
  }>(restUrl, jobPath(jobId), timeoutMs);
  const num = (v: number | boolean | undefined) => (typeof v === 'number' ? v : undefined);
  return {
    jid: body.jid,
    name: body.name,
    state: body.state,
    startTime: body['start-time'],
    duration: body.duration,
    now: body.now,
    timestamps: body.timestamps,
    vertices: (body.vertices ?? []).map((v) => ({
      id: v.id,
      name: v.name,
      status: v.status,
      parallelism: v.parallelism,
      readRecords: num(v.metrics?.['read-records']) ?? 0,
      writeRecords: num(v.metrics?.['write-records']) ?? 0,
      busyMs: num(v.metrics?.['accumulated-busy-time']),
      backPressuredMs: num(v.metrics?.['accumulated-backpressured-time']),
      idleMs: num(v.metrics?.['accumulated-idle-time']),
    })),
    plan: body.plan?.nodes?.map((n) => ({
      id: n.id,
      description: n.description ?? '',
      inputs: (n.inputs ?? []).map((i) => ({ id: i.id, shipStrategy: i.ship_strategy })),
    })),
  };
}

/** Records the job's sources have read from outside (Kafka): the read-records of the vertices that start with a source. */
export function sourceRecords(job: FlinkJobDetail): number {
  return job.vertices.filter((v) => v.name.startsWith('Source')).reduce((sum, v) => sum + v.readRecords, 0);
}

/** GET /overview: TaskManagers and slots of the cluster (one TaskManager for the embedded MiniCluster). */
export async function fetchClusterOverview(restUrl: string, timeoutMs = 3000): Promise<FlinkClusterOverview> {
  const body = await restJson<{
    taskmanagers?: number;
    'slots-total'?: number;
    'slots-available'?: number;
    'jobs-running'?: number;
    'flink-version'?: string;
  }>(restUrl, '/overview', timeoutMs);
  return {
    taskManagers: body.taskmanagers ?? 0,
    slotsTotal: body['slots-total'] ?? 0,
    slotsAvailable: body['slots-available'] ?? 0,
    jobsRunning: body['jobs-running'] ?? 0,
    flinkVersion: body['flink-version'],
  };
}

/**
 * The cluster's slot count when job `jobId` waits for a task slot: every slot taken, and a task of the job not yet
 * deployed (a job whose tasks all run may have taken the last slot itself). Undefined when it does not wait for one,
 * or the cluster does not answer.
 */
export async function slotShortage(restUrl: string, jobId?: string): Promise<number | undefined> {
  const overview = await fetchClusterOverview(restUrl, 2000).catch(() => undefined);
  if (!overview || overview.slotsTotal === 0 || overview.slotsAvailable > 0) return undefined;
  if (jobId) {
    const detail = await fetchJobDetail(restUrl, jobId, 2000).catch(() => undefined);
    if (detail && !detail.vertices.some((v) => v.status === 'SCHEDULED' || v.status === 'CREATED')) return undefined;
  }
  return overview.slotsTotal;
}

/** GET /taskmanagers: each TaskManager's id and slots, by id. */
export async function fetchTaskManagers(restUrl: string, timeoutMs = 3000): Promise<TaskManagerInfo[]> {
  const body = await restJson<{ taskmanagers?: { id: string; slotsNumber: number; freeSlots: number }[] }>(
    restUrl,
    '/taskmanagers',
    timeoutMs,
  );
  return (body.taskmanagers ?? [])
    .map((t) => ({ id: t.id, slotsTotal: t.slotsNumber, slotsFree: t.freeSlots }))
    .sort((a, b) => a.id.localeCompare(b.id));
}

/** GET /jobs/:id/exceptions: the failures that made the job restart or fail, newest first. */
export async function fetchExceptionHistory(
  restUrl: string,
  jobId: string,
  timeoutMs = 3000,
  maxExceptions = 20,
): Promise<{ entries: FlinkException[]; truncated: boolean }> {
  const body = await restJson<{
    exceptionHistory?: {
      entries?: {
        exceptionName?: string;
        stacktrace?: string;
        timestamp?: number;
        taskName?: string | null;
        location?: string | null;
        endpoint?: string | null;
        concurrentExceptions?: unknown[];
      }[];
      truncated?: boolean;
    };
  }>(restUrl, jobPath(jobId, `/exceptions?maxExceptions=${maxExceptions}`), timeoutMs);
  const entries = (body.exceptionHistory?.entries ?? []).map((e) => ({
    exceptionName: e.exceptionName ?? 'unknown exception',
    stacktrace: e.stacktrace ?? '',
    timestamp: e.timestamp ?? 0,
    taskName: e.taskName ?? undefined,
    location: e.location ?? e.endpoint ?? undefined,
    concurrent: e.concurrentExceptions?.length ?? 0,
  }));
  return { entries: entries.sort((a, b) => b.timestamp - a.timestamp), truncated: body.exceptionHistory?.truncated === true };
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

  /** The jobs, and the one to show: the pipeline job by `recordedJobId` when the cluster knows it (see currentJob). */
  async overview(recordedJobId?: string): Promise<FlinkOverview> {
    const { url, error } = normalizeRestUrl(this.address);
    if (!url) return { reachable: false, jobs: [], error };
    try {
      const jobs = await fetchJobsOverview(url, this.timeoutMs);
      return { reachable: true, jobs, current: currentJob(jobs, recordedJobId) };
    } catch (e) {
      return { reachable: false, jobs: [], error: errorMessage(e) };
    }
  }
}
