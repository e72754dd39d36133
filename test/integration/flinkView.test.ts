import * as assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { CommittedFileIndex } from '../../src/flink/committedFiles';
import { isoUtc } from '../../src/shared/format';
import { filesByCheckpoint } from '../../src/flink/flinkCheckpointRows';
import { stopWithSavepoint } from '../../src/flink/flinkJobControl';
import { operatorStats } from '../../src/flink/flinkOperators';
import { fetchCheckpointStats } from '../../src/flink/flinkRestCheckpoints';
import type { FlinkSnapshot } from '../../src/flink/flinkRestTypes';
import { flattenRows } from '../../src/flink/flinkRows';
import { FlinkSnapshotReader } from '../../src/flink/flinkSnapshot';
import { buildFlinkTree } from '../../src/flink/flinkTree';
import { watermarkRows, type WindowWait } from '../../src/flink/flinkWatermarks';
import { ensureTopic } from '../../src/kafka/kafkaClient';
import { generatorArgs, jobArgs, PipelineProcess, waitForJobRunning } from '../../src/local/pipelineProcesses';
import { savepointDirOf } from '../../src/flink/flinkSavepoints';
import { stateRoot } from '../../src/config/paths';
import { requireEnv } from '../support/cli';

/**
 * The Flink view's reader and model against a real PyFlink job (the project's flink_job.py, embedded MiniCluster
 * on a free REST port) fed by the real generator: operators count records, checkpoints complete, the window the
 * view says is waiting appears in the output files only after that, and stop-with-savepoint ends the job so that
 * the next start continues from the savepoint.
 */
