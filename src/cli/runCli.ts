// `pipeline run`: headless end to end (stack, topic, job, generator), then verify and a summary.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../shared/errors';
import { runStamp } from '../shared/format';
import { ensureJobRuntime } from '../local/flinkRuntime';
import { ensurePythonEnv } from '../local/pythonEnv';
import { ensureTopic } from '../kafka/kafkaClient';
import { stateRoot } from '../config/paths';
import { ensureRestPortFree, generatorArgs, jobArgs, PipelineProcess, waitForJobRunning } from '../local/pipelineProcesses';
import { sleep } from '../local/proc';
import { bootstrapFor, LocalStack } from '../local/stack';
import { MAX_SENSORS, validatePositiveInt, validateTopicName } from '../config/validation';
import { ResultsStore } from '../results';
import { configOf, numberFlag, workspaceOption, type CliCommand, type CliContext } from './context';
import { formatResultTable } from './resultsCli';

/** Events accounted for so far: aggregated in a committed window, or committed to the dead-letter output. */
const ACCOUNTED_SQL = 'SELECT (SELECT coalesce(sum(event_count), 0) FROM aggregates) + (SELECT count(*) FROM dead_letter)';

const SUMMARY_SQL = `
SELECT a.sensor_id AS sensor,
       sum(a.event_count)::BIGINT AS events,
       count(*)::BIGINT AS windows,
       round(sum(a.avg_temperature * a.event_count) / sum(a.event_count), 2) AS mean_temperature,
       sum(a.anomaly_count)::BIGINT AS anomalies
FROM aggregates a GROUP BY a.sensor_id ORDER BY a.sensor_id`;

/**
 * Waits until every generated event is accounted for in committed files (aggregated or dead-lettered), with
 * progress; gives up when nothing new is committed for `stallMs` or the deadline passes.
 */
/** Events accounted for in the committed files so far: aggregated (their event_count) plus dead-lettered. */
export async function committedEvents(store: ResultsStore): Promise<number> {
  await store.refresh();
  const result = await store.query(ACCOUNTED_SQL);
  return Number(result.rows[0]?.[0] ?? 0);
}

export async function waitForCommitted(
  store: ResultsStore,
  expected: number,
  ctx: Pick<CliContext, 'signal' | 'progress'>,
  stallMs: number,
  deadlineMs: number,
): Promise<number> {
  let last = -1;
  let lastChange = Date.now();
  let lastPrint = 0;
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    if (ctx.signal.aborted) throw new UserError('Interrupted.');
    const counted = await committedEvents(store);
    if (counted !== last) {
      last = counted;
      lastChange = Date.now();
    }
    if (Date.now() - lastPrint > 3000 || counted >= expected) {
      ctx.progress(
        `  committed: ${counted.toLocaleString('en-US')} of ${expected.toLocaleString('en-US')} events (aggregated + dead-letter)`,
      );
      lastPrint = Date.now();
    }
    if (counted >= expected) return counted;
    if (Date.now() - lastChange > stallMs || Date.now() > deadline) return counted;
    await sleep(1000);
  }
}

