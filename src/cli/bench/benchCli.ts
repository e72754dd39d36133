// `pipeline bench`: the benchmark sections (broker, generator, job, latency, sql, tree, results, webview) and their report.
import { DuckDBInstance } from '@duckdb/node-api';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../../shared/errors';
import { ensureJobRuntime } from '../../local/flinkRuntime';
import { ensurePythonEnv } from '../../local/pythonEnv';
import { ensureTopic, parseBootstrapServers } from '../../kafka/kafkaClient';
import { projectRoot, stateRoot } from '../../config/paths';
import {
  ensureRestPortFree,
  generatorArgs,
  jobArgs,
  PipelineProcess,
  waitForJobRunning,
  type GeneratorOptions,
} from '../../local/pipelineProcesses';
import { processGroupRss, runCommand, samplePeak } from '../../local/proc';
import { bootstrapFor, LocalStack } from '../../local/stack';
import { KafkaAdminClient } from '../../kafka/kafkaAdmin';
import { ResultsStore } from '../../results';
import { benchSql } from './sqlBench';
import { benchJob } from './jobBench';
import { benchBrowse } from './browseBench';
import { percentile, SECTIONS, type Figure, type Section } from './figures';
import { benchResults, generateAggregates } from './resultsBench';
import { numberFlag, workspaceOption, type CliCommand } from '../context';
import { waitForCommitted } from '../runCli';
import { runStamp } from '../../shared/format';

const MB = 1024 * 1024;

const formatValue = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(2));

/** Runs the generator to completion in the background and returns its own reported rate and its peak RSS. */
async function runGenerator(
  workspace: string,
  python: string,
  options: GeneratorOptions,
): Promise<{ seconds: number; reportedRate?: number; peakRss: number }> {
  const generator = new PipelineProcess(workspace, 'generator');
  const started = performance.now();
  const { child, exited } = generator.start(python, generatorArgs({ ...options, quiet: true }), { background: true, cwd: workspace });
  const sampler = samplePeak(() => processGroupRss(child.pid!));
  const code = await exited;
  const peakRss = sampler.stop();
  const seconds = (performance.now() - started) / 1000;
  if (code !== 0) throw new UserError(`The generator failed during the benchmark (exit ${code}): see ${generator.logFile}.`);
  const log = readFileSync(generator.logFile, 'utf8');
  const rate = /rate=([\d.]+)\/s\s*$/m.exec(
    log
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('done:'))
      .pop() ?? '',
  );
  return { seconds, reportedRate: rate ? Number(rate[1]) : undefined, peakRss };
}

