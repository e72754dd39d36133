// `pipeline generate` and `pipeline job start|stop|status`: the generator and the Flink job as processes (with run and bench in the table).
import { join, resolve } from 'node:path';
import { errorMessage, UserError, withTimeout } from '../shared/errors';
import { startSqlGateway } from '../local/sqlGateway';
import { clusterRestUrl, DEFAULT_CLUSTER_SHAPE, LocalFlinkCluster } from '../local/flinkCluster';
import { isPipelineJobName, parseFlinkTarget, secretTargetProblem, slotShortfall, type FlinkTarget } from '../flink/flinkJobs';
import { listCheckpoints, listSavepoints, resolveSavepoint, savepointDirOf } from '../flink/flinkSavepoints';
import { ensureTopic, parseBootstrapServers } from '../kafka/kafkaClient';
import { parseReplayStart } from '../kafka/offsetReset';
import { pollUntil } from '../local/proc';
import { KafkaAdminClient } from '../kafka/kafkaAdmin';
import { fetchClusterOverview, fetchJobsOverview } from '../flink/flinkRest';
import { stopWithSavepoint } from '../flink/flinkJobControl';
import type { FlinkJobSummary } from '../flink/flinkRestTypes';
import { ensureJobRuntime, type JobRuntime } from '../local/flinkRuntime';
import { ensurePythonEnv } from '../local/pythonEnv';
import { stateRoot } from '../config/paths';
import {
  DEFAULT_REST_PORT,
  argOf,
  ensureRestPortFree,
  generatorArgs,
  jobArgs,
  PipelineProcess,
  restUrlOfJob,
  waitForJobRunning,
  type GeneratorOptions,
  type JobOptions,
} from '../local/pipelineProcesses';
import { validatePositiveInt } from '../config/validation';
import type { Resolved } from '../config/resolver';
import { benchCli } from './bench/benchCli';
import { chaosCli } from './chaos/chaosCli';
import { runCli } from './runCli';
import { runStamp } from '../shared/format';
import {
  checkedNumber,
  clusterOf,
  configOf,
  bootstrapOption,
  numberFlag,
  securityOption,
  workspaceOption,
  type CliCluster,
  type CliCommand,
  type CliContext,
} from './context';

export function topicOf(ctx: CliContext): string {
  return configOf(ctx).topic().value;
}

const fraction = (name: string) => (v: number) => (v < 0 || v > 1 ? `--${name} must be between 0 and 1.` : undefined);

export function generatorOptionsOf(ctx: CliContext, cluster: CliCluster = clusterOf(ctx)): GeneratorOptions {
  const config = configOf(ctx);
  const count = checkedNumber(ctx, 'count', (v) => validatePositiveInt(v, '--count'));
  const durationSeconds = checkedNumber(ctx, 'duration', (v) => (v > 0 ? undefined : '--duration must be more than 0 seconds.'));
  if (count !== undefined && durationSeconds !== undefined) throw new UserError('Give either --count or --duration, not both.');
  return {
    bootstrapServers: cluster.bootstrapServers,
    security: cluster.security,
    topic: config.topic().value,
    rate: config.generatorRate().value,
    count,
    durationSeconds,
    sensors: config.generatorSensors().value,
    lateFraction: checkedNumber(ctx, 'late-fraction', fraction('late-fraction')),
    anomalyFraction: checkedNumber(ctx, 'anomaly-fraction', fraction('anomaly-fraction')),
    malformedFraction: checkedNumber(ctx, 'malformed-fraction', fraction('malformed-fraction')),
    manifest: ctx.values.manifest as string | undefined,
    seed: numberFlag(ctx, 'seed'),
    finalWatermark: ctx.values['final-watermark'] === true,
  };
}

