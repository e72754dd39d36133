// One install step of a kind at a time, across processes too: Maven runs share ~/.m2 and do not lock it themselves.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { identityOf, isSameProcess, type ProcessIdentity } from './proc';
import { UserError } from '../shared/errors';

/** Within this process, runs of one lock name queue up here; the lock folder then only sees other processes. */
const queues = new Map<string, Promise<unknown>>();

export interface LockOptions {
  /** What waits, for the one line said while another process holds the lock ("Maven"). */
  what: string;
  progress: (message: string) => void;
  timeoutMs: number;
  signal?: AbortSignal;
  pollMs?: number;
}

function ownerOf(lockDir: string): ProcessIdentity | undefined {
  try {
    return JSON.parse(readFileSync(join(lockDir, 'owner.json'), 'utf8')) as ProcessIdentity;
  } catch {
    return undefined;
  }
}

/**
 * A lock folder `<dir>/<name>.lock` made with mkdir (atomic), naming its owner by pid and start time. A folder
 * whose owner has gone (killed half-way) is taken over; a live owner is waited for, up to `timeoutMs`.
 */
async function acquire(dir: string, name: string, options: LockOptions): Promise<() => void> {
  const lockDir = join(dir, `${name}.lock`);
  const self = identityOf(process.pid) ?? { pid: process.pid, startTime: 0 };
  const deadline = Date.now() + options.timeoutMs;
  let said = false;
  mkdirSync(dir, { recursive: true });
  for (;;) {
    try {
      mkdirSync(lockDir);
      writeFileSync(join(lockDir, 'owner.json'), JSON.stringify(self));
      return () => rmSync(lockDir, { recursive: true, force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = ownerOf(lockDir);
    // No owner file yet: another process is between its mkdir and its write; wait a poll, then look again.
    if (owner && !isSameProcess(owner)) {
      rmSync(lockDir, { recursive: true, force: true });
      continue;
    }
    if (options.signal?.aborted) throw new UserError(`Interrupted while waiting for another ${options.what} run.`);
    if (Date.now() > deadline) {
      throw new UserError(
        `Another ${options.what} run (pid ${owner?.pid ?? '?'}) has held ${lockDir} for over ${Math.round(options.timeoutMs / 60_000)} min: stop it, or delete that folder, and run again.`,
      );
    }
    if (!said) {
      said = true;
      options.progress(`Waiting for another ${options.what} run (pid ${owner?.pid ?? '?'}) to finish…`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 500));
  }
}

/** Runs `fn` holding the lock `name` in `dir`: after this process's earlier runs of it, and while no other process holds it. */
export function withInstallLock<T>(dir: string, name: string, options: LockOptions, fn: () => Promise<T>): Promise<T> {
  const key = join(dir, name);
  const run = (queues.get(key) ?? Promise.resolve())
    .catch(() => undefined)
    .then(async () => {
      const release = await acquire(dir, name, options);
      try {
        return await fn();
      } finally {
        release();
      }
    });
  queues.set(key, run);
  return run;
}

/** Whether a live process holds the lock `name` in `dir`. */
export function isLockHeld(dir: string, name: string): boolean {
  const owner = ownerOf(join(dir, `${name}.lock`));
  return owner !== undefined && isSameProcess(owner);
}

/**
 * Takes the lock `name` in `dir` now, or returns undefined when a live process holds it, for work this process
 * hands to a detached child: `handOver(pid)` makes the child its owner, so the lock lasts as long as the child.
 */
export function claimLock(dir: string, name: string): { handOver: (pid: number) => void; release: () => void } | undefined {
  const lockDir = join(dir, `${name}.lock`);
  const owner = ownerOf(lockDir);
  if (owner && !isSameProcess(owner)) rmSync(lockDir, { recursive: true, force: true });
  try {
    mkdirSync(lockDir);
  } catch {
    return undefined;
  }
  const write = (id: ProcessIdentity) => writeFileSync(join(lockDir, 'owner.json'), JSON.stringify(id));
  write(identityOf(process.pid) ?? { pid: process.pid, startTime: 0 });
  return {
    handOver: (pid) => write(identityOf(pid) ?? { pid, startTime: 0 }),
    release: () => rmSync(lockDir, { recursive: true, force: true }),
  };
}
