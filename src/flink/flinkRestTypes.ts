// Flink's REST answers as this extension reads them, and one refresh's worth of them (a FlinkSnapshot): types only.

export interface FlinkJobSummary {
  jid: string;
  name: string;
  state: string;
  startTime: number;
  duration: number;
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

export interface FlinkClusterOverview {
  taskManagers: number;
  slotsTotal: number;
  slotsAvailable: number;
  jobsRunning: number;
  flinkVersion?: string;
}

export interface TaskManagerInfo {
  id: string;
  slotsTotal: number;
  slotsFree: number;
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

export interface AggregatedMetric {
  min?: number;
  max?: number;
  sum?: number;
  avg?: number;
}

/** What a job's source reports about its position (Flink's standard source metrics, FLIP-33), over its subtasks. */
export interface SourceProgress {
  vertexId: string;
  /** Now − the timestamp of the records the source emits (Kafka's record time): how far behind it reads. Max over subtasks. */
  emitEventTimeLagMs?: number;
  /** Records between the source's read position and the end of its partitions (summed over subtasks). */
  pendingRecords?: number;
  /** The watermark the source sends downstream (min over subtasks). */
  outputWatermark?: number;
  /** How long the source has had no new record (min over subtasks): the watermark stands still meanwhile. */
  idleMs?: number;
}

export interface FlinkJobSnapshot {
  detail: FlinkJobDetail;
  checkpoints?: FlinkCheckpointStats;
  checkpointIntervalMs?: number;
  restarts?: number;
  /** Newest first; read only when the job has restarted or is not running. */
  exceptions?: FlinkException[];
  /** The input watermark (min over subtasks) of each vertex that holds a window operator, by vertex id. */
  watermarks: Record<string, number | undefined>;
  sources: SourceProgress[];
  /** Per source vertex (by id): the Kafka partitions each of its subtasks reads, subtask by subtask. */
  sourcePartitions?: Record<string, { topic: string; partition: number }[][]>;
  /** Calls of this job that failed (the rest of the snapshot still stands). */
  errors: string[];
}

export interface FlinkSnapshot {
  restUrl: string;
  /** Local clock (Date.now()) when the answers were in. */
  fetchedAt: number;
  reachable: boolean;
  /** Why it is not reachable. */
  error?: string;
  cluster?: FlinkClusterOverview;
  jobs: FlinkJobSummary[];
  /** The job shown in detail: the running (or starting) one, else the newest. */
  job?: FlinkJobSnapshot;
  /** REST calls made and how long the whole refresh took. */
  requests: number;
  elapsedMs: number;
}
