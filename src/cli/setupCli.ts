// `pipeline setup`: every engine download and build, Maven's beside the Python environment's, with a table of the seconds each step took.
import { checkJava, checkMaven, checkPython } from '../local/environment';
import { UserError } from '../shared/errors';
import { type ArchivePolicy, ensureFlinkRuntime } from '../local/flinkRuntime';
import {
  ensureConnectorJar,
  ensureJobLib,
  ensureKafkaJars,
  ensureKafkaTools,
  ensurePlannerJar,
  ensureSqlGatewayJar,
} from '../local/install';
import { ensurePythonEnv } from '../local/pythonEnv';
import { FLINK_VERSION, KAFKA_VERSION } from '../local/versions';
import { workspaceOption, type CliCommand } from './context';

export interface StepTime {
  step: string;
  /** Seconds after the timer's start at which the step began: overlapping steps ran side by side. */
  startedAt: number;
  seconds: number;
}

const tenths = (ms: number) => Math.round(ms / 100) / 10;

/** Times each step it runs; the steps may overlap, so their seconds can add up to more than the wall time. */
export class StepTimer {
  readonly steps: StepTime[] = [];
  private readonly origin = Date.now();

  async time<T>(step: string, work: () => Promise<T>): Promise<T> {
    const started = Date.now();
    try {
      return await work();
    } finally {
      this.steps.push({ step, startedAt: tenths(started - this.origin), seconds: tenths(Date.now() - started) });
    }
  }
}

/** "  Kafka jars   from 0.0 s   5.7 s" lines, in the order the steps began. */
export function stepTable(steps: StepTime[]): string[] {
  const width = Math.max(...steps.map((s) => s.step.length), 4);
  return [...steps]
    .sort((a, b) => a.startedAt - b.startedAt)
    .map((s) => `  ${s.step.padEnd(width)}  from ${s.startedAt.toFixed(1).padStart(5)} s  ${s.seconds.toFixed(1).padStart(6)} s`);
}

function archivePolicy(value: unknown): ArchivePolicy {
  if (value === undefined) return 'now';
  if (value === 'now' || value === 'background' || value === 'skip') return value;
  throw new UserError(`--archive takes now, background or skip (got "${String(value)}").`);
}

/**
 * Runs the independent chains side by side and, when one fails, stops the others (their downloads are killed and
 * leave nothing half-made), then reports the first failure.
 */
async function sideBySide<A, B>(
  signal: AbortSignal,
  a: (signal: AbortSignal) => Promise<A>,
  b: (signal: AbortSignal) => Promise<B>,
): Promise<[A, B]> {
  const both = new AbortController();
  const abort = () => both.abort();
  signal.addEventListener('abort', abort, { once: true });
  const stopOthersOnFailure = <T>(work: Promise<T>) =>
    work.catch((error: unknown) => {
      both.abort();
      throw error;
    });
  try {
    const results = await Promise.allSettled([stopOthersOnFailure(a(both.signal)), stopOthersOnFailure(b(both.signal))]);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    return [(results[0] as PromiseFulfilledResult<A>).value, (results[1] as PromiseFulfilledResult<B>).value];
  } finally {
    signal.removeEventListener('abort', abort);
  }
}

export const setupCli: Record<string, CliCommand> = {
  setup: {
    usage: 'pipeline setup [--archive now|background|skip] [--json]',
    summary:
      "download and prepare everything once (Maven's downloads beside the Python environment's): Kafka jars and perf tools, the Flink Kafka connector, the SQL planner and SQL Gateway, the job library (built with Maven), the PyFlink virtual environment, the Flink runtime; --archive: record its start-up class archive now (default), in the background, or not yet",
    options: { ...workspaceOption, json: { type: 'boolean' }, archive: { type: 'string' } },
    async run(ctx) {
      const started = Date.now();
      const archive = archivePolicy(ctx.values.archive);
      // Check every prerequisite before downloading anything, so a missing one is reported at once.
      await checkJava();
      await checkPython();
      await checkMaven();
      const timer = new StepTimer();
      const env = process.env;
      const [maven, python] = await sideBySide(
        ctx.signal,
        // Maven runs take turns (they share ~/.m2), so its steps form one chain beside the Python environment.
        async (signal) => ({
          kafka: await timer.time('Kafka jars', () => ensureKafkaJars(ctx.progress, env, signal)),
          kafkaTools: await timer.time('Kafka perf tools', () => ensureKafkaTools(ctx.progress, env, signal)),
          connectorJar: await timer.time('Flink Kafka connector', () => ensureConnectorJar(ctx.progress, env, signal)),
          plannerJar: await timer.time('Flink SQL planner', () => ensurePlannerJar(ctx.progress, env, signal)),
          sqlGatewayJar: await timer.time('Flink SQL Gateway', () => ensureSqlGatewayJar(ctx.progress, env, signal)),
          jobLibJar: await timer.time('job library (Maven build)', () => ensureJobLib(ctx.progress, env, signal)),
        }),
        (signal) => timer.time('PyFlink virtual environment', () => ensurePythonEnv(ctx.progress, env, signal)),
      );
      const runtimeDir = await timer.time(archive === 'now' ? 'Flink runtime and start-up archive' : 'Flink runtime', () =>
        ensureFlinkRuntime(python, maven.plannerJar, maven, ctx.progress, env, { archive, signal: ctx.signal }),
      );
      if (ctx.signal.aborted) throw new UserError('Interrupted; run `pipeline setup` again to finish.');
      const seconds = Math.round((Date.now() - started) / 100) / 10;
      if (ctx.values.json) {
        ctx.print(
          JSON.stringify({
            kafkaLibs: maven.kafka,
            kafkaTools: maven.kafkaTools,
            connectorJar: maven.connectorJar,
            jobLibJar: maven.jobLibJar,
            sqlGatewayJar: maven.sqlGatewayJar,
            flinkRuntime: runtimeDir,
            python,
            kafkaVersion: KAFKA_VERSION,
            flinkVersion: FLINK_VERSION,
            seconds,
            steps: timer.steps,
          }),
        );
        return 0;
      }
      ctx.print(`Ready in ${seconds.toFixed(1)} s. Steps (Maven's beside the Python environment's):`);
      for (const line of stepTable(timer.steps)) ctx.print(line);
      ctx.print(`  Kafka ${KAFKA_VERSION} jars:  ${maven.kafka}`);
      ctx.print(`  Kafka perf tools:     ${maven.kafkaTools}`);
      ctx.print(`  Flink connector:      ${maven.connectorJar}`);
      ctx.print(`  Job library:          ${maven.jobLibJar}`);
      ctx.print(`  Flink SQL Gateway:    ${maven.sqlGatewayJar}`);
      ctx.print(`  Flink runtime:        ${runtimeDir}`);
      ctx.print(`  Python (PyFlink ${FLINK_VERSION}): ${python}`);
      return 0;
    },
  },
};
