// One refresh of the Flink view: the few REST calls it needs, in three rounds of parallel requests.
import { errorMessage } from '../shared/errors';
import { hasWindowOperator, isSourceVertex } from './flinkChains';
import { currentJob, normalizeRestUrl } from './flinkJobs';
import { fetchClusterOverview, fetchExceptionHistory, fetchJobDetail, fetchJobsOverview } from './flinkRest';
import { fetchCheckpointConfig, fetchCheckpointStats } from './flinkRestCheckpoints';
import {
  fetchJobMetrics,
  fetchVertexMetrics,
  fetchVertexWatermarks,
  listSubtaskMetrics,
  listVertexMetrics,
  partitionsOfSubtask,
  watermarkValue,
} from './flinkRestMetrics';
import type {
  FlinkClusterOverview,
  FlinkException,
  FlinkJobDetail,
  FlinkJobSnapshot,
  FlinkJobSummary,
  FlinkSnapshot,
  SourceProgress,
} from './flinkRestTypes';

/** What the status bar needs of a job between views: restarts, the newest exception, where its source reads. */
export interface FlinkJobHealth {
  restarts?: number;
  newestException?: FlinkException;
  source?: SourceProgress;
  checkpointIntervalMs?: number;
}

/** The metric names of a source operator: Flink prefixes them with the operator's name as its metric group spells it. */
interface SourceMetricNames {
  emitLag?: string;
  pending?: string;
  outputWatermark?: string;
  idle?: string;
  /** When the names were listed (Date.now()). */
  listedAt?: number;
}

const SOURCE_METRICS: Record<Exclude<keyof SourceMetricNames, 'listedAt'>, string> = {
  emitLag: '.currentEmitEventTimeLag',
  pending: '.pendingRecords',
  outputWatermark: '.currentOutputWatermark',
  idle: '.sourceIdleTime',
};

/** What a reader keeps of one job: it does not change while the job runs, or only with its state and restarts. */
interface JobCache {
  sourceMetrics: Map<string, SourceMetricNames>;
  checkpointIntervalMs?: number;
  sourceVertices?: { id: string; name: string }[];
  exceptions?: { key: string; entries: FlinkException[] };
  /** Which partitions each source subtask reads, by vertex id, and when that was read (it changes only with the job's partitions). */
  sourcePartitions?: { at: number; byVertex: Record<string, { topic: string; partition: number }[][]> };
}

/** How often the source subtasks' partitions are read again (a topic may get more partitions while the job runs). */
const SOURCE_PARTITIONS_MS = 15_000;

/**
 * Reads snapshots of one Flink REST address. What does not change while a job runs (the metric names of its
 * sources, its checkpoint interval) is read once per job id and kept.
 */
export class FlinkSnapshotReader {
  /** Per job id (the view and the status bar may follow different jobs of one address): a few at most. */
  private readonly jobs = new Map<string, JobCache>();

  constructor(
    readonly restUrl: string,
    private readonly timeoutMs = 2500,
  ) {}

  private jobCache(jid: string): JobCache {
    let cache = this.jobs.get(jid);
    if (!cache) {
      if (this.jobs.size >= 4) this.jobs.clear();
      this.jobs.set(jid, (cache = { sourceMetrics: new Map() }));
    }
    return cache;
  }

  /**
   * The few numbers of one job the status bar shows, for the pipeline monitor (which has read /jobs/overview
   * already): numRestarts and the source's position, 2 requests; its vertices, metric names and checkpoint interval
   * once per job; its exceptions once per state and restart count when it is not running or has restarted.
   */
  async readHealth(jid: string, state: string): Promise<FlinkJobHealth> {
    const { url } = normalizeRestUrl(this.restUrl);
    if (!url) return {};
    const cache = this.jobCache(jid);
    const soft = <T>(p: Promise<T>): Promise<T | undefined> => p.catch(() => undefined);
    if (!cache.sourceVertices) {
      const detail = await soft(fetchJobDetail(url, jid, this.timeoutMs));
      if (detail) cache.sourceVertices = detail.vertices.filter((v) => isSourceVertex(v.name)).map((v) => ({ id: v.id, name: v.name }));
    }
    const running = state === 'RUNNING';
    const [metrics, source, config] = await Promise.all([
      soft(fetchJobMetrics(url, jid, ['numRestarts'], this.timeoutMs)),
      running && cache.sourceVertices?.length ? this.readSource(url, jid, cache.sourceVertices[0], soft) : Promise.resolve(undefined),
      cache.checkpointIntervalMs === undefined ? soft(fetchCheckpointConfig(url, jid, this.timeoutMs)) : Promise.resolve(undefined),
    ]);
    if (config?.intervalMs !== undefined) cache.checkpointIntervalMs = config.intervalMs;
    const restarts = metrics?.get('numRestarts');
    const exceptions = await this.exceptions(url, jid, state, restarts, soft);
    return { restarts, newestException: exceptions?.[0], source, checkpointIntervalMs: cache.checkpointIntervalMs };
  }

