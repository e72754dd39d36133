import * as assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommittedFileIndex } from '../../src/flink/committedFiles';
import { escapeMarkdown, formatDuration, sparkline } from '../../src/shared/format';
import { readableVertexName, windowShape } from '../../src/flink/flinkChains';
import { filesByCheckpoint, type CommittedFile } from '../../src/flink/flinkCheckpointRows';
import { exceptionDocument, exceptionHeadline } from '../../src/flink/flinkExceptions';
import { bottleneck, operatorStats } from '../../src/flink/flinkOperators';
import { restoredFromSavepoint } from '../../src/flink/flinkRestCheckpoints';
import type { FlinkSnapshot } from '../../src/flink/flinkRestTypes';
import { flattenRows, webUiUrl, type FlinkRow } from '../../src/flink/flinkRows';
import { FlinkSnapshotReader } from '../../src/flink/flinkSnapshot';
import { buildFlinkTree, offerSavepoint, type FlinkTree } from '../../src/flink/flinkTree';
import { waitingWindow, watermarkRows } from '../../src/flink/flinkWatermarks';
import { FixtureRestServer, loadFlinkFixture, type FlinkFixture } from '../support/flinkFixtures';

/** Reads every sample of a recording through the view's own reader, over HTTP, as the extension would. */
async function replay(
  name: string,
  patch?: (fixture: FlinkFixture) => void,
): Promise<{ fixture: FlinkFixture; snapshots: FlinkSnapshot[]; server: FixtureRestServer }> {
  const fixture = loadFlinkFixture(name);
  patch?.(fixture);
  const server = new FixtureRestServer(fixture);
  const url = await server.start();
  const reader = new FlinkSnapshotReader(url);
  const snapshots: FlinkSnapshot[] = [];
  try {
    for (let i = 0; i < fixture.samples.length; i++) {
      server.sample = i;
      snapshots.push(await reader.read());
    }
  } finally {
    await server.stop();
  }
  assert.deepEqual(server.misses, [], 'every request the reader made was answered by the recording');
  return { fixture, snapshots, server };
}

/** The tree of the last sample, with the one before it for rates, and the recording's committed files. */
function treeOf(r: Awaited<ReturnType<typeof replay>>, extra: { localRest?: boolean; localJobProcess?: boolean } = {}): FlinkTree {
  const last = r.snapshots.length - 1;
  return buildFlinkTree(r.snapshots[last], { previous: last > 0 ? r.snapshots[last - 1] : undefined, files: r.fixture.files, ...extra });
}

const rows = (tree: FlinkTree, kind: FlinkRow['kind']) => flattenRows(tree.rows).filter((row) => row.kind === kind);
const one = (tree: FlinkTree, kind: FlinkRow['kind']) => {
  const found = rows(tree, kind);
  assert.equal(found.length, 1, `one ${kind} row`);
  return found[0];
};

