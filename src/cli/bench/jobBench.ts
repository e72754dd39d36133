// The job section of `pipeline bench`: Kafka's own perf tools, the generator, a plain Flink SQL reference job and the project's job on one fresh topic, then the generator and the job together.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../shared/errors';
import { checkJava } from '../../local/environment';
import { fetchJobDetail, fetchJobsOverview, sourceRecords } from '../../flink/flinkRest';
import type { JobRuntime } from '../../local/flinkRuntime';
import { ensureKafkaTools } from '../../local/install';
import { ensureTopic, parseBootstrapServers } from '../../kafka/kafkaClient';
import { DEFAULT_CLUSTER_SHAPE, LocalFlinkCluster, SQL_GATEWAY } from '../../local/flinkCluster';
import { startSqlGateway } from '../../local/sqlGateway';
import { projectRoot, stateRoot } from '../../config/paths';
import { ensureRestPortFree, jobArgs, PipelineProcess, waitForJobRunning } from '../../local/pipelineProcesses';
import { pollUntil, processGroupRss, runCommand, samplePeak, sleep } from '../../local/proc';
import { isPortFree } from '../../local/ports';
import { KafkaAdminClient } from '../../kafka/kafkaAdmin';
import { ResultsStore } from '../../results';
import type { CliContext } from '../context';
import type { Figure } from './figures';
import { waitForCommitted } from '../runCli';

const MB = 1024 * 1024;
const REST = 'http://127.0.0.1:8081';
/** The generator's event time of the benchmark's events: fixed, so that every run sends the same records. */
const START_TS = 1_764_064_800_000;
const JOB_GROUP = 'flink-sensor-processor-bench';
const CLUSTER_GROUP = 'flink-sensor-processor-bench-cluster';

export type JobBenchFigure = Omit<Figure, 'section'>;

export interface JobBenchOptions {
  ctx: CliContext;
  workspace: string;
  bootstrap: string;
  python: string;
  jars: JobRuntime;
  events: number;
  stamp: string;
  brokerPid: number;
  progress: (line: string) => void;
  add: (figure: JobBenchFigure) => void;
  /** Runs the generator to completion in the background: its own rate and its peak RSS. */
  runGenerator: (options: {
    topic: string;
    count: number;
    finalWatermark: boolean;
  }) => Promise<{ seconds: number; reportedRate?: number; peakRss: number }>;
}

/** How a Flink job read a prefilled topic, from its REST metrics: when it ran, when it read its first and its Nth record. */
export interface ReadTiming {
  /** From the process start to every vertex RUNNING. */
  runningSeconds: number;
  /** Records over the whole read: first record read → N records read. */
  averageRate: number;
  /** Records per second between 20 % and 80 % of N (start-up and the last fetches left out). */
  steadyRate: number;
}

export function readTiming(samples: { at: number; read: number }[], target: number, runningSeconds: number): ReadTiming {
  const first = samples.find((s) => s.read > 0);
  const last = samples.find((s) => s.read >= target);
  const at20 = samples.find((s) => s.read >= 0.2 * target);
  const at80 = samples.find((s) => s.read >= 0.8 * target);
  if (!first || !last || !at20 || !at80) throw new UserError(`The job did not read ${target} records.`);
  // The first sample with records read stands for the first record: up to one poll interval late, so the average is a little kind to the job.
  const averageRate = last.read / Math.max(last.at - first.at, 1e-3);
  const steadyRate = (at80.read - at20.read) / Math.max(at80.at - at20.at, 1e-3);
  return { runningSeconds, averageRate, steadyRate };
}

interface TimedJob {
  process: PipelineProcess;
  args: string[];
  /** Called once every task runs (the end-to-end run starts the generator there). */
  onRunning?: (pid: number) => void;
  /** Awaited after the sources have read the target, before the job is stopped. */
  after?: () => Promise<void>;
}

/** The previous job's JVM, just stopped, may hold the REST port a moment longer: up to 30 s for it to go. */
async function restPortReleased(): Promise<void> {
  await pollUntil(async () => ((await isPortFree(8081)) ? true : undefined), 30_000, 250);
}

