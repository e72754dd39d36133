// `pipeline generate` and `pipeline job start|stop|status`: the generator and the Flink job as processes (with run and bench in the table).
import { resolve } from 'node:path';
import { errorMessage, UserError, withTimeout } from '../core/errors';
import { ensureTopic } from '../core/kafkaClient';
import { DEFAULT_FLINK_REST, fetchJobsOverview, type FlinkJobSummary } from '../core/flinkRest';
import { ensureFlinkJars, ensurePythonEnv, type FlinkJars } from '../core/install';
import { stateRoot } from '../core/paths';
import {
  DEFAULT_GROUP_ID,
  DEFAULT_REST_PORT,
  defaultOutputDir,
  ensureRestPortFree,
  generatorArgs,
  jobArgs,
  PipelineProcess,
  savepointDirOf,
  waitForJobRunning,
  type GeneratorOptions,
  type JobOptions,
} from '../core/pipelineProcesses';
import { validateNonNegativeNumber, validatePositiveInt, validateTopicName } from '../core/validation';
import { readWorkspaceSetting } from '../core/workspaceSettings';
import { benchCli } from './bench/benchCli';
import { runCli } from './runCli';
import { bootstrapOf, bootstrapOption, numberFlag, workspaceOption, type CliCommand, type CliContext } from './context';

export function topicOf(ctx: CliContext): string {
  const topic = (ctx.values.topic as string | undefined) ?? readWorkspaceSetting<string>(ctx.workspace, 'topic') ?? 'sensor-data';
  const invalid = validateTopicName(topic);
  if (invalid) throw new UserError(invalid);
  return topic;
}

export function outputOf(ctx: CliContext): string {
  const configured = (ctx.values.output as string | undefined) ?? readWorkspaceSetting<string>(ctx.workspace, 'outputFolder');
  return configured ? resolve(ctx.workspace, configured) : defaultOutputDir(ctx.workspace);
}

function checkedNumber(ctx: CliContext, name: string, check: (v: number) => string | undefined): number | undefined {
  const value = numberFlag(ctx, name);
  if (value === undefined) return undefined;
  const invalid = check(value);
  if (invalid) throw new UserError(invalid);
  return value;
}

const fraction = (name: string) => (v: number) => (v < 0 || v > 1 ? `--${name} must be between 0 and 1.` : undefined);

export function generatorOptionsOf(ctx: CliContext): GeneratorOptions {
  const count = checkedNumber(ctx, 'count', (v) => validatePositiveInt(v, '--count'));
  const durationSeconds = checkedNumber(ctx, 'duration', (v) => (v > 0 ? undefined : '--duration must be more than 0 seconds.'));
  if (count !== undefined && durationSeconds !== undefined) throw new UserError('Give either --count or --duration, not both.');
  return {
    bootstrapServers: bootstrapOf(ctx),
    topic: topicOf(ctx),
    rate: checkedNumber(ctx, 'rate', (v) => validateNonNegativeNumber(v, '--rate')) ?? readWorkspaceSetting<number>(ctx.workspace, 'generator.rate') ?? 100,
    count,
    durationSeconds,
    sensors: checkedNumber(ctx, 'sensors', (v) => validatePositiveInt(v, '--sensors', 10_000)) ?? readWorkspaceSetting<number>(ctx.workspace, 'generator.sensors') ?? 10,
    lateFraction: checkedNumber(ctx, 'late-fraction', fraction('late-fraction')),
    anomalyFraction: checkedNumber(ctx, 'anomaly-fraction', fraction('anomaly-fraction')),
    malformedFraction: checkedNumber(ctx, 'malformed-fraction', fraction('malformed-fraction')),
    manifest: ctx.values.manifest as string | undefined,
    seed: numberFlag(ctx, 'seed'),
    finalWatermark: ctx.values['final-watermark'] === true,
  };
}

export async function jobOptionsOf(ctx: CliContext, jars: FlinkJars): Promise<JobOptions> {
  const topic = topicOf(ctx);
  const restPort = checkedNumber(ctx, 'rest-port', (v) => validatePositiveInt(v, '--rest-port', 65535)) ?? DEFAULT_REST_PORT;
  return {
    bootstrapServers: bootstrapOf(ctx),
    topic,
    output: outputOf(ctx),
    windowSeconds: checkedNumber(ctx, 'window', (v) => validatePositiveInt(v, '--window', 86_400)) ?? readWorkspaceSetting<number>(ctx.workspace, 'windowSeconds') ?? 10,
    groupId: (ctx.values['group-id'] as string | undefined) ?? DEFAULT_GROUP_ID,
    checkpointSeconds: checkedNumber(ctx, 'checkpoint-interval', (v) => (v > 0 ? undefined : '--checkpoint-interval must be more than 0 seconds.')),
    jars,
    stateDir: resolve(stateRoot(ctx.workspace), 'flink', 'checkpoints', topic),
    savepointDir: savepointDirOf(ctx.workspace, topic),
    restPort,
  };
}

/** Runs a pipeline process in the foreground, forwarding Ctrl-C (and a closed terminal) to its process group. */
async function runForeground(process: PipelineProcess, python: string, args: string[], ctx: CliContext): Promise<number> {
  const { exited } = process.start(python, args, { background: false, cwd: ctx.workspace });
  const onAbort = () => void process.stop(15_000);
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  const onHangup = () => void process.stop(5_000);
  globalThis.process.once('SIGHUP', onHangup);
  try {
    return await exited;
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
    globalThis.process.off('SIGHUP', onHangup);
  }
}