describe('Flink view against a real PyFlink job', function () {
  this.timeout(600_000);
  const topic = `it-flink-view-${Date.now().toString(36)}`;
  let workspace: string;
  let bootstrap: string;
  let python: string;
  let restUrl: string;
  let output: string;
  let job: PipelineProcess;
  let generator: PipelineProcess;
  let jobExited: Promise<number> | undefined;
  let options: Parameters<typeof jobArgs>[0];

  before(async () => {
    bootstrap = requireEnv('PIPELINE_BOOTSTRAP');
    workspace = requireEnv('PIPELINE_TEST_WORKSPACE');
    python = requireEnv('PIPELINE_PYTHON_ENV');
    const jars = {
      connectorJar: requireEnv('PIPELINE_CONNECTOR_JAR'),
      jobLibJar: requireEnv('PIPELINE_JOB_LIB_JAR'),
      runtimeDir: process.env.PIPELINE_FLINK_RUNTIME,
    };
    const restPort = await freePort();
    restUrl = `http://127.0.0.1:${restPort}`;
    output = join(workspace, 'output', topic);
    await ensureTopic(bootstrap, topic, 3);
    // Small windows and checkpoints, so that windows fire and files are committed every few seconds.
    options = {
      bootstrapServers: bootstrap,
      topic,
      output,
      windowSeconds: 2,
      groupId: `it-${topic}`,
      checkpointSeconds: 2,
      jars,
      stateDir: join(stateRoot(workspace), 'flink', 'checkpoints', topic),
      savepointDir: savepointDirOf(workspace, topic),
      restPort,
    };
    generator = new PipelineProcess(workspace, 'generator');
    generator.start(
      python,
      generatorArgs({ bootstrapServers: bootstrap, topic, rate: 200, sensors: 10, durationSeconds: 400, quiet: true }),
      { background: true, cwd: workspace },
    );
    job = new PipelineProcess(workspace, 'job');
    jobExited = job.start(python, jobArgs(options), { background: true, cwd: workspace }).exited;
    await waitForJobRunning(restUrl, job, 240_000);
  });

  after(async () => {
    await Promise.all([job?.stop(20_000), generator?.stop(5000)]);
  });

  it('operators report records, completed checkpoints grow, and a refresh takes a few requests', async () => {
    const reader = new FlinkSnapshotReader(restUrl);
    let first: FlinkSnapshot | undefined;
    await until(
      async () => {
        first = await reader.read();
        return (first.job?.checkpoints?.completed ?? 0) >= 1 && (first.job?.detail.vertices[0]?.readRecords ?? 0) > 0;
      },
      120_000,
      'a completed checkpoint and records read',
    );
    let second: FlinkSnapshot | undefined;
    await until(
      async () => {
        second = await reader.read();
        return second.job!.checkpoints!.completed > first!.job!.checkpoints!.completed;
      },
      60_000,
      'more completed checkpoints',
    );
    assert.ok(second!.requests <= 7, `a refresh made ${second!.requests} requests`);
    const stats = operatorStats(second!.job!.detail, first!.job!.detail);
    assert.equal(stats.length, 2);
    for (const s of stats) assert.ok(s.vertex.readRecords > 0, `${s.title} read ${s.vertex.readRecords} records`);
    assert.ok(stats[0].rate! > 0, 'the source reads records per second');
    assert.ok(
      stats.every((s) => s.level !== undefined),
      'busy and backpressure are measured',
    );
    const tree = buildFlinkTree(second!, { previous: first });
    const operatorRows = flattenRows(tree.rows).filter((r) => r.kind === 'operator');
    assert.match(operatorRows[0].description!, /^in [1-9]\d* · out \d+ · /);
    // The Kafka source reports pendingRecords once it has its partitions' end offsets.
    await until(
      async () => (await reader.read()).job?.sources[0]?.pendingRecords !== undefined,
      90_000,
      'the source to report how many records it has not read yet',
    );
  });

  it("answers no other web origin: a page elsewhere cannot read the job's REST API", async () => {
    const foreign = 'http://evil.example';
    const response = await fetch(`${restUrl}/jobs/overview`, { headers: { Origin: foreign } });
    assert.equal(response.status, 200);
    const allowed = response.headers.get('access-control-allow-origin');
    assert.ok(allowed !== '*' && allowed !== foreign, `Access-Control-Allow-Origin: ${allowed}`);
    assert.equal(allowed, restUrl, 'only its own address');
  });

  it('the window the view says is waiting appears in the committed files only after that, linked to a checkpoint', async () => {
    const reader = new FlinkSnapshotReader(restUrl);
    const index = new CommittedFileIndex(output);
    let wait: WindowWait | undefined;
    let seenAt = 0;
    let watermarks: unknown[] = [];
    // Flink's metrics are up to a second old: a sample whose window is already in the files is stale; take the next.
    for (let attempt = 0; attempt < 20 && !wait; attempt++) {
      const before = windowStarts(await index.filesSince(0));
      const snapshot = await reader.read();
      const row = snapshot.job ? watermarkRows(snapshot.job).find((w) => w.wait) : undefined;
      if (row?.wait && ![...before].some((start) => start >= isoUtc(row.wait!.start))) {
        wait = row.wait;
        seenAt = Date.now();
        watermarks = Object.values(snapshot.job?.watermarks ?? {}).filter((w) => w !== undefined);
      } else await sleep(700);
    }
    assert.ok(wait, 'a waiting window with no committed row yet');
    assert.ok(watermarks.length > 0, 'the snapshot that showed the waiting window had a watermark');
    assert.match(
      wait.text,
      /^window \d\d:\d\d:\d\d–\d\d:\d\d:\d\d fires when the watermark passes \d\d:\d\d:\d\d — it is [\d.]+ s behind$/,
    );
    const start = isoUtc(wait.start);
    const end = isoUtc(wait.end);
    let committed: ReturnType<typeof rowsOf> = [];
    await until(
      async () => {
        committed = rowsOf(await index.filesSince(0)).filter((r) => r.window_start === start);
        return committed.length > 0;
      },
      90_000,
      `rows of the window ${start}–${end} in the committed files`,
    );
    for (const r of committed) assert.equal(r.window_end, end, 'the same window, end included');
    const file = committed[0].file;
    assert.ok(
      file.changedAtMs >= seenAt - 1500,
      `the file with the window was committed after the view showed it waiting (${file.changedAtMs} vs ${seenAt})`,
    );
    const later = await reader.read();
    const linked = filesByCheckpoint(later.job!.checkpoints!.history, await index.filesSince(0));
    const owner = [...linked].find(([, files]) => files.some((f) => f.path === file.path));
    assert.ok(owner, `${file.name} is linked to a completed checkpoint`);
  });

  it('stop with savepoint ends the job (its process exits 0), and the next start continues from the savepoint', async () => {
    const jid = (await new FlinkSnapshotReader(restUrl).read()).job!.detail.jid;
    const path = await stopWithSavepoint(restUrl, jid, options.savepointDir!, { timeoutMs: 120_000 });
    assert.match(path, /savepoint-/);
    assert.ok(existsSync(join(path.replace(/^file:/, ''), '_metadata')), `${path}/_metadata exists`);
    assert.equal(await withTimeout(jobExited!, 60_000), 0, 'the job process ended cleanly');
    const log = readFileSync(job.logFile, 'utf8');
    assert.match(log, /stopped with a savepoint from outside/);

    jobExited = job.start(python, jobArgs(options), { background: true, cwd: workspace }).exited;
    const running = await waitForJobRunning(restUrl, job, 240_000);
    assert.match(readFileSync(job.logFile, 'utf8'), new RegExp(`restoring from savepoint ${escapeRegExp(path.replace(/^file:/, ''))}`));
    const stats = await fetchCheckpointStats(restUrl, running.jid);
    assert.equal(stats.latestRestored?.isSavepoint, true, 'Flink restored the new job from a savepoint');
  });
});

interface AggregateRow {
  window_start: string;
  window_end: string;
  file: { path: string; name: string; changedAtMs: number };
}

/** Rows of the committed aggregates files (JSON lines). */
function rowsOf(files: Awaited<ReturnType<CommittedFileIndex['filesSince']>>): AggregateRow[] {
  return files
    .filter((f) => f.folder === 'aggregates' && f.name.endsWith('.jsonl'))
    .flatMap((f) =>
      readFileSync(f.path, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => ({ ...(JSON.parse(line) as { window_start: string; window_end: string }), file: f })),
    );
}

const windowStarts = (files: Awaited<ReturnType<CommittedFileIndex['filesSince']>>) => new Set(rowsOf(files).map((r) => r.window_start));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(1000);
  }
}

async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** A free port on 127.0.0.1 for the job's REST API (never the contract port 8081). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