export const benchCli: CliCommand = {
  usage:
    'pipeline bench [--only broker,generator,job,latency,sql,tree,browse,results,webview] [--events N] [--latency-seconds S] [--latency-rate EPS] [--rows N]',
  summary:
    'measure broker start, generator events/s, job sustained events/s, event-time → committed latency, memory, Flink SQL through the SQL Gateway (first row, a bounded GROUP BY, its memory), the Kafka view over 1,000 topics, the message browser’s seek and filtered scan of N events beside kcat and ConsumerPerformance, the results webview itself in code-server + Chromium, the results view over N rows vs pandas; writes .pipeline/bench/*.json',
  options: {
    ...workspaceOption,
    only: { type: 'string' },
    events: { type: 'string' },
    'latency-seconds': { type: 'string' },
    'latency-rate': { type: 'string' },
    rows: { type: 'string' },
  },
  async run(ctx) {
    const only = ((ctx.values.only as string | undefined)?.split(',').map((s) => s.trim()) ?? [...SECTIONS]) as Section[];
    const unknown = only.filter((s) => !SECTIONS.includes(s));
    if (unknown.length) throw new UserError(`Unknown benchmark section ${unknown.join(', ')}: use ${SECTIONS.join(', ')}.`);
    const events = numberFlag(ctx, 'events', 1_000_000)!;
    const latencySeconds = numberFlag(ctx, 'latency-seconds', 60)!;
    const latencyRate = numberFlag(ctx, 'latency-rate', 2000)!;
    const resultRows = numberFlag(ctx, 'rows', 1_000_000)!;
    const figures: Figure[] = [];
    const add = (f: Figure) => {
      figures.push(f);
      ctx.progress(`  ${f.section}: ${f.name} = ${formatValue(f.value)} ${f.unit}${f.note ? ` (${f.note})` : ''}`);
    };
    const stamp = runStamp();
    const python = await ensurePythonEnv(ctx.progress);
    const needsStack = only.some((s) => s !== 'results' && s !== 'webview');
    if (needsStack && new LocalStack(ctx.workspace).runningMode()) {
      throw new UserError(
        'The local Kafka stack of this workspace is running: stop it (`pipeline stack down`) so the benchmark can start its own on the same ports.',
      );
    }
    if (needsStack) {
      // A workspace of its own, so the benchmark never touches the user's broker data or outputs.
      const workspace = mkdtempSync(join(tmpdir(), 'kfl-bench-'));
      const stack = new LocalStack(workspace);
      const job = new PipelineProcess(workspace, 'job');
      try {
        ctx.progress(`Benchmark workspace ${workspace}`);
        const jars = await ensureJobRuntime(python, ctx.progress);

        ctx.progress('[broker] first start (format + start), then a warm restart…');
        const first = await stack.up({ progress: () => undefined });
        add({ section: 'broker', name: 'first start (format, start, create topics)', value: first.elapsedMs / 1000, unit: 's' });
        await stack.down({ progress: () => undefined });
        const warm = await stack.up({ progress: () => undefined });
        add({ section: 'broker', name: 'warm start', value: warm.elapsedMs / 1000, unit: 's' });
        const brokerPid = stack.nodePid('single', 1)!;
        add({
          section: 'broker',
          name: 'RSS after start',
          value: processGroupRss(brokerPid) / MB,
          unit: 'MB',
          note: 'heap capped at -Xmx512m',
        });
        const bootstrap = bootstrapFor('single');

        if (only.includes('generator')) {
          const topic = `bench-gen-${stamp}`;
          await ensureTopic(bootstrap, topic, 3);
          ctx.progress(`[generator] ${events.toLocaleString('en-US')} events at rate 0, alone…`);
          const gen = await runGenerator(workspace, python, { bootstrapServers: bootstrap, topic, rate: 0, count: events, sensors: 10 });
          add({
            section: 'generator',
            name: 'events/s alone (its own count, send to acked)',
            value: gen.reportedRate ?? events / gen.seconds,
            unit: 'events/s',
          });
          add({
            section: 'generator',
            name: 'events/s alone (process wall time incl. start-up)',
            value: events / gen.seconds,
            unit: 'events/s',
          });
          add({ section: 'generator', name: 'peak RSS', value: gen.peakRss / MB, unit: 'MB' });
        }

        if (only.includes('job')) {
          await benchJob({
            ctx,
            workspace,
            bootstrap,
            python,
            jars,
            events,
            stamp,
            brokerPid,
            progress: ctx.progress,
            add: (f) => add({ section: 'job', ...f }),
            runGenerator: ({ topic, count, finalWatermark }) =>
              runGenerator(workspace, python, { bootstrapServers: bootstrap, topic, rate: 0, count, sensors: 10, finalWatermark }),
          });
        }

        if (only.includes('latency')) {
          const topic = `bench-latency-${stamp}`;
          const output = join(workspace, 'output', topic);
          ctx.progress(
            `[latency] ${latencyRate} events/s in real time for ${latencySeconds} s (event time = wall clock), default 10 s checkpoints…`,
          );
          await ensureTopic(bootstrap, topic, 3);
          await ensureRestPortFree(8081);
          mkdirSync(output, { recursive: true });
          job.start(
            python,
            jobArgs({
              bootstrapServers: bootstrap,
              topic,
              output,
              windowSeconds: 10,
              groupId: 'flink-sensor-processor',
              jars,
              stateDir: join(stateRoot(workspace), 'flink', topic),
              restPort: 8081,
              checkpointSeconds: 10,
            }),
            { background: true, cwd: workspace },
          );
          await waitForJobRunning('http://127.0.0.1:8081', job, 180_000);
          const store = await ResultsStore.open(output);
          try {
            const expected = latencyRate * latencySeconds;
            const gen = runGenerator(workspace, python, {
              bootstrapServers: bootstrap,
              topic,
              rate: latencyRate,
              durationSeconds: latencySeconds,
              sensors: 10,
            });
            await gen;
            // Without a final watermark push, the last windows close through the job's idleness timeout, as in real life.
            await waitForCommitted(store, Math.floor(expected * 0.8), ctx, 120_000, 10 * 60_000);
          } finally {
            store.close();
            await job.stop();
          }
          const latencies = await windowCommitLatencies(output);
          add({ section: 'latency', name: 'windows measured', value: latencies.newest.length, unit: 'windows' });
          add({
            section: 'latency',
            name: 'newest event of a window → committed, p50',
            value: percentile(latencies.newest, 50),
            unit: 's',
          });
          add({
            section: 'latency',
            name: 'newest event of a window → committed, p99',
            value: percentile(latencies.newest, 99),
            unit: 's',
          });
          add({
            section: 'latency',
            name: 'oldest event of a window → committed, p50',
            value: percentile(latencies.oldest, 50),
            unit: 's',
          });
          add({
            section: 'latency',
            name: 'oldest event of a window → committed, p99',
            value: percentile(latencies.oldest, 99),
            unit: 's',
          });
        }

        if (only.includes('sql')) {
          await benchSql({
            workspace,
            bootstrap,
            python,
            runtimeLib: join(jars.runtimeDir, 'lib'),
            events,
            stamp,
            progress: ctx.progress,
            signal: ctx.signal,
            add: (f) => add({ section: 'sql', ...f }),
            runGenerator: ({ topic, rate, count }) =>
              runGenerator(workspace, python, { bootstrapServers: bootstrap, topic, rate, count, sensors: 10 }),
          });
        }

        if (only.includes('browse')) {
          await benchBrowse({
            bootstrap,
            events,
            stamp,
            progress: ctx.progress,
            add: (f) => add({ section: 'browse', ...f }),
            // 1% anomalies (temperature + 40–60 °C), so the filter keeps some.
            runGenerator: ({ topic, count }) =>
              runGenerator(workspace, python, { bootstrapServers: bootstrap, topic, rate: 0, count, sensors: 10, anomalyFraction: 0.01 }),
          });
        }

        if (only.includes('tree')) {
          for (const f of await benchTree(bootstrap, stamp, ctx.progress)) figures.push({ section: 'tree', ...f });
        }
      } finally {
        await job.stop();
        await new PipelineProcess(workspace, 'generator').stop(5000);
        await stack.down({ progress: () => undefined });
        rmSync(workspace, { recursive: true, force: true });
      }
    }

    if (only.includes('results')) {
      ctx.progress(
        `[results] the results view's queries over ${resultRows.toLocaleString('en-US')} aggregate rows, and pandas read_csv of the same files…`,
      );
      const report = await benchResults({ rows: resultRows, python, progress: ctx.progress });
      for (const f of report.figures)
        figures.push({ section: 'results', name: f.name, value: f.value, unit: f.unit, note: f.note, budget: f.budget });
      for (const f of report.pandas.figures) figures.push({ section: 'results', name: f.name, value: f.value, unit: f.unit, note: f.note });
      if (report.pandas.error) ctx.progress(`  pandas not measured: ${report.pandas.error}`);
    }

    if (only.includes('webview')) {
      for (const f of await benchWebview(resultRows, ctx.progress)) figures.push({ section: 'webview', ...f });
    }

    const dir = join(stateRoot(ctx.workspace), 'bench');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `${stamp}.json`);
    writeFileSync(file, JSON.stringify({ at: new Date().toISOString(), figures }, null, 1));
    ctx.print('');
    const width = Math.max(...figures.map((f) => `${f.section}: ${f.name}`.length));
    for (const f of figures) {
      const verdict =
        f.budget !== undefined
          ? `  [budget ${f.budget} ${f.unit}: ${f.value <= f.budget ? 'ok' : 'OVER'}]`
          : f.atLeast !== undefined
            ? `  [budget ≥ ${f.atLeast} ${f.unit}: ${f.value >= f.atLeast ? 'ok' : 'UNDER'}]`
            : '';
      ctx.print(
        `${`${f.section}: ${f.name}`.padEnd(width)}  ${formatValue(f.value).padStart(12)} ${f.unit}${verdict}${f.note ? `  (${f.note})` : ''}`,
      );
    }
    ctx.print(`\nSaved to ${file}`);
    return 0;
  },
};