/** Where the job runs (--flink, or the setting flink.target), with where that was said. */
export function flinkTargetOf(ctx: CliContext): Resolved<FlinkTarget> {
  const given = configOf(ctx).flinkTarget();
  const { target, error } = parseFlinkTarget(given.value, clusterRestUrl());
  if (!target) throw new UserError(`${error} (${given.label})`);
  return { ...given, value: target };
}

export async function jobOptionsOf(
  ctx: CliContext,
  jars: JobRuntime,
  target: FlinkTarget = flinkTargetOf(ctx).value,
  cluster: CliCluster = clusterOf(ctx),
): Promise<JobOptions> {
  const config = configOf(ctx);
  const topic = config.topic().value;
  const restPort = checkedNumber(ctx, 'rest-port', (v) => validatePositiveInt(v, '--rest-port', 65535)) ?? DEFAULT_REST_PORT;
  const savepoint = ctx.values['from-savepoint'] as string | undefined;
  return {
    bootstrapServers: cluster.bootstrapServers,
    security: cluster.security,
    topic,
    output: config.outputFolder().value,
    windowSeconds: config.windowSeconds().value,
    groupId: config.groupId().value,
    parallelism: config.parallelism().value,
    checkpointSeconds: checkedNumber(ctx, 'checkpoint-interval', (v) =>
      v > 0 ? undefined : '--checkpoint-interval must be more than 0 seconds.',
    ),
    jars,
    stateDir: resolve(stateRoot(ctx.workspace), 'flink', 'checkpoints', topic),
    savepointDir: savepointDirOf(ctx.workspace, topic),
    restPort,
    flink: target.kind === 'embedded' ? undefined : target.url,
    // The local cluster's lib/ holds the connector and the job library; another cluster gets them with the job.
    shipJars: target.kind === 'remote',
    fromSavepoint: savepoint
      ? resolveSavepoint(ctx.workspace, topic, savepoint === 'latest' ? 'latest' : resolve(ctx.workspace, savepoint))
      : undefined,
  };
}

/** What a start of the job needs: the PyFlink environment and runtime, its Flink target, its cluster, its options. */
interface PreparedJob {
  python: string;
  /** With its origin: where the job is submitted, a target a workspace file names is known as such. */
  target: Resolved<FlinkTarget>;
  cluster: CliCluster;
  options: JobOptions;
}

/**
 * The job carries the SASL password to its Flink target (in the table DDL of the job graph it submits): only to
 * the embedded Flink, the local cluster, or a cluster named with --flink — one that a workspace's
 * .vscode/settings.json names may be anyone's — and never over plain http to another machine.
 */
export function checkSecretTarget(target: Resolved<FlinkTarget>, cluster: Pick<CliCluster, 'childEnv'>): void {
  if (Object.keys(cluster.childEnv).length === 0 || target.value.kind !== 'remote') return;
  const problem = secretTargetProblem(target.value);
  if (problem) throw new UserError(`${problem} (${target.label})`);
  if (target.origin !== 'flag' && target.origin !== 'environment')
    throw new UserError(
      `A SASL password goes only to a Flink cluster named with --flink; ${target.value.url} comes from ${target.label}. Pass it as --flink if you mean it.`,
    );
}

async function prepareJob(ctx: CliContext): Promise<PreparedJob> {
  const target = flinkTargetOf(ctx);
  const cluster = clusterOf(ctx);
  checkSecretTarget(target, cluster);
  const python = await ensurePythonEnv(ctx.progress);
  const options = await jobOptionsOf(ctx, await ensureJobRuntime(python, ctx.progress), target.value, cluster);
  return { python, target, cluster, options };
}

/**
 * Starts the job on its target: the local cluster is brought up first when it is not running; the embedded job
 * needs its REST port free. In the foreground it runs until Ctrl-C; detached, it returns once the job RUNs.
 */
