// Flink's REST API for a job's checkpoints: their counts, latest ones and history, what a run restored from, the interval.
import { jobPath, restJson } from './flinkRestCall';
import type { FlinkCheckpoint, FlinkCheckpointStats } from './flinkRestTypes';

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

/** GET /jobs/:id/checkpoints/config: the checkpoint interval (ms) and mode. */
export async function fetchCheckpointConfig(
  restUrl: string,
  jobId: string,
  timeoutMs = 3000,
): Promise<{ intervalMs?: number; mode?: string }> {
  const body = await restJson<{ interval?: number; mode?: string }>(restUrl, jobPath(jobId, '/checkpoints/config'), timeoutMs);
  return { intervalMs: body.interval, mode: body.mode };
}
