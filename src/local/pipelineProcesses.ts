// The generator's and the job's processes: their command lines, start in the background or foreground, pid records, stop and cleanup.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pythonSecurityArgs, SASL_PASSWORD_ENV, SASL_PASSWORD_FILE_ENV, type ClusterSecurity } from '../kafka/clusterSecurity';
import { UserError } from '../shared/errors';
import type { JobRuntime } from './flinkRuntime';
import type { FlinkJars } from './install';
import { fetchJobsOverview } from '../flink/flinkRest';
import type { FlinkJobSummary } from '../flink/flinkRestTypes';
import { projectRoot, stateRoot } from '../config/paths';
import { ensurePortFree } from './ports';
import {
  commandLineOf,
  groupMembers,
  identityOf,
  isAlive,
  isSameProcess,
  killGroup,
  killProcess,
  pollUntil,
  processGroupOf,
  stopIdentified,
  stopProcess,
  type ProcessIdentity,
} from './proc';

export interface GeneratorOptions {
  bootstrapServers: string;
  /** Of a secured cluster; its password goes in the process's environment (see PipelineProcess.start). */
  security?: ClusterSecurity;
  topic: string;
  rate: number;
  count?: number;
  durationSeconds?: number;
  sensors: number;
  lateFraction?: number;
  anomalyFraction?: number;
  malformedFraction?: number;
  manifest?: string;
  seed?: number;
  finalWatermark?: boolean;
  quiet?: boolean;
}

export interface JobOptions {
  bootstrapServers: string;
  security?: ClusterSecurity;
  topic: string;
  output: string;
  windowSeconds: number;
  groupId: string;
  /** Subtasks per operator (1 when not given). */
  parallelism?: number;
  checkpointSeconds?: number;
  /** Without a runtime folder the job ships its jars with itself (slower start). */
  jars: FlinkJars & Partial<Pick<JobRuntime, 'runtimeDir'>>;
  stateDir: string;
  /** Where stop-with-savepoint writes this job's savepoints; the job restores from the newest of them and its checkpoints. */
  savepointDir?: string;
  restPort: number;
  /** A session cluster's REST address; without it the job runs in its own embedded MiniCluster on `restPort`. */
  flink?: string;
  /** Send the connector and the job library with the job (a cluster whose lib/ does not hold them). */
  shipJars?: boolean;
  fromSavepoint?: string;
  /** Start with fresh state: no checkpoint of an earlier run (a replay). */
  noRestore?: boolean;
}

export const DEFAULT_REST_PORT = 8081;

/** The command line of flink-jobs/data_generator.py for these options (argv, never a shell string). */
export function generatorArgs(o: GeneratorOptions): string[] {
  const args = [
    join(projectRoot(), 'flink-jobs', 'data_generator.py'),
    '--bootstrap-servers',
    o.bootstrapServers,
    '--topic',
    o.topic,
    '--rate',
    String(o.rate),
    '--sensors',
    String(o.sensors),
  ];
  if (o.count !== undefined) args.push('--count', String(o.count));
  if (o.durationSeconds !== undefined) args.push('--duration', String(o.durationSeconds));
  if (o.lateFraction !== undefined) args.push('--late-fraction', String(o.lateFraction));
  if (o.anomalyFraction !== undefined) args.push('--anomaly-fraction', String(o.anomalyFraction));
  if (o.malformedFraction !== undefined) args.push('--malformed-fraction', String(o.malformedFraction));
  if (o.manifest) args.push('--manifest', o.manifest);
  if (o.seed !== undefined) args.push('--seed', String(o.seed));
  if (o.finalWatermark) args.push('--final-watermark');
  if (o.quiet) args.push('--quiet');
  args.push(...pythonSecurityArgs(o.security));
  return args;
}