async function startJob(
  ctx: CliContext,
  { options, target: { value: target }, python, cluster: { childEnv } }: PreparedJob,
): Promise<number> {
  const job = new PipelineProcess(ctx.workspace, 'job');
  if (job.running())
    throw new UserError(`The Flink job is already running (pid ${job.record()!.pid}): stop it with \`pipeline job stop\` first.`);
  if (target.kind === 'local-cluster') {
    const cluster = new LocalFlinkCluster(ctx.workspace);
    if (!cluster.running()) {
      ctx.progress('The local Flink cluster is not running: starting it (`pipeline flink up`)…');
      if (!options.jars.runtimeDir) throw new UserError('The local Flink cluster needs the Flink runtime of `pipeline setup`.');
      const lib = join(options.jars.runtimeDir, 'lib');
      await cluster.up(DEFAULT_CLUSTER_SHAPE, python, lib, ctx.progress, ctx.signal);
      // One Flink for the workbench: the cluster comes with its SQL Gateway, as `pipeline flink up` starts it. The job
      // does not need it, so a gateway that cannot start is said, not fatal (`pipeline sql` starts it when it runs).
      try {
        await startSqlGateway(cluster, python, lib, ctx.progress, process.env, ctx.signal);
      } catch (error) {
        ctx.progress(
          `warning: the SQL Gateway did not start (${errorMessage(error)}); the job starts without it, and \`pipeline sql\` tries again.`,
        );
      }
    }
  }
  if (target.kind === 'embedded') await ensureRestPortFree(options.restPort);
  else {
    // Each subtask needs a slot: a job that cannot have them all would wait for them, and say nothing.
    const overview = await fetchClusterOverview(target.url, 5000).catch(() => undefined);
    const short = overview && slotShortfall(options.parallelism ?? 1, overview.slotsAvailable, overview.slotsTotal, target.url);
    if (short) throw new UserError(short);
  }
  const where = target.kind === 'embedded' ? 'an embedded Flink' : `the Flink cluster ${target.url}`;
  ctx.progress(
    `Starting the Flink job on ${options.topic} → ${options.output} (window ${options.windowSeconds} s, group ${options.groupId}${options.parallelism && options.parallelism > 1 ? `, parallelism ${options.parallelism}` : ''}) in ${where}…`,
  );
  if (!ctx.values.detach) return runForeground(job, python, jobArgs(options), ctx, childEnv);
  job.start(python, jobArgs(options), { background: true, cwd: ctx.workspace, extraEnv: childEnv });
  const restUrl = options.flink ?? `http://127.0.0.1:${options.restPort}`;
  const running = await waitForJobRunning(restUrl, job, 180_000);
  ctx.print(`Flink job ${running.jid} is RUNNING (log ${job.logFile}); Web UI ${restUrl}.`);
  return 0;
}

/** Runs a pipeline process in the foreground, forwarding Ctrl-C (and a closed terminal) to its process group. */
async function runForeground(
  process: PipelineProcess,
  python: string,
  args: string[],
  ctx: CliContext,
  extraEnv: Record<string, string>,
): Promise<number> {
  const { exited } = process.start(python, args, { background: false, cwd: ctx.workspace, extraEnv });
  // Who is in its group (the job's JVM), by identity, so that a later cleanup finds exactly those.
  const tracking = setInterval(() => process.trackGroup(), 2000);
  const onAbort = () => void process.stop(15_000);
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  const onHangup = () => void process.stop(5_000);
  globalThis.process.once('SIGHUP', onHangup);
  try {
    return await exited;
  } finally {
    clearInterval(tracking);
    ctx.signal.removeEventListener('abort', onAbort);
    globalThis.process.off('SIGHUP', onHangup);
  }
}

const generatorFlags = {
  ...workspaceOption,
  ...bootstrapOption,
  ...securityOption,
  rate: { type: 'string' as const },
  count: { type: 'string' as const },
  duration: { type: 'string' as const },
  sensors: { type: 'string' as const },
  topic: { type: 'string' as const },
  'late-fraction': { type: 'string' as const },
  'anomaly-fraction': { type: 'string' as const },
  'malformed-fraction': { type: 'string' as const },
  manifest: { type: 'string' as const },
  seed: { type: 'string' as const },
  'final-watermark': { type: 'boolean' as const },
};