const generatorFlags = {
  ...workspaceOption,
  ...bootstrapOption,
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
  topic: { type: 'string' as const },
  output: { type: 'string' as const },
  window: { type: 'string' as const },
  'group-id': { type: 'string' as const },
  'checkpoint-interval': { type: 'string' as const },
  'rest-port': { type: 'string' as const },
  detach: { type: 'boolean' as const },
};

function restUrlOf(ctx: CliContext): string {
  const port = numberFlag(ctx, 'rest-port');
  if (port !== undefined) return `http://127.0.0.1:${port}`;
  return readWorkspaceSetting<string>(ctx.workspace, 'flinkRestUrl') ?? DEFAULT_FLINK_REST;
}

export const processCli: Record<string, CliCommand> = {
  generate: {
    usage: 'pipeline generate [--rate EPS] [--count N | --duration S] [--sensors K] [--topic T] [--bootstrap-servers B] [--late-fraction F] [--anomaly-fraction F] [--malformed-fraction F] [--manifest FILE] [--seed N] [--final-watermark]',
    summary: 'simulate IoT sensors into the topic (rate 0 = as fast as possible); Ctrl-C stops it',
    options: { ...generatorFlags, stop: { type: 'boolean' } },
    async run(ctx) {
      const generator = new PipelineProcess(ctx.workspace, 'generator');
      if (ctx.values.stop) {
        const result = await generator.stop(10_000);
        ctx.print(result === 'not-running' ? 'The generator was not running.' : `Generator ${result}.`);
        return 0;
      }
      const options = generatorOptionsOf(ctx);
      const python = await ensurePythonEnv(ctx.progress);
      const partitions = readWorkspaceSetting<number>(ctx.workspace, 'partitions') ?? 3;
      try {
        if (await withTimeout(ensureTopic(options.bootstrapServers, options.topic, partitions), 15_000, `Kafka at ${options.bootstrapServers}`)) ctx.progress(`Created topic ${options.topic} (${partitions} partitions).`);
      } catch (error) {
        throw new UserError(`Cannot reach Kafka at ${options.bootstrapServers} to prepare topic ${options.topic}: start it (\`pipeline stack up\`) or check the bootstrap servers. (${errorMessage(error)})`);
      }
      return runForeground(generator, python, generatorArgs(options), ctx);
    },
  },
  run: runCli,
  bench: benchCli,
  'job start': {
    usage: 'pipeline job start [--topic T] [--output DIR] [--window SECONDS] [--group-id G] [--checkpoint-interval S] [--bootstrap-servers B] [--detach]',
    summary: 'run the PyFlink job (event-time windows, exactly-once files); Web UI on http://127.0.0.1:8081',
    options: jobFlags,
    async run(ctx) {
      const job = new PipelineProcess(ctx.workspace, 'job');
      const python = await ensurePythonEnv(ctx.progress);
      const options = await jobOptionsOf(ctx, await ensureFlinkJars(ctx.progress));
      if (job.running()) throw new UserError(`The Flink job is already running (pid ${job.record()!.pid}): stop it with \`pipeline job stop\` first.`);
      await ensureRestPortFree(options.restPort);
      ctx.progress(`Starting the Flink job on ${options.topic} → ${options.output} (window ${options.windowSeconds} s, group ${options.groupId})…`);
      if (!ctx.values.detach) return runForeground(job, python, jobArgs(options), ctx);
      job.start(python, jobArgs(options), { background: true, cwd: ctx.workspace });
      const running = await waitForJobRunning(`http://127.0.0.1:${options.restPort}`, job, 180_000);
      ctx.print(`Flink job ${running.jid} is RUNNING (log ${job.logFile}); Web UI http://127.0.0.1:${options.restPort}.`);
      return 0;
    },
  },
  'job stop': {
    usage: 'pipeline job stop',
    summary: 'stop the Flink job (interrupt, then kill after 30 s); its last checkpoint is kept for the next start',
    options: { ...workspaceOption },
    async run(ctx) {
      const result = await new PipelineProcess(ctx.workspace, 'job').stop();
      ctx.print(result === 'not-running' ? 'The Flink job was not running.' : `Flink job ${result}.`);
      return 0;
    },
  },
  'job status': {
    usage: 'pipeline job status [--json] [--rest-port P]',
    summary: "the Flink job's process and its state from Flink's REST API",
    options: { ...workspaceOption, json: { type: 'boolean' }, 'rest-port': { type: 'string' } },
    async run(ctx) {
      const record = new PipelineProcess(ctx.workspace, 'job').record();
      const restUrl = restUrlOf(ctx);
      let jobs: FlinkJobSummary[] = [];
      let rest = 'not reachable';
      try {
        jobs = await fetchJobsOverview(restUrl, 2000);
        rest = 'ok';
      } catch {
        /* stopped */
      }
      const state = jobs.find((j) => j.state === 'RUNNING') ? 'running' : record ? 'starting' : jobs.some((j) => j.state === 'FAILED') ? 'failed' : 'stopped';
      if (ctx.values.json) ctx.print(JSON.stringify({ state, pid: record?.pid, restUrl, rest, jobs }, null, 2));
      else {
        ctx.print(`Flink job: ${state.toUpperCase()}${record ? ` (pid ${record.pid})` : ''}`);
        ctx.print(`  REST:  ${restUrl} (${rest})`);
        for (const j of jobs) ctx.print(`  ${j.jid} ${j.state} ${j.name}`);
      }
      return state === 'running' ? 0 : 3;
    },
  },
};

export { generatorFlags, jobFlags };