/** The command line of flink-jobs/flink_job.py. */
export function jobArgs(o: JobOptions): string[] {
  const args = [
    join(projectRoot(), 'flink-jobs', 'flink_job.py'),
    '--bootstrap-servers',
    o.bootstrapServers,
    '--topic',
    o.topic,
    '--output',
    o.output,
    '--window',
    String(o.windowSeconds),
    '--group-id',
    o.groupId,
    '--connector-jar',
    o.jars.connectorJar,
    '--job-lib-jar',
    o.jars.jobLibJar,
    ...(o.jars.runtimeDir ? ['--runtime-dir', o.jars.runtimeDir] : []),
    '--state-dir',
    o.stateDir,
    '--rest-port',
    String(o.restPort),
  ];
  if (o.parallelism !== undefined && o.parallelism !== 1) args.push('--parallelism', String(o.parallelism));
  if (o.checkpointSeconds !== undefined) args.push('--checkpoint-interval', String(o.checkpointSeconds));
  if (o.flink) args.push('--flink', o.flink);
  if (o.shipJars) args.push('--ship-jars');
  if (o.fromSavepoint) args.push('--from-savepoint', o.fromSavepoint);
  if (o.noRestore) args.push('--no-restore');
  if (o.savepointDir) args.push('--savepoint-dir', o.savepointDir);
  args.push(...pythonSecurityArgs(o.security));
  return args;
}

/** The value after `flag` in a recorded command line. */
export function argOf(args: string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
}

/** Where a recorded job's Flink answers: its session cluster, or its embedded MiniCluster's REST port. */
export function restUrlOfJob(args: string[]): string {
  return argOf(args, '--flink') ?? `http://127.0.0.1:${argOf(args, '--rest-port') ?? DEFAULT_REST_PORT}`;
}

export interface ProcessRecord {
  pid: number;
  /** With the pid, who the process is (see ProcessIdentity); missing in records of older versions. */
  startTime?: number;
  startedAt: string;
  args: string[];
  log?: string;
  /** The processes of its group seen while it ran (the job's JVM), each by pid and start time. */
  members?: ProcessIdentity[];
}

/** The pipeline's processes: the script each runs, and its folder under `.pipeline/`. */
const PROCESS_KINDS = {
  generator: { script: 'data_generator.py', dir: 'generator' },
  job: { script: 'flink_job.py', dir: 'flink' },
  /** The benchmark's plain Flink SQL yardstick (`pipeline bench --only job`). */
  'reference-job': { script: 'reference_job.py', dir: 'flink-reference' },
} as const;

/**
 * One tracked pipeline process (generator or Flink job): its pid file under `.pipeline/`, a foreground or
 * background start, and a stop that interrupts first and kills after a grace period.
 */
export class PipelineProcess {
  readonly dir: string;

  constructor(
    readonly workspace: string,
    readonly name: keyof typeof PROCESS_KINDS,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    this.dir = join(stateRoot(workspace, env), PROCESS_KINDS[name].dir);
  }

  get pidFile(): string {
    return join(this.dir, `${this.name}.json`);
  }

  get logFile(): string {
    return join(this.dir, `${this.name}.log`);
  }

  /** Written by the job process when it has submitted its Flink job: which job on the cluster is ours. */
  get jobInfoFile(): string {
    return join(this.dir, `${this.name}-info.json`);
  }

  /** The Flink job id of this running process (its record, when the caller has read it), once it has submitted it. */
  flinkJobId(record = this.record()): string | undefined {
    try {
      const info = JSON.parse(readFileSync(this.jobInfoFile, 'utf8')) as { jobId: string; pid: number };
      return record && info.pid === record.pid ? info.jobId : undefined;
    } catch {
      return undefined;
    }
  }

  private readRecord(): ProcessRecord | undefined {
    try {
      return JSON.parse(readFileSync(this.pidFile, 'utf8')) as ProcessRecord;
    } catch {
      return undefined;
    }
  }

  /** The record of the process while that very process (pid and start time) still runs. */
  record(): ProcessRecord | undefined {
    const record = this.readRecord();
    if (!record) return undefined;
    if (record.startTime !== undefined) return isSameProcess({ pid: record.pid, startTime: record.startTime }) ? record : undefined;
    // A record of an older version, without a start time: its command line has to name our script.
    return isAlive(record.pid) && commandLineOf(record.pid)?.includes(PROCESS_KINDS[this.name].script) ? record : undefined;
  }

