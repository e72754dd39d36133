// The faults of `pipeline chaos`, each injected into a run with events flowing, then checked by counting every event once.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../shared/errors';
import { fetchJobDetail, sourceRecords } from '../../flink/flinkRest';
import type { JobRuntime } from '../../local/flinkRuntime';
import { createKafka, parseBootstrapServers } from '../../kafka/kafkaClient';
import { KafkaAdminClient } from '../../kafka/kafkaAdmin';
import { generatorArgs, jobArgs, PipelineProcess, waitForJobRunning } from '../../local/pipelineProcesses';
import { killGroup, pollUntil, sleep } from '../../local/proc';
import { bootstrapFor, LocalStack } from '../../local/stack';
import { stateRoot } from '../../config/paths';
import type { Progress } from '../../local/install';
import { committedTotal, type OracleReport } from './oracle';
import { expectationOfTopic, judge, manifestTotalSent, readCommitted } from './oracleSources';

/** The job's REST port: the contract's 8081 (PIPELINE_FLINK_REST_PORT only to run beside another Flink). */
const REST_PORT = Number(process.env.PIPELINE_FLINK_REST_PORT || 8081);
const REST = `http://127.0.0.1:${REST_PORT}`;
const WINDOW_SECONDS = 10;

export interface FaultResult {
  fault: string;
  /** Data records in the input topic, as the oracle read them (NaN when the fault did not get that far). */
  events: number;
  lost: number;
  duplicated: number;
  /** Seconds from the fault (or its end) until the pipeline made progress again. */
  recoverySeconds?: number;
  note?: string;
}

export interface ChaosContext {
  workspace: string;
  python: string;
  runtime: JobRuntime;
  events: number;
  progress: Progress;
  signal: AbortSignal;
  /** For the random points of the job kills: the same seed, the same run. */
  random: () => number;
}

/** One fault's stage: its broker(s), a fresh topic, the job running on it, a generator feeding it. */
export class Stage {
  readonly stack: LocalStack;
  readonly job: PipelineProcess;
  readonly generator: PipelineProcess;
  readonly bootstrap: string;
  readonly output: string;
  readonly stateDir: string;
  /** The generator's own record of what it sent, which the oracle compares with what the topic holds. */
  readonly manifest: string;
  private generatorRun?: Promise<number>;

  constructor(
    readonly ctx: ChaosContext,
    readonly name: string,
    readonly brokers: 1 | 3,
  ) {
    this.stack = new LocalStack(ctx.workspace);
    this.job = new PipelineProcess(ctx.workspace, 'job');
    this.generator = new PipelineProcess(ctx.workspace, 'generator');
    this.bootstrap = bootstrapFor(brokers === 3 ? 'cluster3' : 'single');
    this.output = join(ctx.workspace, 'output', name);
    this.stateDir = join(stateRoot(ctx.workspace), 'flink', 'checkpoints', name);
    this.manifest = join(ctx.workspace, `${name}-manifest.json`);
  }

  get topic(): string {
    return `chaos-${this.name}`;
  }

  async setUp(): Promise<void> {
    await this.stack.up({ brokers: this.brokers, progress: () => undefined });
    // Through the admin client that waits for the new topic's leaders (a broker just started may not serve them
    // yet); with three brokers the broker's own min.insync.replicas is 2.
    const admin = new KafkaAdminClient({ bootstrapServers: parseBootstrapServers(this.bootstrap) }, 30_000);
    try {
      await admin.createTopic({ name: this.topic, partitions: 3, replicationFactor: this.brokers });
    } finally {
      await admin.close();
    }
    mkdirSync(this.output, { recursive: true });
    await this.startJob();
  }

  async startJob(): Promise<void> {
    const { exited } = this.job.start(
      this.ctx.python,
      jobArgs({
        bootstrapServers: this.bootstrap,
        topic: this.topic,
        output: this.output,
        windowSeconds: WINDOW_SECONDS,
        groupId: `chaos-${this.name}`,
        checkpointSeconds: 2,
        jars: this.ctx.runtime,
        stateDir: this.stateDir,
        restPort: REST_PORT,
      }),
      { background: true, cwd: this.ctx.workspace },
    );
    let code: number | undefined;
    void exited.then((c) => (code = c));
    await waitForJobRunning(REST, this.job, 180_000).catch(async (error: Error) => {
      await sleep(500);
      throw new UserError(`${error.message} (exit code ${code ?? 'none yet'}; process ${this.job.record() ? 'alive' : 'gone'})`);
    });
  }

