// The two writes to Flink's REST API: stop a job with a savepoint, and cancel it.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../shared/errors';
import { jobPath, restJson } from './flinkRestCall';

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