type WorkbenchFigure = Omit<Figure, 'section'>;

/**
 * Runs one of the workbench benchmarks of test/e2e (code-server and Chromium from the e2e toolchain, downloaded
 * and cached on first use), passing its progress lines on; returns its figures. They need the repository
 * checkout: an installed extension does not carry test/e2e, and then the section is skipped with a message.
 */
async function runWorkbenchBench(
  section: string,
  scriptName: string,
  args: string[],
  progress: (line: string) => void,
): Promise<WorkbenchFigure[] | undefined> {
  const script = join(projectRoot(), 'test', 'e2e', scriptName);
  if (!existsSync(script)) {
    progress(`[${section}] skipped: it drives code-server from the repository (test/e2e), which an installed extension does not carry.`);
    return undefined;
  }
  const prefix = `${scriptName.replace(/\.mjs$/, '')}: `;
  let pending = '';
  const result = await runCommand(process.execPath, [script, ...args, '--json'], {
    cwd: projectRoot(),
    timeoutMs: 30 * 60_000,
    onOutput: (chunk) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) if (line.startsWith(prefix)) progress(`  ${line.slice(prefix.length)}`);
    },
  });
  const last = result.stdout.trim().split('\n').pop() ?? '';
  let report: { figures?: WorkbenchFigure[]; error?: string } = {};
  try {
    report = JSON.parse(last) as typeof report;
  } catch {
    throw new UserError(
      `The ${section} benchmark ended without a report (exit ${result.code}${result.timedOut ? ', timed out' : ''}): ${result.stderr.trim().split('\n').slice(-5).join(' | ')}`,
    );
  }
  if (report.error) progress(`[${section}] stopped early: ${report.error}`);
  return report.figures ?? [];
}