  /** The generator at `rate` events/s for this stage's events (or `durationSeconds`), with the final watermark. */
  startGenerator(rate: number, options: { durationSeconds?: number } = {}): void {
    const { exited } = this.generator.start(
      this.ctx.python,
      generatorArgs({
        bootstrapServers: this.bootstrap,
        topic: this.topic,
        rate,
        sensors: 10,
        finalWatermark: true,
        quiet: true,
        ...(options.durationSeconds ? { durationSeconds: options.durationSeconds } : { count: this.ctx.events }),
        manifest: this.manifest,
      }),
      { background: true, cwd: this.ctx.workspace },
    );
    this.generatorRun = exited;
  }

  async generatorExit(timeoutMs = 600_000): Promise<number> {
    const code = await Promise.race([this.generatorRun!, sleep(timeoutMs).then(() => -1)]);
    if (code === -1)
      throw new UserError(`The generator of ${this.name} did not finish within ${timeoutMs / 1000} s: see ${this.generator.logFile}.`);
    return code;
  }

  /** Events committed so far (aggregated + dead-letter), read from the files by the oracle. */
  committed(): number {
    return committedTotal(readCommitted(this.output, WINDOW_SECONDS * 1000));
  }

  /** Records the job's source has read (REST), or undefined while Flink does not answer. */
  async readRecords(): Promise<number | undefined> {
    const id = this.job.flinkJobId();
    if (!id) return undefined;
    return fetchJobDetail(REST, id, 2000)
      .then((j) => (j.state === 'RUNNING' ? sourceRecords(j) : undefined))
      .catch(() => undefined);
  }

  /**
   * Once the generator has finished: reads the whole input topic (the oracle's expectation), then waits until the
   * committed files hold every expected event in both formats, or nothing changes for 2 minutes, and compares.
   */
  async account(): Promise<Pick<FaultResult, 'events' | 'lost' | 'duplicated' | 'note'>> {
    const expected = await expectationOfTopic(this.bootstrap, this.topic, WINDOW_SECONDS * 1000);
    const sent = manifestTotalSent(this.manifest);
    let report: OracleReport;
    let last = '';
    let lastChange = Date.now();
    for (;;) {
      if (this.ctx.signal.aborted) throw new UserError('Interrupted.');
      report = judge(expected, this.output, sent);
      if (report.csv.lost === 0 && report.json.lost === 0) break;
      const now = `${report.csv.lost}/${report.json.lost}/${report.duplicated}`;
      if (now !== last) [last, lastChange] = [now, Date.now()];
      if (Date.now() - lastChange > 120_000) break;
      await sleep(1000);
    }
    await sleep(3000); // a commit still under way (the JSON sink commits a checkpoint just after the CSV sink) would double
    report = judge(expected, this.output, sent);
    return { events: report.events, lost: report.lost, duplicated: report.duplicated, note: report.notes.join('; ') || undefined };
  }

  async tearDown(): Promise<void> {
    await this.generator.stop(5000);
    await this.job.stop(30_000);
    await this.stack.down({ progress: () => undefined, graceMs: 20_000 });
  }
}

async function within(stage: Stage, fault: () => Promise<{ recoverySeconds?: number; note?: string }>): Promise<FaultResult> {
  stage.ctx.progress(`[${stage.name}] starting its broker${stage.brokers === 3 ? 's' : ''}, topic and job…`);
  await stage.setUp();
  try {
    const injected = await fault().catch((error: unknown) => {
      // What the job said last is usually why.
      const tail = readTail(stage.job.logFile);
      if (tail) stage.ctx.progress(`[${stage.name}] the job's log ends with:\n${tail}`);
      throw error;
    });
    stage.ctx.progress(`[${stage.name}] waiting until every event is committed…`);
    const counted = await stage.account();
    return {
      fault: stage.name,
      recoverySeconds: injected.recoverySeconds,
      ...counted,
      note: [injected.note, counted.note].filter(Boolean).join('; ') || undefined,
    };
  } finally {
    await stage.tearDown();
  }
}

function readTail(file: string, lines = 25): string {
  try {
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.trim() && !/^\s+at /.test(l))
      .slice(-lines)
      .join('\n');
  } catch {
    return '';
  }
}