  /**
   * The job's exception history, newest first: none asked for while it runs without a restart; otherwise read once
   * per state and restart count (a new failure changes one of them), for the view and the status bar alike.
   */
  private async exceptions(
    url: string,
    jid: string,
    state: string,
    restarts: number | undefined,
    soft: <T>(p: Promise<T>) => Promise<T | undefined>,
  ): Promise<FlinkException[] | undefined> {
    const cache = this.jobCache(jid);
    if (state === 'RUNNING' && !(restarts && restarts > 0)) return cache.exceptions?.entries;
    const key = `${state}/${restarts ?? '?'}`;
    if (cache.exceptions?.key !== key) {
      const history = await soft(fetchExceptionHistory(url, jid, this.timeoutMs));
      if (history) cache.exceptions = { key, entries: history.entries };
    }
    return cache.exceptions?.entries;
  }

  /** One snapshot; `recordedJobId` is the pipeline job's id as its process recorded it (see currentJob). */
  async read(recordedJobId?: string): Promise<FlinkSnapshot> {
    const started = Date.now();
    let requests = 0;
    const counted = <T>(p: Promise<T>): Promise<T> => {
      requests++;
      return p;
    };
    const done = (s: Omit<FlinkSnapshot, 'requests' | 'elapsedMs' | 'fetchedAt' | 'restUrl'>): FlinkSnapshot => ({
      ...s,
      restUrl: this.restUrl,
      fetchedAt: Date.now(),
      requests,
      elapsedMs: Date.now() - started,
    });

    const { url, error } = normalizeRestUrl(this.restUrl);
    if (!url) return done({ reachable: false, error, jobs: [] });
    let cluster: FlinkClusterOverview | undefined;
    let jobs: FlinkJobSummary[];
    try {
      [cluster, jobs] = await Promise.all([
        counted(fetchClusterOverview(url, this.timeoutMs)).catch(() => undefined),
        counted(fetchJobsOverview(url, this.timeoutMs)),
      ]);
    } catch (e) {
      return done({ reachable: false, error: errorMessage(e), jobs: [] });
    }
    const current = currentJob(jobs, recordedJobId);
    if (!current) return done({ reachable: true, cluster, jobs });
    return done({ reachable: true, cluster, jobs, job: await this.readJob(url, current.jid, counted) });
  }

  private async readJob(url: string, jid: string, counted: <T>(p: Promise<T>) => Promise<T>): Promise<FlinkJobSnapshot | undefined> {
    const cache = this.jobCache(jid);
    const errors: string[] = [];
    const soft = <T>(p: Promise<T>): Promise<T | undefined> =>
      counted(p).catch((e) => {
        errors.push(errorMessage(e));
        return undefined;
      });
    const [detail, checkpoints, metrics, config] = await Promise.all([
      soft(fetchJobDetail(url, jid, this.timeoutMs)),
      soft(fetchCheckpointStats(url, jid, this.timeoutMs)),
      soft(fetchJobMetrics(url, jid, ['numRestarts'], this.timeoutMs)),
      cache.checkpointIntervalMs === undefined ? soft(fetchCheckpointConfig(url, jid, this.timeoutMs)) : Promise.resolve(undefined),
    ]);
    if (!detail) return undefined;
    if (config?.intervalMs !== undefined) cache.checkpointIntervalMs = config.intervalMs;
    const restarts = metrics?.get('numRestarts');
    const running = detail.state === 'RUNNING';

    const windowVertices = detail.vertices.filter((v) => hasWindowOperator(v.name) && !isSourceVertex(v.name));
    const sourceVertices = detail.vertices.filter((v) => isSourceVertex(v.name));
    const [watermarkAnswers, sources, exceptions] = await Promise.all([
      running ? Promise.all(windowVertices.map((v) => soft(fetchVertexWatermarks(url, jid, v.id, this.timeoutMs)))) : Promise.resolve([]),
      running ? Promise.all(sourceVertices.map((v) => this.readSource(url, jid, v, soft))) : Promise.resolve([]),
      this.exceptions(url, jid, detail.state, restarts, soft),
    ]);
    // Which subtask reads which partition matters once there are several (one subtask reads them all).
    const parallelSources = sourceVertices.filter((v) => v.parallelism > 1);
    const sourcePartitions =
      running && parallelSources.length > 0 ? await this.readSourcePartitions(url, jid, parallelSources, soft) : undefined;
    const watermarks: Record<string, number | undefined> = {};
    windowVertices.forEach((v, i) => {
      const values = watermarkAnswers[i];
      watermarks[v.id] =
        values && values.length > 0 && values.every((w) => w !== undefined) ? Math.min(...(values as number[])) : undefined;
    });
    return {
      detail,
      checkpoints,
      checkpointIntervalMs: cache.checkpointIntervalMs,
      restarts,
      exceptions,
      watermarks,
      sources,
      sourcePartitions,
      errors,
    };
  }