describe('Flink view: REST answers recorded from a real Flink 2.2 job → tree', () => {
  it('a running job: cluster, state, operators with readable names and records, a watermark, checkpoints with their files', async () => {
    const r = await replay('running');
    assert.ok(
      r.snapshots[0].requests <= 9 && r.snapshots[1].requests <= 7,
      `requests per refresh: ${r.snapshots.map((s) => s.requests).join(', ')}`,
    );
    const tree = treeOf(r);
    assert.equal(tree.state, 'job');
    assert.equal(one(tree, 'cluster').description, '1 TaskManager · 0 of 1 slots free · Flink 2.2.1');
    const job = one(tree, 'job');
    assert.equal(job.label, 'sensor-pipeline[sensor-data]');
    assert.match(job.description!, /^RUNNING · up \d+ (s|min \d+ s) · 0 restarts$/);
    assert.deepEqual(job.flags, ['running']);

    const operators = rows(tree, 'operator');
    assert.deepEqual(
      operators.map((o) => o.label),
      [
        'Source kafka_src → window pre-aggregate → 3 sinks: alerts_jsonl, alerts_kafka, dead_letter_jsonl',
        'Tumbling window 10 s → 2 sinks: aggregates_csv, aggregates_jsonl',
      ],
    );
    for (const o of operators) {
      const m = /^in (\d+) · out (\d+) · ([\d.]+k?)\/s · busy (\d+)% · backpressure (OK|LOW|HIGH)$/.exec(o.description!);
      assert.ok(m, `operator row "${o.description}"`);
      assert.ok(Number(m[1]) > 0, 'records in');
      assert.equal(m[5], 'OK');
    }
    assert.ok(Number(/([\d.]+)\/s/.exec(operators[0].description!)![1]) > 50, 'the source reads about the generator rate (100/s)');
    assert.match(
      operators[0].tooltip!,
      /Source: kafka_src\[1\] -> \(Calc\[2\] -> LocalWindowAggregate\[3\]/,
      'the raw chain is in the tooltip',
    );

    const window = one(tree, 'window');
    const m = /^window (\d\d:\d\d:\d\d)–(\d\d:\d\d:\d\d) fires when the watermark passes (\d\d:\d\d:\d\d) — it is (\d+\.\d) s behind$/.exec(
      window.label,
    );
    assert.ok(m, window.label);
    assert.equal(m[2], m[3]);
    const wm = watermarkRows(r.snapshots[1].job!).find((w) => w.wait)!;
    assert.ok(wm.wait!.start <= wm.watermark! + 1 && wm.watermark! + 1 < wm.wait!.end, 'the waiting window holds watermark + 1 ms');
    assert.ok(wm.wait!.behindMs > 0 && wm.wait!.behindMs <= 10_000);
    const watermarks = rows(tree, 'watermark');
    assert.deepEqual(
      watermarks.map((w) => w.label),
      ['Source kafka_src', 'Tumbling window 10 s (GlobalWindowAggregate[5])'],
    );
    assert.match(watermarks[0].description!, /^watermark \d\d:\d\d:\d\d\.\d · newest event time − 5 s$/);

    const checkpoints = one(tree, 'checkpoints');
    assert.match(checkpoints.description!, /^\d+ completed · 0 failed · last [\d.]+ s ago$/);
    const latest = rows(tree, 'checkpoint').find((c) => c.flags?.includes('latest'))!;
    assert.match(latest.description!, /^latest · \d+ ms · [\d.]+ KB · [\d.]+ s ago · 2 files committed$/);
    const files = latest.children!.filter((c) => c.kind === 'file').map((f) => f.label);
    assert.ok(
      files.some((f) => f.endsWith('.csv')) && files.some((f) => f.endsWith('.jsonl')),
      `the latest checkpoint committed the window's CSV and JSON lines: ${files.join(', ')}`,
    );
  });

  it('each committed file belongs to the checkpoint acknowledged last before it appeared', async () => {
    const r = await replay('running');
    const history = r.snapshots[1].job!.checkpoints!.history;
    const byCheckpoint = filesByCheckpoint(history, r.fixture.files);
    const acks = history
      .filter((c) => c.status === 'COMPLETED')
      .map((c) => [c.id, c.latestAckTimestamp!] as const)
      .sort((a, b) => a[1] - b[1]);
    let linked = 0;
    for (const [i, [id, ack]] of acks.entries()) {
      const next = acks[i + 1]?.[1] ?? Infinity;
      for (const f of byCheckpoint.get(id) ?? []) {
        linked++;
        assert.ok(
          f.changedAtMs >= ack && f.changedAtMs < next,
          `${f.name} (${f.changedAtMs}) after chk-${id} (${ack}) and before the next (${next})`,
        );
        // The commit follows the acknowledgement within moments (the JobManager notifies, the sink renames).
        assert.ok(f.changedAtMs - ack < 2000, `${f.name} committed ${f.changedAtMs - ack} ms after chk-${id}`);
      }
    }
    const oldest = acks[0][1];
    assert.equal(
      linked,
      r.fixture.files.filter((f) => f.changedAtMs >= oldest).length,
      'every file since the oldest checkpoint shown is linked to one',
    );
  });

  it('a run that has just started (no tasks yet) still gets an Operators row that can open, so it is unfolded when they come', async () => {
    const r = await replay('running');
    const last = r.snapshots[r.snapshots.length - 1];
    const starting = { ...last, job: { ...last.job!, detail: { ...last.job!.detail, state: 'INITIALIZING', vertices: [] } } };
    const operators = one(buildFlinkTree(starting, { files: r.fixture.files }), 'operators');
    assert.equal(operators.expanded, true);
    assert.deepEqual(
      operators.children!.map((c) => c.label),
      ['no metrics while the job is INITIALIZING'],
    );
  });

  it('an idle source: the watermark stands still, so the same window keeps waiting', async () => {
    const r = await replay('idle');
    const [a, b] = r.snapshots.map((s) => watermarkRows(s.job!).find((w) => w.wait)!);
    assert.equal(a.watermark, b.watermark);
    assert.equal(a.wait!.text, b.wait!.text);
    const source = r.snapshots[1].job!.sources[0];
    assert.ok(source.idleMs! > 10_000, `the source reports no new record for ${source.idleMs} ms`);
    assert.match(rows(treeOf(r), 'note').find((n) => n.label === 'Source position')!.description!, /no new record for \d+ s$/);
    const operators = rows(treeOf(r), 'operator');
    assert.match(operators[0].description!, / · 0\/s · /, 'no records flow');
  });

  it('backpressure: the tasks before a throttled Kafka sink wait (HIGH), and the sink is named as the bottleneck', async () => {
    const r = await replay('backpressure');
    const tree = treeOf(r);
    const operators = rows(tree, 'operator');
    assert.equal(operators.length, 17);
    const level = (label: string) => /backpressure (\w+)$/.exec(operators.find((o) => o.label === label)!.description!)![1];
    assert.equal(level('Source kafka_src'), 'HIGH');
    assert.equal(level('Filter and compute columns (Calc[9])'), 'HIGH');
    assert.equal(level('Sink alerts_kafka (writer)'), 'OK');
    const stats = operatorStats(r.snapshots[1].job!.detail, r.snapshots[0].job!.detail);
    assert.equal(bottleneck(stats)?.title, 'Sink alerts_kafka (writer)');
    assert.match(
      one(tree, 'operators').description!,
      /^17 tasks \(operator chains\) · 2 back-pressured · bottleneck: Sink alerts_kafka \(writer\)$/,
    );
    assert.ok(operators.find((o) => o.label === 'Sink alerts_kafka (writer)')!.flags!.includes('bottleneck'));
    // The checkpoint barrier queues behind the waiting records: the first checkpoint is still in progress.
    assert.match(rows(tree, 'checkpoint')[0].description!, /^in progress · started \d+ s ago$/);
  });

  it('a job that keeps restarting: its exception on the job row, the exceptions newest first', async () => {
    const r = await replay('restarting');
    const tree = treeOf(r);
    const job = one(tree, 'job');
    assert.match(
      job.description!,
      /^RESTARTING · \d+ restarts · KafkaException: Unexpected error in InitProducerIdResponse; The transaction timeout is larger than the maximum value allowed by the broker/,
    );
    assert.ok(job.flags!.includes('restarting'));
    assert.deepEqual(job.icon, ['warning', 'list.warningForeground']);
    const exceptions = rows(tree, 'exception');
    assert.ok(exceptions.length >= 2);
    const times = exceptions.map((e) => e.exception!.timestamp);
    assert.deepEqual(
      times,
      [...times].sort((a, b) => b - a),
      'newest first',
    );
    assert.match(exceptions[0].description!, /ago · Source kafka_src → window pre-aggregate → 3 sinks/);
    const doc = exceptionDocument(job.label, exceptions[0].exception!);
    assert.match(doc, /^\/\/ sensor-pipeline\[sensor-data\]: KafkaException: /);
    assert.match(doc, /\tat org\.apache\.flink\.kafka\.shaded\.org\.apache\.kafka\.clients\.producer\.internals\.TransactionManager/);
  });

  it('a failed job: FAILED with the cause it wrapped, not "Recovery is suppressed"', async () => {
    const r = await replay('failed');
    const tree = treeOf(r);
    const job = one(tree, 'job');
    assert.match(job.description!, /^FAILED · (\d+ restarts · )?KafkaException: Unexpected error in InitProducerIdResponse/);
    assert.deepEqual(job.icon, ['error', 'errorForeground']);
    assert.deepEqual(job.flags, ['failed']);
    const exception = one(tree, 'exception');
    assert.match(exception.label, /^KafkaException: /);
    assert.match(
      exception.exception!.stacktrace,
      /^org\.apache\.flink\.runtime\.JobException: Recovery is suppressed by NoRestartBackoffTimeStrategy/,
    );
    assert.match(one(tree, 'checkpoints').description!, /^0 completed · 1 failed/);
  });

  it('no job: the welcome content (empty rows); REST unreachable: one row with retry, or the welcome for a local job that is not running', async () => {
    const r = await replay('nojob');
    assert.deepEqual(treeOf(r), { state: 'noJob', rows: [] });

    const port = await closedPort();
    const unreachable = await new FlinkSnapshotReader(`http://127.0.0.1:${port}`).read();
    assert.equal(unreachable.reachable, false);
    assert.match(unreachable.error!, /does not answer \(not reachable\)/);
    const remote = buildFlinkTree(unreachable, { localRest: false });
    assert.equal(remote.state, 'unreachable');
    assert.equal(remote.rows.length, 1);
    assert.equal(remote.rows[0].label, `Flink's REST API at http://127.0.0.1:${port} does not answer`);
    assert.equal(remote.rows[0].kind, 'unreachable');
    assert.equal(
      buildFlinkTree(unreachable, { localRest: true, localJobProcess: true }).state,
      'unreachable',
      'a local job that runs but does not answer yet',
    );
    assert.deepEqual(buildFlinkTree(unreachable, { localRest: true, localJobProcess: false }), { state: 'noJob', rows: [] });
  });

  it('26 tasks (chaining off, a source per INSERT): every operator named, repeated names told apart, the other jobs listed', async () => {
    const r = await replay('many-operators');
    assert.ok(r.snapshots[1].requests <= 14, `requests: ${r.snapshots[1].requests}`);
    const tree = treeOf(r);
    const operators = rows(tree, 'operator');
    assert.equal(operators.length, 26);
    assert.equal(new Set(operators.map((o) => o.label)).size, 26, 'no two rows read the same');
    const sources = operators.filter((o) => o.label.startsWith('Source')).map((o) => o.label);
    assert.equal(sources.length, 5);
    assert.ok(
      sources.every((l) => /^Source kafka_src \[\d+\]$/.test(l)),
      sources.join(', '),
    );
    assert.ok(
      operators.every((o) => !/\[\d+\]: (Writer|Committer)| -> /.test(o.label)),
      'no raw chain in a label',
    );
    assert.equal(rows(tree, 'window').length, 2, 'two window operators (sub-plans not shared), each waiting on a window');
    assert.deepEqual(
      rows(tree, 'other-job')
        .map((j) => j.description!.split(' · ')[0])
        .sort(),
      ['CANCELED', 'FAILED'],
    );
    const [group] = rows(tree, 'other-jobs');
    assert.deepEqual(
      [group.label, group.description, group.children!.map((c) => c.kind), group.expanded],
      ['Other jobs', '2', ['other-job', 'other-job'], false],
      'the other jobs are a group of their own under the pipeline job, closed while none runs',
    );
    assert.ok(!tree.rows.some((r) => r.kind === 'other-job'), 'no other job beside the pipeline job at the top');
  });

  it('stopped with a savepoint: the welcome offers the start with no job left, a row above the FINISHED job on a session cluster', async () => {
    const savepoint = { path: '/ws/.pipeline/savepoints/sensor-data/savepoint-1a2b3c-4d5e', at: Date.UTC(2026, 11, 6, 12, 0, 0) };
    let asked = 0;
    const find = () => (asked++, savepoint);

    const running = treeOf(await replay('running'));
    assert.equal(offerSavepoint(running, (await replay('running')).snapshots[1], find, false).tree, running, 'a running job: no offer');
    assert.equal(asked, 0, 'no savepoint is looked for while the job runs');

    const finished = await replay('running', (fixture) => {
      for (const sample of fixture.samples)
        for (const answer of Object.values(sample.answers)) {
          const body = answer.body as { state?: string; jobs?: { state: string }[] };
          if (body?.state === 'RUNNING') body.state = 'FINISHED';
          for (const j of body?.jobs ?? []) if (j.state === 'RUNNING') j.state = 'FINISHED';
        }
      // A job that no longer runs has its exceptions read too: a savepoint stop has none.
      for (const sample of fixture.samples)
        for (const path of Object.keys(sample.answers))
          if (/^\/jobs\/[0-9a-f]{32}$/.test(path))
            sample.answers[`${path}/exceptions?maxExceptions=20`] = { status: 200, body: { exceptionHistory: { entries: [] } } };
    });
    const snapshot = finished.snapshots.at(-1)!;
    const tree = treeOf(finished);
    assert.equal(tree.state, 'job', 'the cluster still lists the job');
    const offered = offerSavepoint(tree, snapshot, find, false);
    assert.equal(offered.savepoint, savepoint);
    const [first, ...rest] = offered.tree.rows;
    assert.deepEqual(
      [first.kind, first.label, first.description],
      ['savepoint', 'Start the Flink job from the savepoint', 'savepoint-1a2b3c-4d5e · 2026-12-06T12:00:00.000Z'],
    );
    assert.deepEqual(rest, tree.rows, 'the rest of the tree is as before');
    assert.equal(offerSavepoint(tree, snapshot, find, true).tree, tree, "no offer while the job's process still runs");
    assert.equal(offerSavepoint(tree, snapshot, () => undefined, false).tree, tree, 'no offer without a savepoint to continue from');

    const none = await replay('nojob');
    const empty = treeOf(none, { localRest: true });
    assert.equal(empty.state, 'noJob');
    assert.equal(offerSavepoint(empty, none.snapshots.at(-1)!, find, false).tree.state, 'noJobSavepoint', 'the welcome offers it');
  });

  it('values from Flink are escaped in tooltips (a hostile job name cannot add links or HTML)', async () => {
    const hostile = '<img src=x onerror=alert(1)> [click](command:workbench.action.terminal.new) **bold**';
    const r = await replay('running', (fixture) => {
      for (const sample of fixture.samples) {
        for (const answer of Object.values(sample.answers)) {
          const body = answer.body as { name?: string; jobs?: { name: string }[] };
          if (body && typeof body === 'object' && 'name' in body && typeof body.name === 'string') body.name = hostile;
          for (const j of body?.jobs ?? []) j.name = hostile;
        }
      }
    });
    const tree = treeOf(r);
    const job = one(tree, 'job');
    assert.equal(job.label, hostile, 'labels are plain text (VS Code does not render them)');
    for (const row of flattenRows(tree.rows)) {
      const tooltip = row.tooltip ?? '';
      assert.ok(!/(^|[^\\])<img/.test(tooltip), `${row.id}: raw HTML in "${tooltip.slice(0, 120)}"`);
      assert.ok(!/[^\\]\]\(command:/.test(tooltip), `${row.id}: a live command link`);
    }
    assert.match(job.tooltip!, /\\<img src=x onerror=alert\\\(1\\\)\\>/);
  });
});

describe("status bar: a job's health from the same recordings", () => {
  async function health(name: string) {
    const fixture = loadFlinkFixture(name);
    const server = new FixtureRestServer(fixture);
    const url = await server.start();
    try {
      const job = (fixture.samples[0].answers['/jobs/overview'].body as { jobs: { jid: string; state: string }[] }).jobs[0];
      const result = await new FlinkSnapshotReader(url).readHealth(job.jid, job.state);
      assert.deepEqual(server.misses, []);
      return { result, requests: server.requests.length };
    } finally {
      await server.stop();
    }
  }

  it('a running job: no restarts, how far behind its source reads, the checkpoint interval', async () => {
    const { result, requests } = await health('running');
    assert.equal(result.restarts, 0);
    assert.equal(result.newestException, undefined);
    assert.ok(
      result.source!.emitEventTimeLagMs! >= 0 && result.source!.emitEventTimeLagMs! < 1000,
      `${result.source!.emitEventTimeLagMs} ms behind`,
    );
    assert.equal(result.checkpointIntervalMs, 10_000);
    assert.equal(requests, 4, 'the job detail and the checkpoint interval once, then restarts and the source');
  });

  it('a restarting job: its restarts and its newest exception', async () => {
    const { result } = await health('restarting');
    assert.equal(result.restarts, 8);
    assert.match(exceptionHeadline(result.newestException!), /^KafkaException: Unexpected error in InitProducerIdResponse/);
    assert.equal(result.source, undefined, 'no source position while it is not running');
  });
});

describe('Flink view: the pieces', () => {
  it('the web UI at a job, an operator, its watermarks, checkpoints or exceptions', () => {
    const base = 'http://127.0.0.1:8081';
    const running = { jid: 'j1', state: 'RUNNING' };
    const row = (kind: FlinkRow['kind'], vertexId?: string) => ({ id: 'x', kind, label: 'x', vertexId }) as FlinkRow;
    assert.equal(webUiUrl(base, running, row('operator', 'v1')), 'http://127.0.0.1:8081/#/job/running/j1/overview/v1/detail');
    assert.equal(webUiUrl(base, running, row('window', 'v2')), 'http://127.0.0.1:8081/#/job/running/j1/overview/v2/watermarks');
    assert.equal(webUiUrl(base, running, row('file')), 'http://127.0.0.1:8081/#/job/running/j1/checkpoints');
    assert.equal(webUiUrl(base, { jid: 'j2', state: 'FAILED' }, row('exception')), 'http://127.0.0.1:8081/#/job/completed/j2/exceptions');
    assert.equal(webUiUrl(base, running, undefined), 'http://127.0.0.1:8081/#/job/running/j1/overview');
    assert.equal(webUiUrl(base, undefined, undefined), 'http://127.0.0.1:8081/#/overview');
  });

  it('a restore from a retained checkpoint is told from one from a savepoint (Flink flags both as a savepoint restore)', () => {
    // What Flink 2.2 answered for this job restarted from its checkpoint folder (e2e, 2026-12-04): is_savepoint true.
    assert.equal(
      restoredFromSavepoint('file:/ws/.pipeline/flink/checkpoints/sensor-data/4cc00203b730a7173400aa0f979e1c6e/chk-3', true),
      false,
    );
    assert.equal(restoredFromSavepoint('file:/ws/.pipeline/savepoints/sensor-data/savepoint-84402f-c7f0940e3f56', true), true);
    assert.equal(restoredFromSavepoint('file:/ws/.pipeline/savepoints/sensor-data/savepoint-84402f-c7f0940e3f56/', false), true);
    assert.equal(restoredFromSavepoint('s3://bucket/elsewhere', true), true);
    assert.equal(restoredFromSavepoint(undefined, undefined), false);
  });

  it('readable names of operator chains', () => {
    assert.equal(
      readableVertexName(
        'Source: kafka_src[1] -> (Calc[2] -> LocalWindowAggregate[3], Calc[12] -> dead_letter_jsonl[13]: Writer -> dead_letter_jsonl[13]: Committer)',
      ),
      'Source kafka_src → window pre-aggregate → sink dead_letter_jsonl',
    );
    assert.equal(
      readableVertexName(
        'GlobalWindowAggregate[5] -> Calc[6] -> (a[7]: Writer -> a[7]: Committer, b[8]: Writer -> b[8]: Committer)',
        'GlobalWindowAggregate(window=[TUMBLE(slice_end=[$slice_end], size=[1 min])])',
      ),
      'Tumbling window 1 min → 2 sinks: a, b',
    );
    assert.equal(readableVertexName('Calc[2]', 'Calc(select=[a], where=[(b > 1)])'), 'Filter and compute columns (Calc[2])');
    assert.equal(readableVertexName('alerts_kafka[11]: Committer'), 'Sink alerts_kafka (committer)');
    // DataStream names keep their parentheses.
    assert.equal(
      readableVertexName(
        'Source: Custom Source -> Map -> Window(TumblingEventTimeWindows(10000), EventTimeTrigger, AggregateFunction$1) -> Sink: Print to Std. Out',
      ),
      'Source Custom Source → window → sink Print to Std. Out',
    );
    assert.deepEqual(windowShape('HOP(time_col=[rowtime], size=[1 min], slide=[10 s])'), {
      type: 'hopping',
      sizeMs: 60_000,
      slideMs: 10_000,
    });
  });

  it('the waiting window: the oldest one whose end the watermark has not passed', () => {
    const at = (hms: string) => Date.parse(`2026-12-04T${hms}Z`);
    const w = waitingWindow(at('12:00:16.800'), { type: 'tumbling', sizeMs: 10_000 })!;
    assert.equal(w.text, 'window 12:00:10–12:00:20 fires when the watermark passes 12:00:20 — it is 3.2 s behind');
    // Flink fires [10, 20) at watermark 19.999: the next one waits then.
    assert.equal(waitingWindow(at('12:00:19.999'), { type: 'tumbling', sizeMs: 10_000 })!.start, at('12:00:20'));
    assert.equal(waitingWindow(at('12:00:19.998'), { type: 'tumbling', sizeMs: 10_000 })!.start, at('12:00:10'));
    assert.equal(waitingWindow(at('12:00:19'), { type: 'hopping', sizeMs: 10_000, slideMs: 5000 }), undefined);
  });

  it('exception headlines, files by checkpoint, formatting', () => {
    assert.equal(
      exceptionHeadline({ exceptionName: 'java.lang.IllegalStateException', stacktrace: 'java.lang.IllegalStateException: boom\n\tat x' }),
      'IllegalStateException: boom',
    );
    const cp = (id: number, ack: number) => ({
      id,
      status: 'COMPLETED',
      isSavepoint: false,
      triggerTimestamp: ack - 10,
      latestAckTimestamp: ack,
    });
    const file = (name: string, at: number): CommittedFile => ({
      path: `/o/aggregates/${name}`,
      folder: 'aggregates',
      name,
      changedAtMs: at,
    });
    const linked = filesByCheckpoint([cp(2, 2000), cp(1, 1000)], [file('a', 999), file('b', 1000), file('c', 1500), file('d', 2005)]);
    assert.deepEqual(
      linked.get(1)!.map((f) => f.name),
      ['b', 'c'],
    );
    assert.deepEqual(
      linked.get(2)!.map((f) => f.name),
      ['d'],
    );
    assert.equal(formatDuration(3200), '3.2 s');
    assert.equal(formatDuration(192_000), '3 min 12 s');
    assert.equal(sparkline([0, 5, 10, undefined, 10]), '▁▅█ █');
    assert.equal(escapeMarkdown('a_b [x](y) <b>'), 'a\\_b \\[x\\]\\(y\\) \\<b\\>');
  });

  it('the committed-file index: visible files only, each stat read once', async () => {
    const root = mkdtempSync(join(tmpdir(), 'kfl-committed-'));
    try {
      mkdirSync(join(root, 'aggregates'));
      mkdirSync(join(root, 'dead-letter'));
      writeFileSync(join(root, 'aggregates', 'aggregates-x-0-0.csv'), 'h\n1\n');
      writeFileSync(join(root, 'aggregates', '.aggregates-x-0-1.csv.inprogress.abc'), 'h\n');
      writeFileSync(join(root, 'dead-letter', 'dead-letter-y-0-0.jsonl'), '{}\n');
      const index = new CommittedFileIndex(root);
      const first = await index.filesSince(0);
      assert.deepEqual(first.map((f) => `${f.folder}/${f.name}`).sort(), [
        'aggregates/aggregates-x-0-0.csv',
        'dead-letter/dead-letter-y-0-0.jsonl',
      ]);
      assert.ok(first.every((f) => f.changedAtMs > 0 && f.bytes! > 0));
      assert.deepEqual(await index.filesSince(Date.now() + 60_000), []);
      rmSync(join(root, 'dead-letter', 'dead-letter-y-0-0.jsonl'));
      assert.deepEqual(
        (await index.filesSince(0)).map((f) => f.name),
        ['aggregates-x-0-0.csv'],
      );
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

/** A port on 127.0.0.1 that nothing listens on (taken, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