/**
 * Starts a Flink job process and follows it through REST: until every vertex runs, then until its sources have
 * read `target` records (polled every 200 ms). The process is stopped afterwards, whatever happens.
 */
async function timeJob(o: JobBenchOptions, job: TimedJob, target: number, timeoutMs: number): Promise<ReadTiming> {
  // An embedded job serves its REST API itself; a job on the session cluster is read through the cluster's.
  if (!job.args.includes('--flink')) {
    await restPortReleased();
    await ensureRestPortFree(8081);
  }
  const started = performance.now();
  const { child } = job.process.start(o.python, job.args, { background: true, cwd: o.workspace });
  const seconds = () => (performance.now() - started) / 1000;
  const samples: { at: number; read: number }[] = [];
  let runningSeconds: number | undefined;
  try {
    while (seconds() * 1000 < timeoutMs) {
      if (!job.process.running()) throw new UserError(`The Flink job exited during the benchmark: see ${job.process.logFile}.`);
      const current = (await fetchJobsOverview(REST, 2000).catch(() => []))[0];
      const detail = current && (await fetchJobDetail(REST, current.jid, 2000).catch(() => undefined));
      if (detail) {
        if (runningSeconds === undefined && detail.state === 'RUNNING' && detail.vertices.every((v) => v.status === 'RUNNING')) {
          runningSeconds = seconds();
          job.onRunning?.(child.pid!);
        }
        const read = sourceRecords(detail);
        samples.push({ at: seconds(), read });
        if (read >= target) {
          await job.after?.();
          return readTiming(samples, target, runningSeconds ?? seconds());
        }
      }
      await sleep(200);
    }
    throw new UserError(`The Flink job did not read ${target} records within ${timeoutMs / 1000} s: see ${job.process.logFile}.`);
  } finally {
    await job.process.stop(30_000);
  }
}