  /**
   * The partitions each subtask of a parallel source reads: one metric listing per subtask, read again every 15 s at most, and
   * sooner while a subtask has none yet (the source assigns them in its first seconds).
   */
  private async readSourcePartitions(
    url: string,
    jid: string,
    vertices: FlinkJobDetail['vertices'],
    soft: <T>(p: Promise<T>) => Promise<T | undefined>,
  ): Promise<Record<string, { topic: string; partition: number }[][]> | undefined> {
    const cache = this.jobCache(jid);
    const known = cache.sourcePartitions;
    const complete = known && vertices.every((v) => (known.byVertex[v.id]?.flat().length ?? 0) > 0);
    if (known && Date.now() - known.at < (complete ? SOURCE_PARTITIONS_MS : 3000)) return known.byVertex;
    const byVertex: Record<string, { topic: string; partition: number }[][]> = {};
    for (const v of vertices) {
      const listed = await Promise.all(
        Array.from({ length: v.parallelism }, (_, i) => soft(listSubtaskMetrics(url, jid, v.id, i, this.timeoutMs))),
      );
      if (listed.some((l) => l === undefined)) return known?.byVertex;
      byVertex[v.id] = listed.map((names) => partitionsOfSubtask(names!));
    }
    cache.sourcePartitions = { at: Date.now(), byVertex };
    return byVertex;
  }

  /**
   * One request for the source's position. Its metrics are named after the operator as Flink's metric groups spell
   * it (`Source: kafka_src[1]` → `Source__kafka_src[1].pendingRecords`); only when that guess finds nothing are the
   * vertex's metric names listed (a long answer: at most every 10 s, until they are found).
   */
  private async readSource(
    url: string,
    jid: string,
    vertex: { id: string; name: string },
    soft: <T>(p: Promise<T>) => Promise<T | undefined>,
  ): Promise<SourceProgress> {
    const cache = this.jobCache(jid);
    const known = cache.sourceMetrics.get(vertex.id);
    let names = known && wantedMetrics(known).length > 0 ? known : guessedSourceMetrics(vertex.name);
    let values = await soft(fetchVertexMetrics(url, jid, vertex.id, wantedMetrics(names), this.timeoutMs));
    if (values && values.size > 0) cache.sourceMetrics.set(vertex.id, names);
    else if (!known?.listedAt || Date.now() - known.listedAt > 10_000) {
      const listed = await soft(listVertexMetrics(url, jid, vertex.id, this.timeoutMs));
      if (!listed) return { vertexId: vertex.id };
      names = { listedAt: Date.now() };
      // A metric that registers late (pendingRecords, once the consumer reports a lag) is not listed yet: its
      // guessed name is asked for until it answers.
      const guessed = guessedSourceMetrics(vertex.name);
      for (const [key, suffix] of Object.entries(SOURCE_METRICS) as [keyof typeof SOURCE_METRICS, string][])
        names[key] = listed.find((n) => n.endsWith(suffix) && n.startsWith('Source')) ?? guessed[key];
      cache.sourceMetrics.set(vertex.id, names);
      if (wantedMetrics(names).length === 0) return { vertexId: vertex.id };
      values = await soft(fetchVertexMetrics(url, jid, vertex.id, wantedMetrics(names), this.timeoutMs));
    }
    const pick = (name: string | undefined) => (name ? values?.get(name) : undefined);
    const pending = pick(names.pending)?.sum;
    return {
      vertexId: vertex.id,
      emitEventTimeLagMs: validLag(pick(names.emitLag)?.max),
      pendingRecords: pending !== undefined && pending >= 0 ? pending : undefined,
      outputWatermark: watermarkValue(pick(names.outputWatermark)?.min),
      idleMs: validLag(pick(names.idle)?.min),
    };
  }
}

/** The source metrics of a chain as Flink's metric groups name its first operator: `: ` and spaces become `_`. */
function guessedSourceMetrics(chain: string): SourceMetricNames {
  const operator = chain.split(' -> ')[0].replace(/^\(+/, '').trim().replace(/[: ]/g, '_');
  const names: SourceMetricNames = {};
  for (const [key, suffix] of Object.entries(SOURCE_METRICS) as [keyof typeof SOURCE_METRICS, string][])
    names[key] = `${operator}${suffix}`;
  return names;
}

const wantedMetrics = (names: SourceMetricNames) =>
  [names.emitLag, names.pending, names.outputWatermark, names.idle].filter((n): n is string => Boolean(n));

/** A source that has emitted nothing yet reports a lag of -1 (or Long.MIN_VALUE): no lag to tell. */
function validLag(ms: number | undefined): number | undefined {
  return ms === undefined || !Number.isFinite(ms) || ms < 0 || ms > 1e13 ? undefined : ms;
}

const readers = new Map<string, FlinkSnapshotReader>();

/**
 * The one reader of a REST address, shared by the Flink view and the pipeline monitor: what they learn once per job
 * (metric names, checkpoint interval, exceptions per restart) is asked for once, not once each.
 */
export function flinkReaderFor(restUrl: string): FlinkSnapshotReader {
  let reader = readers.get(restUrl);
  if (!reader) {
    if (readers.size >= 4) readers.clear(); // a few addresses at most: the settings' and a cluster's
    readers.set(restUrl, (reader = new FlinkSnapshotReader(restUrl)));
  }
  return reader;
}
