// Where the project keeps things on disk: the download cache, each workspace's `.pipeline/` state, the project's own folder.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** Where downloaded engines live: outside the repository, shared by every workspace, overridable. */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PIPELINE_CACHE_DIR) return resolve(env.PIPELINE_CACHE_DIR);
  const xdg = env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(xdg, 'kafka-flink-lab');
}

/** Per-workspace run state (broker data, logs, pids, Flink checkpoints): `<workspace>/.pipeline`. */
export function stateRoot(workspace: string, env: NodeJS.ProcessEnv = process.env): string {
  if (env.PIPELINE_STATE_DIR) return resolve(env.PIPELINE_STATE_DIR);
  return join(resolve(workspace), '.pipeline');
}

/** The folder holding `flink-jobs/`: the extension's install folder or the repository root. */
export function projectRoot(): string {
  // dist/cli.js and dist/extension.js sit one level below the root; tests run from out/test/**.
  let dir = __dirname;
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'flink-jobs'))) return dir;
    dir = resolve(dir, '..');
  }
  return resolve(__dirname, '..');
}
