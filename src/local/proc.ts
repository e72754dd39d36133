// Process control: run with a timeout, spawn detached, identity by pid and start time, process groups, stop with a grace period.
import { spawn, type SpawnOptions } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** Stopped because `signal` was aborted. */
  interrupted?: boolean;
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs: number;
  /** Called with each chunk of output, for progress. */
  onOutput?: (chunk: string) => void;
  /** Kills the process group when aborted (Ctrl-C in the CLI); the result then has `interrupted`. */
  signal?: AbortSignal;
}

/**
 * Runs a command to completion with a hard timeout (the process group is killed when it passes).
 * All child processes of the project go through here or `spawnDetached`, so tests can see every one.
 */
export function runCommand(command: string, args: string[], options: RunOptions): Promise<RunResult> {
  return new Promise((resolvePromise) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const cap = (text: string) => (text.length > 200_000 ? text.slice(-200_000) : text);
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout = cap(stdout + chunk.toString());
      options.onOutput?.(chunk.toString());
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = cap(stderr + chunk.toString());
      options.onOutput?.(chunk.toString());
    });
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid, 'SIGKILL');
    }, options.timeoutMs);
    let interrupted = false;
    const onAbort = () => {
      interrupted = true;
      killGroup(child.pid, 'SIGKILL');
    };
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener('abort', onAbort, { once: true });
    const settle = (result: RunResult) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      resolvePromise(interrupted ? { ...result, interrupted } : result);
    };
    child.on('error', (error) => settle({ code: 127, signal: null, stdout, stderr: stderr + String(error), timedOut }));
    child.on('close', (code, signal) => settle({ code, signal, stdout, stderr, timedOut }));
  });
}

/** Starts a long-lived process in its own process group, detached from ours, output to a file descriptor. */
export function spawnDetached(command: string, args: string[], options: SpawnOptions): number {
  const child = spawn(command, args, { ...options, detached: true });
  child.unref();
  if (child.pid === undefined) throw new Error(`could not start ${command}`);
  return child.pid;
}

export function isAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie (exited, not yet reaped) is not alive for our purposes; without /proc, kill(0) has the last word.
  return statFields(pid)?.[0] !== 'Z';
}

export function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (!pid) return;
  try {
    process.kill(-pid, signal);
  } catch {
    killProcess(pid, signal);
  }
}

/**
 * A process by pid and start time (clock ticks since boot, field 22 of /proc/<pid>/stat): a pid alone may name
 * another program once ours has exited and the number is handed out again; the pair never does.
 */
export interface ProcessIdentity {
  pid: number;
  startTime: number;
}

/** The fields of /proc/<pid>/stat after the command name (state is [0], pgrp [2], starttime [19]). */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

export function processStartTime(pid: number): number | undefined {
  const fields = statFields(pid);
  return fields ? Number(fields[19]) : undefined;
}

export function identityOf(pid: number): ProcessIdentity | undefined {
  const startTime = processStartTime(pid);
  return startTime === undefined ? undefined : { pid, startTime };
}

/** Whether the process `id` names is still that process, alive (not a zombie). */
export function isSameProcess(id: ProcessIdentity): boolean {
  const fields = statFields(id.pid);
  return fields !== undefined && fields[0] !== 'Z' && Number(fields[19]) === id.startTime;
}

/** The environment a process was started with (/proc/<pid>/environ, readable for our own processes only). */
export function environmentOf(pid: number): Record<string, string> | undefined {
  try {
    const entries = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean);
    return Object.fromEntries(entries.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
  } catch {
    return undefined;
  }
}

/**
 * A signal to the process group `id` leads (to `id` alone when it leads none), only while `id` is still that
 * process: a bare pid may by now belong to another program. Returns whether it was sent.
 */
export function signalGroupOf(id: ProcessIdentity, signal: NodeJS.Signals): boolean {
  if (!isSameProcess(id)) return false;
  killGroup(id.pid, signal);
  return true;
}

/** stopProcess for a process known by identity: SIGTERM to its group, SIGKILL after `graceMs`, each only while it is itself. */
export async function stopIdentified(id: ProcessIdentity, graceMs: number): Promise<boolean> {
  if (!signalGroupOf(id, 'SIGTERM')) return false;
  const gone = await pollUntil(async () => (isSameProcess(id) ? undefined : true), graceMs, 200);
  if (gone) return false;
  signalGroupOf(id, 'SIGKILL');
  await pollUntil(async () => (isSameProcess(id) ? undefined : true), 5000, 100);
  return true;
}

export function processGroupOf(pid: number): number | undefined {
  const fields = statFields(pid);
  return fields ? Number(fields[2]) : undefined;
}

/** A signal to one process (not its group); quiet when it is gone. */
export function killProcess(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    /* already gone */
  }
}

export function commandLineOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    return undefined;
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `check` until it returns a value or `timeoutMs` passes; `undefined` on timeout. */
export async function pollUntil<T>(check: () => Promise<T | undefined>, timeoutMs: number, intervalMs = 250): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() >= deadline) return undefined;
    await sleep(intervalMs);
  }
}

/** Sends SIGTERM to the group, waits up to `graceMs`, then SIGKILL. Resolves true if it had to kill. */
export async function stopProcess(pid: number, graceMs: number): Promise<boolean> {
  if (!isAlive(pid)) return false;
  killGroup(pid, 'SIGTERM');
  const gone = await pollUntil(async () => (isAlive(pid) ? undefined : true), graceMs, 200);
  if (gone) return false;
  killGroup(pid, 'SIGKILL');
  await pollUntil(async () => (isAlive(pid) ? undefined : true), 5000, 100);
  return true;
}

/** The live (not zombie) processes of a process group, from /proc; empty where there is no /proc. */
export function groupMembers(pgid: number): number[] {
  let pids: string[] = [];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return [];
  }
  const members: number[] = [];
  for (const pid of pids) {
    const fields = statFields(Number(pid)); // undefined: exited meanwhile
    if (fields && Number(fields[2]) === pgid && fields[0] !== 'Z') members.push(Number(pid));
  }
  return members;
}

/** Resident memory (bytes) of every process in a process group, e.g. a PyFlink job's python and its JVM. */
export function processGroupRss(pgid: number): number {
  let total = 0;
  for (const pid of groupMembers(pgid)) {
    try {
      const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (rss) total += Number(rss[1]) * 1024;
    } catch {
      /* exited meanwhile */
    }
  }
  return total;
}

/** Samples `measure` every `intervalMs` until stopped; returns the peak. */
export function samplePeak(measure: () => number, intervalMs = 500): { stop: () => number } {
  let peak = measure();
  const timer = setInterval(() => (peak = Math.max(peak, measure())), intervalMs);
  return {
    stop: () => {
      clearInterval(timer);
      return Math.max(peak, measure());
    },
  };
}