/** The results webview in a real workbench (test/e2e/bench-webview.mjs) over a generated output folder. */
async function benchWebview(rows: number, progress: (line: string) => void): Promise<WorkbenchFigure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'kfl-webview-bench-'));
  try {
    progress(
      `[webview] generating ${rows.toLocaleString('en-US')} aggregate rows, then opening them in the results view in code-server + Chromium…`,
    );
    await generateAggregates(dir, rows);
    return (await runWorkbenchBench('webview', 'bench-webview.mjs', ['--output', dir, '--rows', String(rows)], progress)) ?? [];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const TREE_TOPICS = 1000;
const TREE_PARTITIONS = 3;

/**
 * The Kafka view in a real workbench (test/e2e/bench-tree.mjs) on the benchmark's broker with 1,000 topics × 3
 * partitions: the topic list appearing, a refresh, and topics expanding into partitions with offsets.
 */
async function benchTree(bootstrap: string, stamp: string, progress: (line: string) => void): Promise<WorkbenchFigure[]> {
  const prefix = `bench-tree-${stamp}-`;
  const names = Array.from({ length: TREE_TOPICS }, (_, i) => `${prefix}${String(i).padStart(4, '0')}`);
  const admin = new KafkaAdminClient({ bootstrapServers: parseBootstrapServers(bootstrap) }, 60_000);
  try {
    progress(
      `[tree] creating ${TREE_TOPICS} topics × ${TREE_PARTITIONS} partitions, then opening the Kafka view in code-server + Chromium…`,
    );
    const started = performance.now();
    await admin.createTopicsInBulk(names, TREE_PARTITIONS);
    progress(`  created (the broker serves their offsets) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    return (
      (await runWorkbenchBench(
        'tree',
        'bench-tree.mjs',
        ['--bootstrap', bootstrap, '--prefix', prefix, '--topics', String(TREE_TOPICS), '--partitions', String(TREE_PARTITIONS)],
        progress,
      )) ?? []
    );
  } finally {
    await admin.deleteTopicsInBulk(names).catch(() => undefined);
    await admin.close();
  }
}

/**
 * Per committed aggregate row: when its file became visible (the FileSink renames it on a completed checkpoint,
 * which sets the file's ctime) minus the window's end (its newest possible event) and start (its oldest).
 */
async function windowCommitLatencies(output: string): Promise<{ newest: number[]; oldest: number[] }> {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    const glob = join(output, 'aggregates', '**', '*.csv').replace(/'/g, "''");
    const reader = await conn.runAndReadAll(
      `SELECT filename, epoch_ms(window_start::TIMESTAMP) AS ws, epoch_ms(window_end::TIMESTAMP) AS we FROM read_csv('${glob}', filename = true, header = true)`,
    );
    const newest: number[] = [];
    const oldest: number[] = [];
    const ctimes = new Map<string, number>();
    for (const [file, start, end] of reader.getRowsJS() as [string, bigint | number, bigint | number][]) {
      if (!ctimes.has(file)) ctimes.set(file, statSync(file).ctimeMs);
      const committed = ctimes.get(file)!;
      newest.push((committed - Number(end)) / 1000);
      oldest.push((committed - Number(start)) / 1000);
    }
    return { newest: newest.sort((a, b) => a - b), oldest: oldest.sort((a, b) => a - b) };
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}
