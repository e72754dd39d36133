import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UserError } from './errors';
import type { FlinkJars } from './install';
import { fetchJobsOverview, type FlinkJobSummary } from './flinkRest';
import { projectRoot, stateRoot } from './paths';
import { describePortHolder, isPortFree } from './ports';
import { commandLineOf, groupMembers, isAlive, killGroup, pollUntil, stopProcess } from './proc';

export interface GeneratorOptions {
  bootstrapServers: string;
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
  topic: string;
  output: string;
  windowSeconds: number;
  groupId: string;
  checkpointSeconds?: number;
  jars: FlinkJars;
  stateDir: string;
  /** Where stop-with-savepoint writes this job's savepoints; the job restores from the newest of them and its checkpoints. */
  savepointDir?: string;
  restPort: number;
}

export const DEFAULT_GROUP_ID = 'flink-sensor-processor';
export const DEFAULT_REST_PORT = 8081;

/** The command line of flink-jobs/data_generator.py for these options (argv, never a shell string). */
export function generatorArgs(o: GeneratorOptions): string[] {
  const args = [join(projectRoot(), 'flink-jobs', 'data_generator.py'), '--bootstrap-servers', o.bootstrapServers, '--topic', o.topic, '--rate', String(o.rate), '--sensors', String(o.sensors)];
  if (o.count !== undefined) args.push('--count', String(o.count));
  if (o.durationSeconds !== undefined) args.push('--duration', String(o.durationSeconds));
  if (o.lateFraction !== undefined) args.push('--late-fraction', String(o.lateFraction));
  if (o.anomalyFraction !== undefined) args.push('--anomaly-fraction', String(o.anomalyFraction));
  if (o.malformedFraction !== undefined) args.push('--malformed-fraction', String(o.malformedFraction));
  if (o.manifest) args.push('--manifest', o.manifest);
  if (o.seed !== undefined) args.push('--seed', String(o.seed));
  if (o.finalWatermark) args.push('--final-watermark');
  if (o.quiet) args.push('--quiet');
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
    '--state-dir',
    o.stateDir,
    '--rest-port',
    String(o.restPort),
  ];
  if (o.checkpointSeconds !== undefined) args.push('--checkpoint-interval', String(o.checkpointSeconds));
  if (o.savepointDir) args.push('--savepoint-dir', o.savepointDir);
  return args;
}

/**
 * The savepoints of the pipeline job on `topic`: `<workspace>/.pipeline/savepoints/<topic>`. The Flink view's
 * stop-with-savepoint writes there and `pipeline job start` restores from there when a savepoint is the newest.
 */
export function savepointDirOf(workspace: string, topic: string, env: NodeJS.ProcessEnv = process.env): string {
  return join(stateRoot(workspace, env), 'savepoints', topic);
}

export interface ProcessRecord {
  pid: number;
  startedAt: string;
  args: string[];
  log?: string;
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

  record(): ProcessRecord | undefined {
    try {
      const record = JSON.parse(readFileSync(this.pidFile, 'utf8')) as ProcessRecord;
      const cmd = commandLineOf(record.pid);
      if (isAlive(record.pid) && cmd?.includes(PROCESS_KINDS[this.name].script)) return record;
    } catch {
      /* none */
    }
    return undefined;
  }

  running(): boolean {
    return this.record() !== undefined;
  }

  /**
   * Starts python with `args` in its own process group. In the foreground its output goes to our terminal and
   * the returned promise settles with its exit code; in the background it goes to the log file.
   */
  start(python: string, args: string[], options: { background: boolean; cwd: string; extraEnv?: NodeJS.ProcessEnv }): { child: ChildProcess; exited: Promise<number> } {
    const existing = this.record();
    if (existing) throw new UserError(`The ${this.name === 'generator' ? 'generator' : 'Flink job'} is already running (pid ${existing.pid}): stop it with \`pipeline ${this.name === 'generator' ? 'generate --stop' : 'job stop'}\` first.`);
    mkdirSync(this.dir, { recursive: true });
    let fd: number | undefined;
    if (options.background) fd = openSync(this.logFile, 'w');
    const child = spawn(python, ['-u', ...args], {
      cwd: options.cwd,
      env: { ...this.env, ...options.extraEnv, PYTHONUNBUFFERED: '1' },
      stdio: options.background ? ['ignore', fd!, fd!] : ['ignore', 'inherit', 'inherit'],
      detached: true,
    });
    if (fd !== undefined) closeSync(fd);
    if (child.pid === undefined) throw new UserError(`Could not start ${python}.`);
    const record: ProcessRecord = { pid: child.pid, startedAt: new Date().toISOString(), args, log: options.background ? this.logFile : undefined };
    writeFileSync(this.pidFile, JSON.stringify(record, null, 1));
    const exited = new Promise<number>((resolvePromise) => {
      child.on('error', () => resolvePromise(127));
      child.on('exit', (code, signal) => {
        this.forget(child.pid!);
        resolvePromise(code ?? (signal === 'SIGINT' || signal === 'SIGTERM' ? 130 : 1));
      });
    });
    if (options.background) child.unref();
    return { child, exited };
  }

