// Flink's REST API, read only (a session cluster's JobManager or the job's MiniCluster), every call bounded in time.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage, UserError } from '../shared/errors';
import { currentJob, normalizeRestUrl } from './flinkJobs';

export interface FlinkJobSummary {
  jid: string;
  name: string;
  state: string;
  startTime: number;
  duration: number;
}

export const DEFAULT_FLINK_REST = 'http://127.0.0.1:8081';

/** The path of a REST resource of one job, its id URL-encoded (ids come from the REST API, never from the user). */
const jobPath = (jobId: string, rest = '') => `/jobs/${encodeURIComponent(jobId)}${rest}`;

/**
 * One REST call with a hard timeout. A JobManager that does not answer, or answers with an error status, becomes
 * one UserError naming the address (Flink's own error text, when it sent one, goes into the message's end).
 */
async function restJson<T>(
  restUrl: string,
  path: string,
  timeoutMs: number,
  init?: { method: 'POST' | 'PATCH'; body?: unknown },
): Promise<T> {
  const base = restUrl.replace(/\/$/, '');
  let response: Response;
  try {
    response = await fetch(`${base}${path}`, {
      method: init?.method ?? 'GET',
      headers: init?.body !== undefined ? { 'content-type': 'application/json' } : undefined,
      body: init?.body !== undefined ? JSON.stringify(init.body) : undefined,
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    throw new UserError(
      `Flink's REST API at ${restUrl} does not answer (${(error as Error).name === 'TimeoutError' ? 'timeout' : 'not reachable'}).`,
    );
  }
  const text = await response.text();
  if (!response.ok) {
    let detail = '';
    try {
      const errors = (JSON.parse(text) as { errors?: unknown[] }).errors;
      if (Array.isArray(errors)) detail = errors.map(String).join(' ').split('\n')[0].slice(0, 300);
    } catch {
      /* not JSON */
    }
    throw new UserError(
      `Flink's REST API at ${restUrl} answered ${response.status} for ${path.split('?')[0]}${detail ? `: ${detail}` : ''}.`,
      text.slice(0, 4000),
    );
  }
  return (text ? JSON.parse(text) : {}) as T;
}

/** GET /jobs/overview with a hard timeout; throws a UserError when Flink's REST API does not answer. */
export async function fetchJobsOverview(restUrl: string, timeoutMs = 3000): Promise<FlinkJobSummary[]> {
  const body = await restJson<{ jobs?: Array<{ jid: string; name: string; state: string; 'start-time': number; duration: number }> }>(
    restUrl,
    '/jobs/overview',
    timeoutMs,
  );
  return (body.jobs ?? []).map((j) => ({ jid: j.jid, name: j.name, state: j.state, startTime: j['start-time'], duration: j.duration }));
}

export interface FlinkVertex {
  id: string;
  /** The operator chain as Flink names it, e.g. `Source: kafka_src[1] -> (Calc[2] -> LocalWindowAggregate[3], …)`. */
  name: string;
  status: string;
  parallelism: number;
  readRecords: number;
  writeRecords: number;
  /** Milliseconds the vertex's subtasks were busy, back-pressured or idle since they started (summed over subtasks). */
  busyMs?: number;
  backPressuredMs?: number;
  idleMs?: number;
}

export interface FlinkJobDetail {
  jid: string;
  name: string;
  state: string;
  vertices: FlinkVertex[];
  startTime?: number;
  /** Milliseconds since the start (or until the end). */
  duration?: number;
  /** The JobManager's clock when it answered. */
  now?: number;
  /** When the job last entered each state (0: never), e.g. RESTARTING. */
  timestamps?: Record<string, number>;
  /** The plan node of each vertex: the operators it chains, with their SQL (`description`). */
  plan?: { id: string; description: string; inputs: { id: string; shipStrategy?: string }[] }[];
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

export interface FlinkClusterOverview {
  taskManagers: number;
  slotsTotal: number;
  slotsAvailable: number;
  jobsRunning: number;
  flinkVersion?: string;
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

export interface TaskManagerInfo {
  id: string;
  slotsTotal: number;
  slotsFree: number;
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

export interface FlinkCheckpoint {
  id: number;
  status: 'COMPLETED' | 'FAILED' | 'IN_PROGRESS' | string;
  isSavepoint: boolean;
  triggerTimestamp: number;
  /** When the last task acknowledged it: the checkpoint completes right after, and only then are files committed. */
  latestAckTimestamp?: number;
  endToEndDurationMs?: number;
  /** Bytes written for it (incremental), and the full state size. */
  checkpointedSize?: number;
  stateSize?: number;
  externalPath?: string;
  failureTimestamp?: number;
  failureMessage?: string;
}

export interface FlinkCheckpointStats {
  completed: number;
  failed: number;
  inProgress: number;
  restored: number;
  latestCompleted?: FlinkCheckpoint;
  latestFailed?: FlinkCheckpoint;
  /** The last restore: which checkpoint the job started from after a restart. */
  latestRestored?: { id: number; restoreTimestamp?: number; externalPath?: string; isSavepoint?: boolean };
  /** Newest first (Flink keeps the last ten by default). */
  history: FlinkCheckpoint[];
}

interface RawCheckpoint {
  id: number;
  status: string;
  is_savepoint?: boolean;
  trigger_timestamp?: number;
  latest_ack_timestamp?: number;
  end_to_end_duration?: number;
  checkpointed_size?: number;
  state_size?: number;
  external_path?: string;
  failure_timestamp?: number;
  failure_message?: string;
}

const checkpointOf = (c: RawCheckpoint): FlinkCheckpoint => ({
  id: c.id,
  status: c.status,
  isSavepoint: c.is_savepoint === true,
  triggerTimestamp: c.trigger_timestamp ?? 0,
  latestAckTimestamp: c.latest_ack_timestamp && c.latest_ack_timestamp > 0 ? c.latest_ack_timestamp : undefined,
  endToEndDurationMs: c.end_to_end_duration,
  checkpointedSize: c.checkpointed_size,
  stateSize: c.state_size,
  externalPath: c.external_path,
  failureTimestamp: c.failure_timestamp,
  failureMessage: c.failure_message ?? undefined,
});

/**
 * Whether a run restored from a savepoint. Flink's `is_savepoint` is true for any restore from a path given at
 * submission (`execution.state-recovery.path`), which is how every start of this job restores, also from a retained
 * checkpoint; the folder's name tells them apart (`chk-N` is a checkpoint, `savepoint-…` a savepoint).
 */
export function restoredFromSavepoint(externalPath: string | undefined, isSavepoint: boolean | undefined): boolean {
  const folder = externalPath?.replace(/\/+$/, '').split('/').pop() ?? '';
  if (/^chk-\d+$/.test(folder)) return false;
  if (folder.startsWith('savepoint-')) return true;
  return isSavepoint ?? false;
}

/** GET /jobs/:id/checkpoints: counts, the latest completed/failed/restored checkpoint, the recent history. */
export async function fetchCheckpointStats(restUrl: string, jobId: string, timeoutMs = 3000): Promise<FlinkCheckpointStats> {
  const body = await restJson<{
    counts?: { completed?: number; failed?: number; in_progress?: number; restored?: number };
    latest?: {
      completed?: RawCheckpoint | null;
      failed?: RawCheckpoint | null;
      restored?: { id: number; restore_timestamp?: number; external_path?: string; is_savepoint?: boolean } | null;
    };
    history?: RawCheckpoint[];
  }>(restUrl, jobPath(jobId, '/checkpoints'), timeoutMs);
  const restored = body.latest?.restored;
  return {
    completed: body.counts?.completed ?? 0,
    failed: body.counts?.failed ?? 0,
    inProgress: body.counts?.in_progress ?? 0,
    restored: body.counts?.restored ?? 0,
    latestCompleted: body.latest?.completed ? checkpointOf(body.latest.completed) : undefined,
    latestFailed: body.latest?.failed ? checkpointOf(body.latest.failed) : undefined,
    latestRestored: restored
      ? {
          id: restored.id,
          restoreTimestamp: restored.restore_timestamp,
          externalPath: restored.external_path,
          isSavepoint: restoredFromSavepoint(restored.external_path, restored.is_savepoint),
        }
      : undefined,
    history: (body.history ?? []).map(checkpointOf).sort((a, b) => b.id - a.id),
  };
}

export interface FlinkException {
  exceptionName: string;
  stacktrace: string;
  timestamp: number;
  /** The task (vertex name with subtask) where it happened, when Flink knows it. */
  taskName?: string;
  location?: string;
  /** Other failures of the same restart. */
  concurrent: number;
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

/** GET /jobs/:id/metrics?get=…: job-level metrics (numRestarts, uptime, …) as numbers; missing ones are left out. */
export async function fetchJobMetrics(restUrl: string, jobId: string, names: string[], timeoutMs = 3000): Promise<Map<string, number>> {
  const body = await restJson<{ id: string; value: string }[]>(
    restUrl,
    jobPath(jobId, `/metrics?get=${names.map(encodeMetricName).join(',')}`),
    timeoutMs,
  );
  return new Map(body.filter((m) => m.value !== undefined && Number.isFinite(Number(m.value))).map((m) => [m.id, Number(m.value)]));
}

export interface AggregatedMetric {
  min?: number;
  max?: number;
  sum?: number;
  avg?: number;
}

/**
 * GET /jobs/:id/vertices/:vid/subtasks/metrics?get=…&agg=min,max,sum: metrics of one vertex aggregated over its
 * subtasks, one request for every metric asked for.
 */
export async function fetchVertexMetrics(
  restUrl: string,
  jobId: string,
  vertexId: string,
  names: string[],
  timeoutMs = 3000,
): Promise<Map<string, AggregatedMetric>> {
  const body = await restJson<{ id: string; min?: number; max?: number; sum?: number; avg?: number }[]>(
    restUrl,
    jobPath(
      jobId,
      `/vertices/${encodeURIComponent(vertexId)}/subtasks/metrics?get=${names.map(encodeMetricName).join(',')}&agg=min,max,sum,avg`,
    ),
    timeoutMs,
  );
  return new Map(body.map((m) => [m.id, { min: m.min, max: m.max, sum: m.sum, avg: m.avg }]));
}

/**
 * Metric names go into the query as Flink lists them: it does not decode percent-escapes there, so `[` and `]`
 * (operator ids like `Source__kafka_src[1]`) stay as they are (the URL parser keeps them too); only what would end
 * or split the query is escaped.
 */
function encodeMetricName(name: string): string {
  return name.replace(/[&#,%\s]/g, (c) => encodeURIComponent(c));
}

/** Starts stop-with-savepoint or polls it; see stopWithSavepoint. */
interface SavepointStatus {
  status?: { id?: string };
  operation?: { location?: string; 'failure-cause'?: { class?: string; 'stack-trace'?: string; 'serialized-throwable'?: string } };
}

/**
 * Stops a job with a savepoint (POST /jobs/:id/stop, then GET /jobs/:id/savepoints/:triggerId until it is done):
 * the sources stop, a savepoint is written to `targetDir` (a folder path on the JobManager's machine; undefined: the
 * cluster's own `state.savepoints.dir`), the sinks commit, and the job ends FINISHED. Resolves to the savepoint's
 * path (`file:/…/savepoint-…`).
 *
 * The embedded MiniCluster shuts down, REST API and all, as soon as its job has finished — often before the status
 * can be asked. Then the savepoint is the one Flink wrote into `targetDir` for this job (`savepoint-<first 6 hex of
 * the job id>-…` with its `_metadata`, written last) since the stop was asked for.
 */
export async function stopWithSavepoint(
  restUrl: string,
  jobId: string,
  targetDir: string | undefined,
  options: { timeoutMs?: number; drain?: boolean; pollMs?: number } = {},
): Promise<string> {
  const timeoutMs = options.timeoutMs ?? 120_000;
  const started = Date.now();
  const trigger = await restJson<{ 'request-id'?: string }>(restUrl, jobPath(jobId, '/stop'), 10_000, {
    method: 'POST',
    body: { ...(targetDir ? { targetDirectory: targetDir } : {}), drain: options.drain ?? false },
  });
  const requestId = trigger['request-id'];
  if (!requestId) throw new UserError(`Flink's REST API at ${restUrl} did not start the savepoint of job ${jobId}.`);
  for (;;) {
    let state: SavepointStatus;
    try {
      state = await restJson<SavepointStatus>(restUrl, jobPath(jobId, `/savepoints/${encodeURIComponent(requestId)}`), 10_000);
    } catch (error) {
      const written = targetDir ? savepointWrittenSince(targetDir, jobId, started) : undefined;
      if (written) return written;
      throw error;
    }
    if (state.status?.id === 'COMPLETED') {
      const cause = state.operation?.['failure-cause'];
      if (cause || !state.operation?.location) {
        const first = (cause?.['stack-trace'] ?? '').split('\n')[0] || cause?.class || 'no savepoint location';
        throw new UserError(`The savepoint of job ${jobId} failed: ${first.slice(0, 300)}`, cause?.['stack-trace']);
      }
      return state.operation.location;
    }
    if (Date.now() - started > timeoutMs)
      throw new UserError(`The savepoint of job ${jobId} did not complete within ${Math.round(timeoutMs / 1000)} s.`);
    await new Promise((r) => setTimeout(r, options.pollMs ?? 250));
  }
}

/** The newest complete savepoint of `jobId` in `dir` written since `sinceMs`, as a `file:` URI, if any. */
function savepointWrittenSince(dir: string, jobId: string, sinceMs: number): string | undefined {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return undefined;
  }
  const found = names
    .filter((n) => n.startsWith(`savepoint-${jobId.slice(0, 6)}-`))
    .map((n) => {
      try {
        return { path: join(dir, n), at: statSync(join(dir, n, '_metadata')).mtimeMs };
      } catch {
        return undefined;
      }
    })
    .filter((f): f is { path: string; at: number } => f !== undefined && f.at >= sinceMs - 1000)
    .sort((a, b) => b.at - a.at);
  return found[0] ? `file:${found[0].path}` : undefined;
}

/** Cancels a job (PATCH /jobs/:id?mode=cancel): it ends CANCELED; with retained checkpoints the next start restores. */
export async function cancelJob(restUrl: string, jobId: string, timeoutMs = 10_000): Promise<void> {
  await restJson(restUrl, jobPath(jobId, '?mode=cancel'), timeoutMs, { method: 'PATCH' });
}

/** GET /jobs/:id/checkpoints/config: the checkpoint interval (ms) and mode. */
export async function fetchCheckpointConfig(
  restUrl: string,
  jobId: string,
  timeoutMs = 3000,
): Promise<{ intervalMs?: number; mode?: string }> {
  const body = await restJson<{ interval?: number; mode?: string }>(restUrl, jobPath(jobId, '/checkpoints/config'), timeoutMs);
  return { intervalMs: body.interval, mode: body.mode };
}

/** Records the job's sources have read from outside (Kafka): the read-records of the vertices that start with a source. */
export function sourceRecords(job: FlinkJobDetail): number {
  return job.vertices.filter((v) => v.name.startsWith('Source')).reduce((sum, v) => sum + v.readRecords, 0);
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

/** GET /jobs/:id/vertices/:vid/watermarks: the input watermark of each subtask (epoch ms; undefined before the first). */
export async function fetchVertexWatermarks(
  restUrl: string,
  jobId: string,
  vertexId: string,
  timeoutMs = 3000,
): Promise<(number | undefined)[]> {
  const body = await restJson<{ id: string; value: string }[]>(
    restUrl,
    jobPath(jobId, `/vertices/${encodeURIComponent(vertexId)}/watermarks`),
    timeoutMs,
  );
  return body.filter((m) => m.id.endsWith('.currentInputWatermark')).map((m) => watermarkValue(Number(m.value)));
}

/** Flink reports "no watermark yet" as Long.MIN_VALUE (and JSON numbers lose its last digits). */
export function watermarkValue(value: number | undefined): number | undefined {
  return value === undefined || !Number.isFinite(value) || value <= -9.2e18 || value >= 9.2e18 ? undefined : value;
}

/** GET /jobs/:id/vertices/:vid/subtasks/metrics: the names of the metrics its subtasks report (no values). */
export async function listVertexMetrics(restUrl: string, jobId: string, vertexId: string, timeoutMs = 3000): Promise<string[]> {
  const body = await restJson<{ id: string }[]>(
    restUrl,
    jobPath(jobId, `/vertices/${encodeURIComponent(vertexId)}/subtasks/metrics`),
    timeoutMs,
  );
  return body.map((m) => m.id);
}