/** Polls until `f` holds; the seconds it took. */
async function secondsUntil(what: string, f: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const started = Date.now();
  const ok = await pollUntil(async () => ((await f()) ? true : undefined), timeoutMs, 250);
  if (!ok) throw new UserError(`Timed out after ${timeoutMs / 1000} s waiting for ${what}.`);
  return (Date.now() - started) / 1000;
}

/**
 * The job reads again: its source's count moves on from `before` (or restarts from its checkpoint and grows); once the
 * generator has sent everything, a running job with nothing left to read has recovered too.
 */
async function readsAgain(stage: Stage, before: number | undefined, timeoutMs: number): Promise<void> {
  await secondsUntil(
    'the job to read again',
    async () => {
      const now = await stage.readRecords();
      return now !== undefined && ((now > 0 && now !== before) || !stage.generator.running());
    },
    timeoutMs,
  );
}

async function firstCommit(stage: Stage): Promise<void> {
  await secondsUntil('the first committed rows', async () => stage.committed() > 0, 180_000);
}

/** SIGKILL to the broker, started again 5 s later; the seconds until the job reads again. */
async function killAndRestartBroker(stage: Stage): Promise<number> {
  const pid = stage.stack.nodePid('single', 1)!;
  stage.ctx.progress(`[${stage.name}] SIGKILL to the broker (pid ${pid}), started again 5 s later…`);
  const readBefore = await stage.readRecords();
  process.kill(pid, 'SIGKILL');
  const killedAt = Date.now();
  await sleep(5000);
  await stage.stack.up({ progress: () => undefined, topics: false });
  await readsAgain(stage, readBefore, 180_000);
  return (Date.now() - killedAt) / 1000;
}

/** SIGKILL to the job's process group (python and its JVM), started again; the seconds until it reads again. */
async function killAndRestartJob(stage: Stage, what: string): Promise<number> {
  const pid = stage.job.record()!.pid;
  stage.ctx.progress(`[${stage.name}] ${what} (process group ${pid})…`);
  killGroup(pid, 'SIGKILL');
  await pollUntil(async () => (stage.job.running() ? undefined : true), 30_000, 100);
  await stage.job.stop(5000);
  const killedAt = Date.now();
  await stage.startJob();
  await readsAgain(stage, undefined, 180_000);
  return (Date.now() - killedAt) / 1000;
}

/** The broker SIGKILLed while events flow, then started again: the generator and the job both carry on. */
export function brokerRestart(ctx: ChaosContext): Promise<FaultResult> {
  const stage = new Stage(ctx, 'broker-restart', 1);
  return within(stage, async () => {
    stage.startGenerator(Math.ceil(ctx.events / 25));
    await firstCommit(stage);
    const recoverySeconds = await killAndRestartBroker(stage);
    const code = await stage.generatorExit();
    return { recoverySeconds, note: code === 0 ? 'the generator survived the restart' : `the generator exited ${code}` };
  });
}

/** The job SIGKILLed (python and its JVM) three times at random points, started again each time. */
export function jobKills(ctx: ChaosContext): Promise<FaultResult> {
  const stage = new Stage(ctx, 'job-kill-x3', 1);
  return within(stage, async () => {
    // A minute of events, so that all three kills fall while they flow.
    stage.startGenerator(Math.ceil(ctx.events / 60));
    await firstCommit(stage);
    const recoveries: number[] = [];
    for (let i = 1; i <= 3; i++) {
      await sleep(1000 + ctx.random() * 5000);
      recoveries.push(await killAndRestartJob(stage, `SIGKILL ${i} of 3 to the job`));
    }
    const code = await stage.generatorExit();
    return {
      recoverySeconds: Math.max(...recoveries),
      note: `restarts ${recoveries.map((s) => s.toFixed(1)).join(', ')} s${code === 0 ? '' : `; the generator exited ${code}`}`,
    };
  });
}

/**
 * Both faults in one run while events flow: the broker SIGKILLed and restarted, and once the job reads again, the job
 * SIGKILLed and restarted. The job's restart must then replay from a checkpoint taken across a broker restart.
 */