  running(): boolean {
    return this.record() !== undefined;
  }

  /**
   * Writes down, by pid and start time, the processes now in the group of the running process (the JVM a PyFlink
   * job starts): after a kill -9 of python they are what is left to clean up, and they are known by identity.
   * Returns the record as it now stands (undefined when the process is gone).
   */
  trackGroup(record = this.record()): ProcessRecord | undefined {
    if (!record) return undefined;
    const members = record.members ?? [];
    const seen = new Set(members.map((m) => `${m.pid}/${m.startTime}`));
    let changed = false;
    if (record.startTime === undefined) {
      record.startTime = identityOf(record.pid)?.startTime;
      changed = record.startTime !== undefined;
    }
    for (const pid of groupMembers(record.pid)) {
      const id = pid === record.pid ? undefined : identityOf(pid);
      if (!id || seen.has(`${id.pid}/${id.startTime}`)) continue;
      members.push(id);
      seen.add(`${id.pid}/${id.startTime}`);
      changed = true;
    }
    if (!changed) return record;
    record.members = members;
    writeFileSync(this.pidFile, JSON.stringify(record, null, 1));
    return record;
  }

  /**
   * Starts python with `args` in its own process group. In the foreground its output goes to our terminal and
   * the returned promise settles with its exit code; in the background it goes to the log file. A SASL password
   * reaches it only through `extraEnv`: one in our own environment is not passed on by itself.
   */
  start(
    python: string,
    args: string[],
    options: { background: boolean; cwd: string; extraEnv?: NodeJS.ProcessEnv },
  ): { child: ChildProcess; exited: Promise<number> } {
    const existing = this.record();
    if (existing)
      throw new UserError(
        `The ${this.name === 'generator' ? 'generator' : 'Flink job'} is already running (pid ${existing.pid}): stop it with \`pipeline ${this.name === 'generator' ? 'generate --stop' : 'job stop'}\` first.`,
      );
    mkdirSync(this.dir, { recursive: true });
    let fd: number | undefined;
    if (options.background) fd = openSync(this.logFile, 'w');
    rmSync(this.jobInfoFile, { force: true });
    const child = spawn(python, ['-u', ...args], {
      cwd: options.cwd,
      env: {
        ...this.env,
        [SASL_PASSWORD_ENV]: undefined,
        [SASL_PASSWORD_FILE_ENV]: undefined,
        ...options.extraEnv,
        PYTHONUNBUFFERED: '1',
        PIPELINE_JOB_INFO: this.jobInfoFile,
      },
      stdio: options.background ? ['ignore', fd!, fd!] : ['ignore', 'inherit', 'inherit'],
      detached: true,
    });
    if (fd !== undefined) closeSync(fd);
    if (child.pid === undefined) throw new UserError(`Could not start ${python}.`);
    const record: ProcessRecord = {
      pid: child.pid,
      startTime: identityOf(child.pid)?.startTime,
      startedAt: new Date().toISOString(),
      args,
      log: options.background ? this.logFile : undefined,
    };
    writeFileSync(this.pidFile, JSON.stringify(record, null, 1));
    const exited = new Promise<number>((resolvePromise) => {
      child.on('error', () => resolvePromise(127));
      child.on('exit', (code, signal) => {
        // Python killed with -9 leaves its JVM behind: what is left of the noted group goes with it.
        void this.forget(child.pid!).finally(() => resolvePromise(code ?? (signal === 'SIGINT' || signal === 'SIGTERM' ? 130 : 1)));
      });
    });
    if (options.background) child.unref();
    return { child, exited };
  }

  private async forget(pid: number): Promise<void> {
    const record = this.readRecord();
    if (record?.pid !== pid) return;
    await this.killKnown(record);
    // Meanwhile a new process may have been started and recorded (a restart right after a kill): keep its record.
    if (this.readRecord()?.pid === pid) rmSync(this.pidFile, { force: true });
  }