export const runCli: CliCommand = {
  usage:
    'pipeline run --events N [--topic T] [--output DIR] [--window S] [--sensors K] [--malformed-fraction F] [--late-fraction F] [--checkpoint-interval S] [--rest-port P] [--keep-stack]',
  summary:
    'headless end to end: stack, fresh topic, Flink job, N events, wait for the last committed windows, verify exactly-once, summary',
  options: {
    ...workspaceOption,
    events: { type: 'string' },
    topic: { type: 'string' },
    output: { type: 'string' },
    window: { type: 'string' },
    sensors: { type: 'string' },
    'malformed-fraction': { type: 'string' },
    'late-fraction': { type: 'string' },
    'checkpoint-interval': { type: 'string' },
    'keep-stack': { type: 'boolean' },
    'rest-port': { type: 'string' },
  },
  async run(ctx) {
    const events = numberFlag(ctx, 'events');
    const invalid =
      events === undefined ? 'Say how many events to send: pipeline run --events N.' : validatePositiveInt(events, '--events');
    if (invalid) throw new UserError(invalid);
    const stamp = runStamp();
    const topic = (ctx.values.topic as string | undefined) ?? `sensor-run-${stamp}`;
    const topicProblem = validateTopicName(topic);
    if (topicProblem) throw new UserError(topicProblem);
    // Each run has a folder of its own in the output folder, unless --output names one.
    const outputFolder = configOf(ctx).outputFolder();
    const output = outputFolder.origin === 'flag' ? outputFolder.value : join(outputFolder.value, `run-${stamp}`);
    const windowSeconds = numberFlag(ctx, 'window', 10)!;
    const checkpointSeconds = numberFlag(ctx, 'checkpoint-interval', 5)!;
    const restPort = numberFlag(ctx, 'rest-port', 8081)!;
    const sensors = numberFlag(ctx, 'sensors', 10)!;
    const sensorsProblem = validatePositiveInt(sensors, '--sensors', MAX_SENSORS);
    if (sensorsProblem) throw new UserError(sensorsProblem);
    const started = Date.now();

    const stack = new LocalStack(ctx.workspace);
    const job = new PipelineProcess(ctx.workspace, 'job');
    const generator = new PipelineProcess(ctx.workspace, 'generator');
    let startedStack = false;
    const cleanup = async () => {
      await generator.stop(5000);
      await job.stop(30_000);
      if (startedStack && !ctx.values['keep-stack']) await stack.down({ progress: ctx.progress });
    };
    try {
      ctx.progress(`[1/6] Local Kafka…`);
      const up = await stack.up({ progress: ctx.progress });
      startedStack = !up.alreadyRunning;
      const bootstrap = bootstrapFor(stack.runningMode() ?? 'single');
      ctx.progress(`[2/6] Topic ${topic} (3 partitions), output ${output}`);
      await ensureTopic(bootstrap, topic, 3);
      mkdirSync(output, { recursive: true });
      const python = await ensurePythonEnv(ctx.progress);
      const jars = await ensureJobRuntime(python, ctx.progress);

      ctx.progress(`[3/6] Starting the Flink job (window ${windowSeconds} s, checkpoints every ${checkpointSeconds} s)…`);
      await ensureRestPortFree(restPort);
      const stateDir = join(stateRoot(ctx.workspace), 'flink', 'checkpoints', `${topic}-${stamp}`);
      job.start(
        python,
        jobArgs({
          bootstrapServers: bootstrap,
          topic,
          output,
          windowSeconds,
          groupId: 'flink-sensor-processor',
          checkpointSeconds,
          jars,
          stateDir,
          restPort,
        }),
        { background: true, cwd: ctx.workspace },
      );
      await waitForJobRunning(`http://127.0.0.1:${restPort}`, job, 180_000);

      ctx.progress(`[4/6] Generating ${events!.toLocaleString('en-US')} events as fast as possible…`);
      const manifest = join(stateRoot(ctx.workspace), 'runs', `${stamp}-manifest.json`);
      mkdirSync(join(stateRoot(ctx.workspace), 'runs'), { recursive: true });
      const gen = generator.start(
        python,
        generatorArgs({
          bootstrapServers: bootstrap,
          topic,
          rate: 0,
          count: events,
          sensors,
          malformedFraction: numberFlag(ctx, 'malformed-fraction'),
          lateFraction: numberFlag(ctx, 'late-fraction'),
          manifest,
          finalWatermark: true,
        }),
        { background: false, cwd: ctx.workspace },
      );
      const onAbort = () => void generator.stop(5000);
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      const genCode = await gen.exited;
      ctx.signal.removeEventListener('abort', onAbort);
      if (ctx.signal.aborted) throw new UserError('Interrupted; everything this run started was stopped.');
      if (genCode !== 0) throw new UserError(`The generator failed (exit ${genCode}); see its output above.`);

      ctx.progress(`[5/6] Waiting for the last windows to be committed (checkpoints every ${checkpointSeconds} s)…`);
      const store = await ResultsStore.open(output);
      try {
        const stallMs = Math.max(60_000, checkpointSeconds * 6000);
        await waitForCommitted(store, events!, ctx, stallMs, 30 * 60_000);
        if (!job.running()) ctx.progress(`  note: the Flink job is no longer running; see ${job.logFile}`);
        await job.stop(30_000);
        // Nothing commits any more: read the final files (the last check may have caught the CSV sink's commit of a
        // checkpoint before the JSON sink's).
        await store.refresh();

        ctx.progress(`[6/6] Verifying exactly-once over ${output}…`);
        const report = await store.verify(events);
        const summary = await store.query(SUMMARY_SQL);
        ctx.print('');
        for (const line of formatResultTable(summary.columns, summary.rows)) ctx.print(line);
        ctx.print('');
        ctx.print(
          `events sent ${events} · aggregated ${report.eventCountSum} · dead-letter ${report.deadLetterRows} · windows ${report.aggregateRows} · CSV rows ${report.csvRows} · JSON rows ${report.jsonRows} · duplicates ${report.duplicateWindows.length}`,
        );
        ctx.print(`run took ${((Date.now() - started) / 1000).toFixed(1)} s; outputs in ${output}`);
        if (!report.ok) {
          for (const problem of report.problems) ctx.print(`  ✗ ${problem}`);
          ctx.print('VERIFY FAILED: not every event was counted exactly once.');
          return 1;
        }
        ctx.print('VERIFY OK: every event counted exactly once.');
        return 0;
      } finally {
        store.close();
      }
    } finally {
      await cleanup();
    }
  },
};