const jobFlags = {
  ...workspaceOption,
  ...bootstrapOption,
  ...securityOption,
  topic: { type: 'string' as const },
  output: { type: 'string' as const },
  window: { type: 'string' as const },
  'group-id': { type: 'string' as const },
  parallelism: { type: 'string' as const },
  'checkpoint-interval': { type: 'string' as const },
  'rest-port': { type: 'string' as const },
  detach: { type: 'boolean' as const },
  flink: { type: 'string' as const },
  'from-savepoint': { type: 'string' as const },
};

function restUrlOf(ctx: CliContext): string {
  const port = numberFlag(ctx, 'rest-port');
  if (port !== undefined) return `http://127.0.0.1:${port}`;
  return configOf(ctx).flinkRestUrl().value;
}

export const processCli: Record<string, CliCommand> = {
  generate: {
    usage:
      'pipeline generate [--rate EPS] [--count N | --duration S] [--sensors K] [--topic T] [--bootstrap-servers B] [--sasl-mechanism M --sasl-username U] [--tls] [--tls-ca-file FILE] [--allow-plaintext-sasl] [--late-fraction F] [--anomaly-fraction F] [--malformed-fraction F] [--manifest FILE] [--seed N] [--final-watermark]',
    summary: 'simulate IoT sensors into the topic (rate 0 = as fast as possible); Ctrl-C stops it',
    options: { ...generatorFlags, stop: { type: 'boolean' } },
    async run(ctx) {
      const generator = new PipelineProcess(ctx.workspace, 'generator');
      if (ctx.values.stop) {
        const result = await generator.stop(10_000);
        ctx.print(result === 'not-running' ? 'The generator was not running.' : `Generator ${result}.`);
        return 0;
      }
      const cluster = clusterOf(ctx);
      const options = generatorOptionsOf(ctx, cluster);
      const python = await ensurePythonEnv(ctx.progress);
      const partitions = configOf(ctx).partitions().value;
      try {
        if (
          await withTimeout(
            ensureTopic(options.bootstrapServers, options.topic, partitions, cluster.connection),
            15_000,
            `Kafka at ${options.bootstrapServers}`,
          )
        )
          ctx.progress(`Created topic ${options.topic} (${partitions} partitions).`);
      } catch (error) {
        throw new UserError(
          `Cannot reach Kafka at ${options.bootstrapServers} to prepare topic ${options.topic}: start it (\`pipeline stack up\`) or check the bootstrap servers. (${errorMessage(error)})`,
        );
      }
      return runForeground(generator, python, generatorArgs(options), ctx, cluster.childEnv);
    },
  },
  run: runCli,
  bench: benchCli,
  chaos: chaosCli,
  'job start': {
    usage:
      'pipeline job start [--topic T] [--output DIR] [--window SECONDS] [--group-id G] [--checkpoint-interval S] [--bootstrap-servers B] [--sasl-mechanism M --sasl-username U] [--tls] [--tls-ca-file FILE] [--allow-plaintext-sasl] [--flink URL|local-cluster|embedded] [--from-savepoint PATH|latest] [--detach]',
    summary:
      'run the PyFlink job (event-time windows, exactly-once files) on the local Flink session cluster (the default: started with its SQL Gateway when it does not run, Web UI on http://127.0.0.1:8081), in an embedded MiniCluster (--flink embedded), or on another session cluster (--flink URL); the setting kafkaFlinkLab.flink.target chooses too. It resumes from its latest checkpoint, or from a savepoint',
    options: jobFlags,
    async run(ctx) {
      return startJob(ctx, await prepareJob(ctx));
    },
  },
  'job replay': {
    usage:
      'pipeline job replay --from earliest|TIME|OFFSETS [--output DIR] [--window SECONDS] [--topic T] [--group-id G] [--flink URL] [--detach]',
    summary:
      're-run the history: stop the job, move its consumer group (earliest; TIME as ISO-8601 or epoch ms; OFFSETS as 0:120,1:98,…), start it with fresh state into a new output folder (default runs/<time>/ in the output folder)',
    options: { ...jobFlags, from: { type: 'string' } },
    async run(ctx) {
      const from = ctx.values.from as string | undefined;
      if (!from)
        throw new UserError(
          'Say where to replay from: --from earliest, --from 2026-12-04T10:00:00Z (or epoch ms), or --from 0:120,1:98,2:130.',
        );
      const start = parseReplayStart(from);
      const stamp = runStamp();
      const prepared = await prepareJob(ctx);
      const { options, cluster } = prepared;
      if (ctx.values.output === undefined) options.output = join(options.output, 'runs', stamp);
      const job = new PipelineProcess(ctx.workspace, 'job');
      if (job.running()) {
        ctx.progress('Stopping the running Flink job (its checkpoints stay with its own output folder)…');
        await job.stop();
      }
      const admin = new KafkaAdminClient(
        { bootstrapServers: parseBootstrapServers(options.bootstrapServers), ...cluster.connection },
        30_000,
      );
      try {
        const moved =
          start.kind === 'offsets'
            ? (
                await Promise.all(
                  start.offsets.map(([partition, offset]) =>
                    admin.resetGroupOffsets(options.groupId, options.topic, partition, { kind: 'offset', offset }),
                  ),
                )
              ).flat()
            : await admin.resetGroupOffsets(options.groupId, options.topic, 'all', start);
        ctx.progress(`Moved group ${options.groupId} on ${options.topic} to ${moved.map((p) => `${p.partition}:${p.offset}`).join(', ')}.`);
      } finally {
        await admin.close();
      }
      // A run of its own: fresh state (no earlier checkpoint), its own checkpoints, its own output folder.
      options.stateDir = resolve(stateRoot(ctx.workspace), 'flink', 'checkpoints', `${options.topic}-run-${stamp}`);
      options.noRestore = true;
      ctx.progress(`Replaying into ${options.output}.`);
      return startJob(ctx, prepared);
    },
  },
  'job stop': {
    usage: 'pipeline job stop [--savepoint]',
    summary:
      'stop the Flink job (interrupt, then kill after 30 s); its last checkpoint is kept for the next start. --savepoint: stop it with a savepoint in .pipeline/savepoints/<topic>/ (start from it with --from-savepoint latest)',
    options: { ...workspaceOption, savepoint: { type: 'boolean' } },
    async run(ctx) {
      const job = new PipelineProcess(ctx.workspace, 'job');
      const record = job.record();
      if (record && ctx.values.savepoint) {
        const restUrl = restUrlOfJob(record.args);
        const id = job.flinkJobId();
        const running = (await fetchJobsOverview(restUrl, 3000)).find((j) => j.jid === id && j.state === 'RUNNING');
        if (!running)
          throw new UserError(
            `The Flink job at ${restUrl} is not RUNNING: there is nothing to take a savepoint of (\`pipeline job stop\` stops it without one).`,
          );
        const topic = argOf(record.args, '--topic') ?? 'sensor-data';
        // A cluster elsewhere writes to its own state.savepoints.dir; a local one into the workspace.
        const local = !argOf(record.args, '--flink') || argOf(record.args, '--flink') === clusterRestUrl();
        ctx.progress(`Stopping job ${running.jid} with a savepoint…`);
        const location = (await stopWithSavepoint(restUrl, running.jid, local ? savepointDirOf(ctx.workspace, topic) : undefined)).replace(
          /^file:/,
          '',
        );
        // The job FINISHes; its process notices and exits (what is left of it is stopped below).
        await pollUntil(async () => (job.running() ? undefined : true), 60_000, 250);
        await job.stop();
        ctx.print(`Flink job stopped with a savepoint: ${location} (start from it with \`pipeline job start --from-savepoint latest\`).`);
        return 0;
      }
      const result = await job.stop();
      ctx.print(result === 'not-running' ? 'The Flink job was not running.' : `Flink job ${result}.`);
      return 0;
    },
  },
  'job status': {
    usage: 'pipeline job status [--json] [--rest-port P]',
    summary: "the Flink job's process, its state from Flink's REST API (embedded or on a cluster), its retained checkpoints and savepoints",
    options: { ...workspaceOption, json: { type: 'boolean' }, 'rest-port': { type: 'string' }, topic: { type: 'string' } },
    async run(ctx) {
      const process = new PipelineProcess(ctx.workspace, 'job');
      const record = process.record();
      const restUrl = record && ctx.values['rest-port'] === undefined ? restUrlOfJob(record.args) : restUrlOf(ctx);
      const onCluster = record ? argOf(record.args, '--flink') !== undefined : false;
      let jobs: FlinkJobSummary[] = [];
      let rest = 'not reachable';
      try {
        jobs = await fetchJobsOverview(restUrl, 2000);
        // A session cluster runs other jobs too (SQL statements, an INSERT's job): show ours, by the id its process
        // recorded, else by the name the pipeline job gives itself.
        const id = process.flinkJobId();
        jobs = onCluster && id ? jobs.filter((j) => j.jid === id) : jobs.filter((j) => isPipelineJobName(j.name));
        rest = 'ok';
      } catch {
        /* stopped, or the cluster is gone */
      }
      const state = jobs.find((j) => j.state === 'RUNNING')
        ? 'running'
        : record
          ? onCluster && rest !== 'ok'
            ? 'cluster-down'
            : 'starting'
          : jobs.some((j) => j.state === 'FAILED')
            ? 'failed'
            : 'stopped';
      const topic = record ? (argOf(record.args, '--topic') ?? topicOf(ctx)) : topicOf(ctx);
      const stateDir = record ? argOf(record.args, '--state-dir') : undefined;
      const checkpoints = listCheckpoints(stateDir ?? resolve(stateRoot(ctx.workspace), 'flink', 'checkpoints', topic));
      const savepoints = listSavepoints(savepointDirOf(ctx.workspace, topic));
      if (ctx.values.json) {
        ctx.print(
          JSON.stringify(
            { state, pid: record?.pid, restUrl, rest, cluster: onCluster ? restUrl : undefined, jobs, checkpoints, savepoints },
            null,
            2,
          ),
        );
        return state === 'running' ? 0 : 3;
      }
      if (state === 'cluster-down') {
        ctx.print(
          `Flink job: WAITING — the JobManager at ${restUrl} does not answer; \`pipeline flink up\` brings the cluster back and the job resumes from its last checkpoint.`,
        );
        return 3;
      }
      ctx.print(`Flink job: ${state.toUpperCase()}${record ? ` (pid ${record.pid})` : ''}${onCluster ? ` on the cluster ${restUrl}` : ''}`);
      ctx.print(`  REST:  ${restUrl} (${rest})`);
      for (const j of jobs) ctx.print(`  ${j.jid} ${j.state} ${j.name}`);
      const when = (at: number) => new Date(at).toISOString().replace('T', ' ').slice(0, 19);
      ctx.print(
        checkpoints.length
          ? `  checkpoints: ${checkpoints
              .slice(0, 3)
              .map((c) => `${c.path} (${when(c.at)})`)
              .join(', ')}`
          : '  checkpoints: none yet',
      );
      ctx.print(
        savepoints.length
          ? `  savepoints:  ${savepoints.map((c) => `${c.path} (${when(c.at)})`).join(', ')}`
          : '  savepoints:  none (`pipeline job stop --savepoint` takes one)',
      );
      return state === 'running' ? 0 : 3;
    },
  },
};

export { generatorFlags, jobFlags };