export function brokerThenJobKill(ctx: ChaosContext): Promise<FaultResult> {
  const stage = new Stage(ctx, 'broker-then-job-kill', 1);
  return within(stage, async () => {
    // A minute and a half of events, so that both faults and both recoveries fall while they flow.
    stage.startGenerator(Math.ceil(ctx.events / 90));
    await firstCommit(stage);
    const brokerRecovery = await killAndRestartBroker(stage);
    const flowing = stage.generator.running();
    const jobRecovery = await killAndRestartJob(stage, `the job reads again after ${brokerRecovery.toFixed(1)} s; SIGKILL to the job`);
    const code = await stage.generatorExit();
    return {
      recoverySeconds: Math.max(brokerRecovery, jobRecovery),
      note: `broker ${brokerRecovery.toFixed(1)} s, then job ${jobRecovery.toFixed(1)} s${flowing ? '' : ' (the generator had finished before the job kill)'}${code === 0 ? '' : `; the generator exited ${code}`}`,
    };
  });
}

/** With three brokers and the topic at replication 3 / min ISR 2: one broker SIGKILLed and brought back. */
export function brokerLoss(ctx: ChaosContext): Promise<FaultResult> {
  const stage = new Stage(ctx, 'broker-loss-of-3', 3);
  return within(stage, async () => {
    stage.startGenerator(Math.ceil(ctx.events / 30));
    await firstCommit(stage);
    const jobPid = stage.job.record()!.pid;
    const pid = stage.stack.nodePid('cluster3', 2)!;
    ctx.progress(`[${stage.name}] SIGKILL to broker 2 (pid ${pid}), started again after 10 s…`);
    process.kill(pid, 'SIGKILL');
    await sleep(10_000);
    const back = Date.now();
    await stage.stack.up({ brokers: 3, progress: () => undefined, topics: false });
    // Recovered once every partition has its three replicas in sync again.
    const admin = createKafka({ bootstrapServers: stage.bootstrap.split(','), requestTimeoutMs: 5000 }).admin();
    await admin.connect();
    try {
      await secondsUntil(
        'all replicas in sync',
        async () => {
          const md = await admin.fetchTopicMetadata({ topics: [stage.topic] }).catch(() => undefined);
          return !!md && md.topics[0].partitions.every((p) => p.isr.length === 3);
        },
        180_000,
      );
    } finally {
      await admin.disconnect();
    }
    const recoverySeconds = (Date.now() - back) / 1000;
    const code = await stage.generatorExit();
    const jobStayed = stage.job.record()?.pid === jobPid;
    return {
      recoverySeconds,
      note: `${code === 0 ? 'the generator never stopped' : `the generator exited ${code}`}; ${jobStayed ? 'the job never stopped' : 'the job process was replaced'}`,
    };
  });
}

/**
 * The output folders unwritable for 20 s: checkpoints cannot commit their files, nothing is lost, the job recovers
 * by itself. As root, permissions do not stop a write: the folders are made immutable (chattr +i) instead.
 */
export function outputUnwritable(ctx: ChaosContext): Promise<FaultResult> {
  const stage = new Stage(ctx, 'output-unwritable', 1);
  return within(stage, async () => {
    stage.startGenerator(Math.ceil(ctx.events / 40));
    await firstCommit(stage);
    const dirs = ['aggregates', 'alerts', 'dead-letter'].map((d) => join(stage.output, d));
    const root = process.getuid?.() === 0;
    const lock = (on: boolean) => {
      for (const dir of dirs) {
        if (root) execFileSync('chattr', [on ? '+i' : '-i', dir], { stdio: 'ignore' });
        else chmodSync(dir, on ? 0o555 : 0o755);
      }
    };
    ctx.progress(`[${stage.name}] the output folders unwritable for 20 s (${root ? 'chattr +i' : 'chmod 555'})…`);
    try {
      lock(true);
    } catch {
      throw new UserError('The output folders could not be made unwritable here (chattr is not supported on this file system).');
    }
    const before = stage.committed();
    try {
      await sleep(20_000);
    } finally {
      lock(false);
    }
    const during = stage.committed() - before;
    const restored = Date.now();
    await secondsUntil('files to be committed again', async () => stage.committed() > before + during, 180_000);
    const code = await stage.generatorExit();
    return {
      recoverySeconds: (Date.now() - restored) / 1000,
      note: `${during} events committed while unwritable${code === 0 ? '' : `; the generator exited ${code}`}`,
    };
  });
}

export const FAULTS = {
  'broker-restart': { run: brokerRestart, quick: true },
  'job-kill-x3': { run: jobKills, quick: true },
  'output-unwritable': { run: outputUnwritable, quick: true },
  'broker-then-job-kill': { run: brokerThenJobKill, quick: true },
  'broker-loss-of-3': { run: brokerLoss, quick: false },
} as const;

export type FaultName = keyof typeof FAULTS;