/** Runs one of Kafka's perf tools (kafka-tools, from the cache) and returns its output. */
async function kafkaTool(java: string, tools: string, mainClass: string, args: string[], what: string): Promise<string> {
  const result = await runCommand(java, ['-Xmx512m', '-cp', `${tools}/*`, mainClass, ...args], { timeoutMs: 10 * 60_000 });
  if (result.code !== 0)
    throw new UserError(`Kafka's ${what} failed (exit ${result.code}): ${result.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  return result.stdout;
}

/** ProducerPerformance's final line: "1000000 records sent, 365630.7 records/sec (56.49 MB/sec), …". */
export function producerPerformanceRate(output: string): number {
  const lines = output.trim().split('\n');
  const match = /^\d+ records sent, ([\d.]+) records\/sec/.exec(lines[lines.length - 1] ?? '');
  if (!match) throw new UserError(`ProducerPerformance printed no summary: ${lines.slice(-2).join(' | ')}`);
  return Number(match[1]);
}

/** ConsumerPerformance's header and values lines: records/s while fetching (the group join left out). */
export function consumerPerformanceRate(output: string): number {
  const lines = output
    .trim()
    .split('\n')
    .filter((l) => l.includes(','));
  const header = lines.findIndex((l) => l.includes('fetch.nMsg.sec'));
  if (header < 0 || !lines[header + 1])
    throw new UserError(`ConsumerPerformance printed no figures: ${output.trim().split('\n').slice(-2).join(' | ')}`);
  const names = lines[header].split(',').map((s) => s.trim());
  const values = lines[header + 1].split(',').map((s) => s.trim());
  return Number(values[names.indexOf('fetch.nMsg.sec')]);
}

export async function benchJob(o: JobBenchOptions): Promise<void> {
  const { add, progress, events } = o;
  const java = (await checkJava()).binary;
  const tools = await ensureKafkaTools(progress);
  const topic = `bench-job-${o.stamp}`;
  await ensureTopic(o.bootstrap, topic, 3);
  const fmt = (n: number) => n.toLocaleString('en-US');

  // 1. Kafka's producer tool with the generator's own payloads (100,000 distinct events, picked at random) and its
  // producer settings (data_generator.py producer_config), so the ratio measures the generator, not the settings.
  const payloads = join(o.workspace, 'payloads.txt');
  const dump = await runCommand(
    o.python,
    [
      join(projectRoot(), 'flink-jobs', 'data_generator.py'),
      '--count',
      '100000',
      '--seed',
      '1',
      '--start-ts',
      String(START_TS),
      '--payload-file',
      payloads,
    ],
    { timeoutMs: 120_000 },
  );
  if (dump.code !== 0) throw new UserError(`The generator could not write the payload file: ${dump.stderr.trim()}`);
  progress(`[job] Kafka ProducerPerformance: ${fmt(events)} generator payloads, with the generator's producer settings…`);
  const producerRate = producerPerformanceRate(
    await kafkaTool(
      java,
      tools,
      'org.apache.kafka.tools.ProducerPerformance',
      [
        '--topic',
        topic,
        '--num-records',
        String(events),
        '--throughput',
        '-1',
        '--payload-file',
        payloads,
        '--command-property',
        `bootstrap.servers=${o.bootstrap}`,
        'acks=all',
        'compression.type=lz4',
        'linger.ms=20',
        'batch.size=1000000',
        'enable.idempotence=true',
      ],
      'ProducerPerformance',
    ),
  );
  add({
    name: 'Kafka ProducerPerformance (same payloads and producer settings: acks=all, idempotent, lz4, linger 20 ms, 1 MB batches)',
    value: producerRate,
    unit: 'events/s',
  });

  // The jobs read only the generator's events: they start where the producer tool's records end.
  const admin = new KafkaAdminClient({ bootstrapServers: parseBootstrapServers(o.bootstrap) }, 30_000);
  let startOffsets: string;
  try {
    const moved = await admin.resetGroupOffsets(JOB_GROUP, topic, 'all', { kind: 'latest' });
    await admin.resetGroupOffsets(CLUSTER_GROUP, topic, 'all', { kind: 'latest' });
    startOffsets = moved.map((p) => `${p.partition}:${p.offset}`).join(',');
  } finally {
    await admin.close();
  }

  // 2. The generator alone.
  progress(`[job] the generator alone: ${fmt(events)} events at rate 0…`);
  const gen = await o.runGenerator({ topic, count: events, finalWatermark: true });
  const generatorRate = gen.reportedRate ?? events / gen.seconds;
  add({ name: 'pipeline generate --rate 0, alone', value: generatorRate, unit: 'events/s' });

  // 3. Kafka's consumer tool over as many records.
  progress(`[job] Kafka ConsumerPerformance: ${fmt(events)} records…`);
  const consumerRate = consumerPerformanceRate(
    await kafkaTool(
      java,
      tools,
      'org.apache.kafka.tools.ConsumerPerformance',
      ['--bootstrap-server', o.bootstrap, '--topic', topic, '--num-records', String(events), '--timeout', '60000'],
      'ConsumerPerformance',
    ),
  );
  add({ name: 'Kafka ConsumerPerformance (fetch records/s)', value: consumerRate, unit: 'events/s' });

  // 4. The plain Flink SQL reference job over the generator's events.
  progress('[job] the plain Flink SQL reference job (json format, the same window, blackhole sink, parallelism 1)…');
  const reference = await timeJob(
    o,
    {
      process: new PipelineProcess(o.workspace, 'reference-job'),
      args: [
        join(projectRoot(), 'flink-jobs', 'reference_job.py'),
        '--bootstrap-servers',
        o.bootstrap,
        '--topic',
        topic,
        '--connector-jar',
        o.jars.connectorJar,
        '--runtime-dir',
        o.jars.runtimeDir,
        '--start-offsets',
        startOffsets,
        '--rest-port',
        '8081',
      ],
    },
    events,
    10 * 60_000,
  );
  add({
    name: 'plain Flink SQL reference job, average',
    value: reference.averageRate,
    unit: 'events/s',
    note: `steady ${fmt(Math.round(reference.steadyRate))}/s`,
  });
  add({ name: 'plain Flink SQL reference job: start → every task RUNNING', value: reference.runningSeconds, unit: 's' });

  // 5. The project's job alone over the same events.
  progress("[job] the project's job alone on the prefilled topic…");
  const job = new PipelineProcess(o.workspace, 'job');
  // Each run its own output and checkpoints: a run never restores from another's.
  const args = (t: string, groupId: string) => {
    const output = join(o.workspace, 'output', `${t}-${groupId}`);
    mkdirSync(output, { recursive: true });
    return jobArgs({
      bootstrapServers: o.bootstrap,
      topic: t,
      output,
      windowSeconds: 10,
      groupId,
      jars: o.jars,
      stateDir: join(stateRoot(o.workspace), 'flink', `${t}-${groupId}`),
      restPort: 8081,
      checkpointSeconds: 10,
    });
  };
  const alone = await timeJob(o, { process: job, args: args(topic, JOB_GROUP) }, events, 10 * 60_000);
  add({
    name: "the project's job alone, average",
    value: alone.averageRate,
    unit: 'events/s',
    note: `steady ${fmt(Math.round(alone.steadyRate))}/s`,
  });
  add({ name: "the project's job: start → every task RUNNING", value: alone.runningSeconds, unit: 's', budget: 12 });

  // 6. The same job on a local session cluster over the same events; the cluster's cold and warm start and RSS.
  progress('[job] a local Flink session cluster (JobManager + 2 TaskManagers): cold and warm start, the job on it over the same events…');
  const cluster = new LocalFlinkCluster(o.workspace);
  const lib = join(o.jars.runtimeDir, 'lib');
  await restPortReleased();
  try {
    const cold = await cluster.up(DEFAULT_CLUSTER_SHAPE, o.python, lib, () => undefined);
    add({ name: 'session cluster: first start (until 2 TaskManagers registered)', value: cold.elapsedMs / 1000, unit: 's' });
    await cluster.down(() => undefined);
    const warm = await cluster.up(DEFAULT_CLUSTER_SHAPE, o.python, lib, () => undefined);
    add({ name: 'session cluster: warm start', value: warm.elapsedMs / 1000, unit: 's' });
    const clusterRss = () => cluster.processes().reduce((n, p) => n + (p.pid ? processGroupRss(p.pid) : 0), 0);
    add({ name: 'session cluster RSS, idle (JobManager + 2 TaskManagers)', value: clusterRss() / MB, unit: 'MB' });
    let peak: { stop: () => number } | undefined;
    const onCluster = await timeJob(
      o,
      { process: job, args: [...args(topic, CLUSTER_GROUP), '--flink', cluster.restUrl], onRunning: () => (peak = samplePeak(clusterRss)) },
      events,
      10 * 60_000,
    );
    add({
      name: "the project's job on the session cluster, average",
      value: onCluster.averageRate,
      unit: 'events/s',
      note: `steady ${fmt(Math.round(onCluster.steadyRate))}/s`,
    });
    add({
      name: "the project's job on the running session cluster: start → every task RUNNING",
      value: onCluster.runningSeconds,
      unit: 's',
    });
    add({ name: 'ratio: job on the cluster ÷ embedded (average)', value: onCluster.averageRate / alone.averageRate, unit: '×' });
    const busy = peak?.stop() ?? clusterRss();
    add({ name: 'session cluster peak RSS while the job runs', value: busy / MB, unit: 'MB' });
    add({
      name: 'session cluster + broker',
      value: (busy + processGroupRss(o.brokerPid)) / MB,
      unit: 'MB',
      note: 'with the generator: under 3 GB is the budget',
    });

    // What the default target costs a user with nothing running (Start Everything, `pipeline job start`): the
    // cluster and its SQL Gateway come up, then the job is submitted; the embedded job's start is the figure above.
    progress('[job] the default target from nothing: session cluster + SQL Gateway + the job until RUNNING…');
    await cluster.down(() => undefined);
    const fromNothing = Date.now();
    await cluster.up(DEFAULT_CLUSTER_SHAPE, o.python, lib, () => undefined);
    await startSqlGateway(cluster, o.python, lib, () => undefined);
    job.start(o.python, [...args(topic, `${CLUSTER_GROUP}-first`), '--flink', cluster.restUrl], { background: true, cwd: o.workspace });
    try {
      await waitForJobRunning(cluster.restUrl, job, 180_000);
      add({
        name: 'default target (local cluster), nothing running: cluster + SQL Gateway up, job RUNNING',
        value: (Date.now() - fromNothing) / 1000,
        unit: 's',
        note: `embedded: ${alone.runningSeconds.toFixed(1)} s`,
      });
      const gatewayPid = cluster.pidOf(SQL_GATEWAY);
      const jobPid = job.record()?.pid;
      const total = clusterRss() + (gatewayPid ? processGroupRss(gatewayPid) : 0) + (jobPid ? processGroupRss(jobPid) : 0);
      add({
        name: 'default target: RSS of cluster + SQL Gateway + job client, job just RUNNING',
        value: total / MB,
        unit: 'MB',
        note: 'the embedded job (python + JVM) is in the end-to-end section',
      });
    } finally {
      await job.stop(30_000);
    }
  } finally {
    await cluster.down(() => undefined);
  }

  // 7. End to end: the job running, then the generator at rate 0 beside it on a fresh topic, until every event
  // is accounted for in the committed files (the exactly-once check of the run, too).
  const e2eTopic = `bench-e2e-${o.stamp}`;
  await ensureTopic(o.bootstrap, e2eTopic, 3);
  progress(`[job] end to end: the job running, the generator sending ${fmt(events)} events at rate 0 beside it…`);
  let generatorStarted = 0;
  let readSeconds = 0;
  let committedSeconds = 0;
  let generatorRun: ReturnType<JobBenchOptions['runGenerator']> | undefined;
  let jobRss: { stop: () => number } | undefined;
  const e2eArgs = args(e2eTopic, 'flink-sensor-processor');
  const store = await ResultsStore.open(e2eArgs[e2eArgs.indexOf('--output') + 1]);
  try {
    const endToEnd = await timeJob(
      o,
      {
        process: job,
        args: e2eArgs,
        onRunning: (pid) => {
          jobRss = samplePeak(() => processGroupRss(pid));
          generatorStarted = performance.now();
          generatorRun = o.runGenerator({ topic: e2eTopic, count: events, finalWatermark: true });
        },
        after: async () => {
          readSeconds = (performance.now() - generatorStarted) / 1000;
          const counted = await waitForCommitted(store, events, o.ctx, 120_000, 10 * 60_000);
          if (counted < events)
            throw new UserError(`Only ${counted} of ${events} events were committed in the end-to-end run: see ${job.logFile}.`);
          committedSeconds = (performance.now() - generatorStarted) / 1000;
        },
      },
      events,
      15 * 60_000,
    ).finally(() => generatorRun?.catch(() => undefined));
    const genBeside = await generatorRun!;
    const jobPeak = jobRss?.stop() ?? 0;
    add({
      name: 'end to end: generator at rate 0 + job (first event sent → all read by the job)',
      value: events / readSeconds,
      unit: 'events/s',
      atLeast: 100_000,
      note: `job steady ${fmt(Math.round(endToEnd.steadyRate))}/s`,
    });
    add({
      name: 'end to end: first event sent → last window committed',
      value: events / committedSeconds,
      unit: 'events/s',
      note: `${committedSeconds.toFixed(1)} s for ${fmt(events)} events`,
    });
    add({ name: 'end to end: generator events/s beside the job', value: genBeside.reportedRate ?? 0, unit: 'events/s' });
    const brokerRss = processGroupRss(o.brokerPid);
    add({ name: 'peak RSS: job (python + JVM)', value: jobPeak / MB, unit: 'MB' });
    add({ name: 'peak RSS: generator', value: genBeside.peakRss / MB, unit: 'MB' });
    add({ name: 'RSS: broker after the run', value: brokerRss / MB, unit: 'MB' });
    add({ name: 'broker + job + generator', value: (jobPeak + genBeside.peakRss + brokerRss) / MB, unit: 'MB', budget: 1536 });
  } finally {
    store.close();
  }

  add({ name: 'ratio: generator ÷ ProducerPerformance', value: generatorRate / producerRate, unit: '×' });
  add({ name: 'ratio: job ÷ plain SQL reference (average)', value: alone.averageRate / reference.averageRate, unit: '×', atLeast: 0.5 });
  add({ name: 'ratio: job ÷ ConsumerPerformance', value: alone.averageRate / consumerRate, unit: '×' });
}
