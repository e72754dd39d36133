// Savepoints and retained checkpoints of the job on disk under `.pipeline/` (a savepoint is taken over REST: flinkJobControl.ts).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UserError } from '../shared/errors';
import { stateRoot } from '../config/paths';

/**
 * The savepoints of the pipeline job on `topic`: `<workspace>/.pipeline/savepoints/<topic>`. The Flink view's
 * stop-with-savepoint writes there and `pipeline job start` restores from there when a savepoint is the newest.
 */
export function savepointDirOf(workspace: string, topic: string, env: NodeJS.ProcessEnv = process.env): string {
  return join(stateRoot(workspace, env), 'savepoints', topic);
}

export interface SavedState {
  kind: 'checkpoint' | 'savepoint';
  path: string;
  /** When it completed (its _metadata file was written). */
  at: number;
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

/**
 * The savepoint a new start of the job on `topic` continues from: the newest saved state of its checkpoint folder
 * (`.pipeline/flink/checkpoints/<topic>`, as `pipeline job start` keeps it) and its savepoints, when that is a savepoint.
 */
export function resumableSavepoint(workspace: string, topic: string, env: NodeJS.ProcessEnv = process.env): SavedState | undefined {
  const savepoint = listSavepoints(savepointDirOf(workspace, topic, env))[0];
  if (!savepoint) return undefined;
  const checkpoint = listCheckpoints(resolve(stateRoot(workspace, env), 'flink', 'checkpoints', topic))[0];
  return !checkpoint || savepoint.at >= checkpoint.at ? savepoint : undefined;
}

/** `latest` → the newest savepoint of the topic; a path → that folder, if it is a completed savepoint. */
export function resolveSavepoint(workspace: string, topic: string, value: string): string {
  if (value === 'latest') {
    const newest = listSavepoints(savepointDirOf(workspace, topic))[0];
    if (!newest)
      throw new UserError(
        `There is no savepoint of ${topic} in ${savepointDirOf(workspace, topic)}: take one with \`pipeline job stop --savepoint\`.`,
      );
    return newest.path;
  }
  if (completed(value) === undefined) throw new UserError(`${value} is not a completed savepoint (it has no _metadata file).`);
  return value;
}