  /** SIGINT, then SIGTERM, then SIGKILL to the whole process group (python and its JVM). */
  async stop(graceMs = 30_000): Promise<'stopped' | 'killed' | 'not-running'> {
    const record = this.record();
    if (!record) {
      // A recorded python that is gone may leave its JVM (same process group) running, holding the Flink REST
      // port: what is left of it goes, by identity only (see killKnown).
      const stale = this.readRecord();
      const orphans = stale ? await this.killKnown(stale) : 0;
      rmSync(this.pidFile, { force: true });
      return orphans > 0 ? 'killed' : 'not-running';
    }
    // While python runs its group is ours: note who is in it before it goes.
    const tracked = this.trackGroup(record) ?? record;
    killGroup(record.pid, 'SIGINT');
    const gone = await pollUntil(async () => (isAlive(record.pid) ? undefined : true), Math.min(graceMs, 15_000), 200);
    let result: 'stopped' | 'killed' = 'stopped';
    // Past the grace period the pid is checked against its start time before each signal (an older record has none).
    const id = record.startTime !== undefined ? { pid: record.pid, startTime: record.startTime } : undefined;
    if (!gone) result = (await (id ? stopIdentified(id, graceMs) : stopProcess(record.pid, graceMs))) ? 'killed' : 'stopped';
    // The JVM of a PyFlink job lives in the same group; make sure nothing of it is left (and its ports are free).
    await this.killKnown(tracked);
    rmSync(this.pidFile, { force: true });
    return result;
  }

  /**
   * SIGKILL to the processes of `record` that are still themselves (same pid and start time). While one of them is
   * in the recorded group, that group is ours (Linux hands out a pid again only when no process uses it as a group
   * id), so the whole group goes, including members started after they were noted — never by the group id or a
   * name alone, which after pid reuse may belong to another program. Returns how many it found alive.
   */
  private async killKnown(record: ProcessRecord): Promise<number> {
    const known = [
      ...(record.startTime !== undefined ? [{ pid: record.pid, startTime: record.startTime }] : []),
      ...(record.members ?? []),
    ];
    const alive = () => known.filter(isSameProcess);
    const found = alive();
    if (found.length === 0) return 0;
    if (found.some((id) => processGroupOf(id.pid) === record.pid)) killGroup(record.pid, 'SIGKILL');
    for (const id of alive()) killProcess(id.pid, 'SIGKILL');
    await pollUntil(async () => (alive().length === 0 ? true : undefined), 15_000, 100);
    return found.length;
  }
}

export async function ensureRestPortFree(port: number): Promise<void> {
  await ensurePortFree(port, 'stop it (`pipeline job stop` if it is an earlier job) and try again', 'Flink REST / Web UI');
}

/** The reason a job's own preflight gave for not starting (its last `error: …` line), if it gave one. */
export function startupError(log: string): string | undefined {
  const line = log
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('error: '));
  return line?.slice('error: '.length).trim() || undefined;
}

function readLog(file: string): string {
  try {
    return readFileSync(file, 'utf8').slice(-20_000);
  } catch {
    return '';
  }
}

/** Waits until Flink's REST API lists this process's job as RUNNING, or the process exits, or the timeout passes. */
export async function waitForJobRunning(restUrl: string, process: PipelineProcess, timeoutMs: number): Promise<FlinkJobSummary> {
  const job = await pollUntil(
    async () => {
      const record = process.trackGroup();
      if (!record) {
        const said = startupError(readLog(process.logFile));
        throw new UserError(`The Flink job exited during start-up${said ? ` (${said})` : ''}: see ${process.logFile}.`);
      }
      const id = process.flinkJobId(record);
      if (!id) return undefined;
      try {
        const jobs = await fetchJobsOverview(restUrl, 2000);
        return jobs.find((j) => j.jid === id && j.state === 'RUNNING');
      } catch {
        return undefined;
      }
    },
    timeoutMs,
    1000,
  );
  if (!job) throw new UserError(`The Flink job did not reach RUNNING within ${timeoutMs / 1000} s: see ${process.logFile}.`);
  return job;
}