  private forget(pid: number): void {
    try {
      const record = JSON.parse(readFileSync(this.pidFile, 'utf8')) as ProcessRecord;
      if (record.pid === pid) rmSync(this.pidFile, { force: true });
    } catch {
      /* already gone */
    }
  }

  /** SIGINT, then SIGTERM, then SIGKILL to the whole process group (python and its JVM). */
  async stop(graceMs = 30_000): Promise<'stopped' | 'killed' | 'not-running'> {
    const record = this.record();
    if (!record) {
      const orphans = await this.killOrphans();
      rmSync(this.pidFile, { force: true });
      return orphans > 0 ? 'killed' : 'not-running';
    }
    killGroup(record.pid, 'SIGINT');
    const gone = await pollUntil(async () => (isAlive(record.pid) ? undefined : true), Math.min(graceMs, 15_000), 200);
    let result: 'stopped' | 'killed' = 'stopped';
    if (!gone) result = (await stopProcess(record.pid, graceMs)) ? 'killed' : 'stopped';
    // The JVM of a PyFlink job lives in the same group; make sure nothing of it is left (and its ports are free).
    killGroup(record.pid, 'SIGKILL');
    await pollUntil(async () => (groupMembers(record.pid).length === 0 ? true : undefined), 15_000, 100);
    rmSync(this.pidFile, { force: true });
    return result;
  }

  /**
   * A recorded python that is gone may leave its JVM (same process group) running, holding the Flink REST port:
   * kills what is left of that group, recognised by its command line. Returns how many processes it killed.
   */
  private async killOrphans(): Promise<number> {
    let pgid: number;
    try {
      pgid = (JSON.parse(readFileSync(this.pidFile, 'utf8')) as ProcessRecord).pid;
    } catch {
      return 0;
    }
    const ours = () => groupMembers(pgid).filter((pid) => /flink|pyflink|data_generator/.test(commandLineOf(pid) ?? ''));
    const orphans = ours();
    for (const pid of orphans) killGroup(pid, 'SIGKILL');
    if (orphans.length > 0) await pollUntil(async () => (ours().length === 0 ? true : undefined), 15_000, 100);
    return orphans.length;
  }
}

export async function ensureRestPortFree(port: number): Promise<void> {
  if (!(await isPortFree(port))) {
    throw new UserError(`Port ${port} on 127.0.0.1 (Flink REST / Web UI) is already in use by ${describePortHolder(port)}: stop it (\`pipeline job stop\` if it is an earlier job) and try again.`);
  }
}

/** Waits until Flink's REST API lists a RUNNING job, or the process exits, or the timeout passes. */
export async function waitForJobRunning(restUrl: string, process: PipelineProcess, timeoutMs: number): Promise<FlinkJobSummary> {
  const job = await pollUntil(async () => {
    if (!process.running()) throw new UserError(`The Flink job exited during start-up: see ${process.logFile}.`);
    try {
      const jobs = await fetchJobsOverview(restUrl, 2000);
      return jobs.find((j) => j.state === 'RUNNING');
    } catch {
      return undefined;
    }
  }, timeoutMs, 1000);
  if (!job) throw new UserError(`The Flink job did not reach RUNNING within ${timeoutMs / 1000} s: see ${process.logFile}.`);
  return job;
}

export function defaultOutputDir(workspace: string): string {
  return resolve(workspace, 'output');
}
