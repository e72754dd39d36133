// Savepoints and retained checkpoints of the job: taking one over Flink's REST API (stop-with-savepoint), and finding them on disk under `.pipeline/`.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from './errors';
import { stateRoot } from './paths';
import { sleep } from './proc';

export interface SavedState {
  kind: 'checkpoint' | 'savepoint';
  path: string;
  /** When it completed (its _metadata file was written). */
  at: number;
}

/** The savepoints of a topic's job: `.pipeline/savepoints/<topic>/savepoint-…`. */
export function savepointsDir(workspace: string, topic: string): string {
  return join(stateRoot(workspace), 'savepoints', topic);
}

function completed(dir: string): number | undefined {
  try {
    return statSync(join(dir, '_metadata')).mtimeMs;
  } catch {
    return undefined;
  }
}

/** Completed savepoints (folders with a _metadata file), newest first. */
export function listSavepoints(dir: string): SavedState[] {
  if (!existsSync(dir)) return [];
  const found: SavedState[] = [];
  for (const name of readdirSync(dir).filter((n) => n.startsWith('savepoint-'))) {
    const at = completed(join(dir, name));
    if (at !== undefined) found.push({ kind: 'savepoint', path: join(dir, name), at });
  }
  return found.sort((a, b) => b.at - a.at);
}

/** Completed retained checkpoints (`<job id>/chk-N/_metadata`) under a job's state folder, newest first. */
export function listCheckpoints(stateDir: string): SavedState[] {
  if (!existsSync(stateDir)) return [];
  const found: SavedState[] = [];
  for (const job of readdirSync(stateDir)) {
    const jobDir = join(stateDir, job);
    if (!/^[0-9a-f]{32}$/.test(job) || !statSync(jobDir).isDirectory()) continue;
    for (const chk of readdirSync(jobDir).filter((n) => /^chk-\d+$/.test(n))) {
      const at = completed(join(jobDir, chk));
      if (at !== undefined) found.push({ kind: 'checkpoint', path: join(jobDir, chk), at });
    }
  }
  return found.sort((a, b) => b.at - a.at);
}

/** `latest` → the newest savepoint of the topic; a path → that folder, if it is a completed savepoint. */
export function resolveSavepoint(workspace: string, topic: string, value: string): string {
  if (value === 'latest') {
    const newest = listSavepoints(savepointsDir(workspace, topic))[0];
    if (!newest) throw new UserError(`There is no savepoint of ${topic} in ${savepointsDir(workspace, topic)}: take one with \`pipeline job stop --savepoint\`.`);
    return newest.path;
  }
  if (completed(value) === undefined) throw new UserError(`${value} is not a completed savepoint (it has no _metadata file).`);
  return value;
}

interface TriggerStatus {
  status?: { id: string };
  operation?: { location?: string; 'failure-cause'?: { 'stack-trace'?: string; class?: string } };
}

/**
 * Stops a job with a savepoint (POST /jobs/:id/stop): the sources stop, a savepoint is written to `targetDir` (or
 * the cluster's `state.savepoints.dir` when undefined), the job FINISHes. Resolves with the savepoint's location.
 */
export async function stopWithSavepoint(restUrl: string, jobId: string, targetDir: string | undefined, timeoutMs = 120_000): Promise<string> {
  const base = restUrl.replace(/\/$/, '');
  const body = JSON.stringify({ drain: false, ...(targetDir ? { targetDirectory: `file://${targetDir}` } : {}) });
  let response: Response;
  try {
    response = await fetch(`${base}/jobs/${jobId}/stop`, { method: 'POST', body, headers: { 'Content-Type': 'application/json' }, signal: AbortSignal.timeout(10_000) });
  } catch {
    throw new UserError(`Flink's REST API at ${restUrl} does not answer: the savepoint could not be triggered.`);
  }
  if (!response.ok) throw new UserError(`Flink refused the stop with savepoint (${response.status}): ${(await response.text()).slice(0, 300)}`);
  const trigger = ((await response.json()) as { 'request-id': string })['request-id'];
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    await sleep(500);
    const status = (await fetch(`${base}/jobs/${jobId}/savepoints/${trigger}`, { signal: AbortSignal.timeout(5000) })
      .then((r) => r.json())
      .catch(() => ({}))) as TriggerStatus;
    if (status.status?.id !== 'COMPLETED') continue;
    if (status.operation?.location) return status.operation.location.replace(/^file:/, '');
    const cause = status.operation?.['failure-cause'];
    throw new UserError(`The savepoint failed: ${(cause?.['stack-trace'] ?? cause?.class ?? 'unknown cause').split('\n')[0]}`);
  }
  throw new UserError(`The savepoint did not complete within ${timeoutMs / 1000} s.`);
}
