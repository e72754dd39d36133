// A statement run as the results panel keeps it: states, the folded table and the changelog, counts and rate, a stop, a failure at its place.
import { PanelUpdates } from '../../src/flink/sqlPanelUpdates';
import * as assert from 'node:assert/strict';
import type { ReadMode } from '../../src/flink/labTables';
import type { LabSqlSession, StatementEvents, StatementOutcome } from '../../src/flink/sqlSession';
import { SqlRun } from '../../src/flink/sqlRun';
import { splitStatements } from '../../src/flink/sqlStatements';
import { toCsv } from '../../src/shared/csv';

type Script = (events: StatementEvents, signal: AbortSignal) => Promise<StatementOutcome>;

/** A session that plays a script for each statement and records what it was asked to run. */
function fakeSession(script: Script): Pick<LabSqlSession, 'run'> & { ran: string[] } {
  const ran: string[] = [];
  return {
    ran,
    run: (statement: string, _mode: ReadMode, events: StatementEvents, signal: AbortSignal) => {
      ran.push(statement);
      return script(events, signal);
    },
  };
}

const LIVE: ReadMode = { from: 'earliest' };
const one = (sql: string) => splitStatements(sql)[0];

describe('a Flink SQL run for the results panel', () => {
  it('waits, then folds a GROUP BY changelog: the table shows the current counts, the changelog every change in order', async () => {
    let clock = 1_000;
    const session = fakeSession(async (events) => {
      events.onColumns?.(
        [
          { name: 'sensor_id', logicalType: { type: 'VARCHAR' } },
          { name: 'n', logicalType: { type: 'BIGINT' } },
        ] as never,
        true,
      );
      events.onWaiting?.(1.5, 'job-1');
      clock += 2_000;
      events.onRows?.([
        { kind: 'INSERT', fields: ['s-1', 1] },
        { kind: 'INSERT', fields: ['s-2', 1] },
        { kind: 'UPDATE_BEFORE', fields: ['s-1', 1] },
        { kind: 'UPDATE_AFTER', fields: ['s-1', 2] },
      ]);
      return { jobId: 'job-1', end: 'eos' };
    });
    const changes: number[] = [];
    const run = new SqlRun(
      session,
      one('SELECT sensor_id, COUNT(*) AS n FROM sensor_data GROUP BY sensor_id'),
      LIVE,
      100,
      () => changes.push(1),
      () => clock,
    );
    assert.equal(run.snapshot('table', 10).state, 'waiting');
    await run.start();
    const table = run.snapshot('table', 10);
    assert.deepEqual(
      [table.state, table.columns, table.rows, table.tableRows, table.changes, table.jobId],
      [
        'finished',
        ['sensor_id', 'n'],
        [
          ['s-1', 2],
          ['s-2', 1],
        ],
        2,
        4,
        'job-1',
      ],
    );
    assert.deepEqual(table.counts, { '+I': 2, '-U': 1, '+U': 1, '-D': 0 });
    assert.equal(table.rate, 0, 'an ended run has no rate');
    const log = run.snapshot('changelog', 3);
    assert.deepEqual(log.ops, ['+I', '-U', '+U'], 'the newest 3 changes, in the order they came');
    assert.deepEqual(log.rows, [
      ['s-2', 1],
      ['s-1', 1],
      ['s-1', 2],
    ]);
    assert.ok(changes.length >= 3, 'the panel heard of the columns, the wait, the rows and the end');
    assert.deepEqual(run.exportRows('changelog'), {
      columns: ['op', 'sensor_id', 'n'],
      rows: [
        ['+I', 's-1', 1],
        ['+I', 's-2', 1],
        ['-U', 's-1', 1],
        ['+U', 's-1', 2],
      ],
    });
  });

  it('its rate is the changes per second while it runs', async () => {
    let clock = 0;
    let rows: ((n: number) => void) | undefined;
    let finish: (() => void) | undefined;
    const session = fakeSession(
      (events) =>
        new Promise((resolve) => {
          events.onColumns?.([{ name: 'v' }] as never, true);
          rows = (n) => events.onRows?.(Array.from({ length: n }, (_, i) => ({ kind: 'INSERT' as const, fields: [i] })));
          finish = () => resolve({ end: 'eos' });
        }),
    );
    const run = new SqlRun(
      session,
      one('SELECT v FROM t'),
      LIVE,
      1000,
      () => undefined,
      () => clock,
    );
    const started = run.start();
    run.snapshot('table', 0);
    clock = 2_000;
    rows!(500);
    const s = run.snapshot('table', 0);
    assert.deepEqual([s.state, s.rate, s.changes], ['running', 250, 500]);
    finish!();
    await started;
  });

  it('Stop aborts the statement (its operation closes, which cancels the job) and says stopped', async () => {
    const session = fakeSession(
      (_events, signal) =>
        new Promise((resolve) => signal.addEventListener('abort', () => resolve({ end: 'stopped', jobId: 'j' }), { once: true })),
    );
    const run = new SqlRun(session, one('SELECT * FROM sensor_data'), LIVE);
    const running = run.start();
    run.stop();
    await running;
    assert.deepEqual([run.snapshot('table', 1).state, run.ended], ['stopped', true]);
  });

  it('names its Flink job while it runs, from the moment the gateway does (what Stop and the window guard go by)', async () => {
    let named!: () => void;
    const seen = new Promise<void>((resolve) => (named = resolve));
    const session = fakeSession(async (events, signal) => {
      events.onJob?.('4f1e0c2d9a8b7c6d5e4f3a2b1c0d9e8f');
      events.onRows?.([{ kind: 'INSERT', fields: [1] }]);
      named();
      return new Promise((resolve) => signal.addEventListener('abort', () => resolve({ end: 'stopped' }), { once: true }));
    });
    const run = new SqlRun(session, one('SELECT * FROM sensor_data'), LIVE);
    const running = run.start();
    await seen;
    assert.deepEqual([run.snapshot('table', 1).state, run.summary().jobId], ['running', '4f1e0c2d9a8b7c6d5e4f3a2b1c0d9e8f']);
    run.stop();
    await running;
  });

  it("a failure is Flink's root cause at its line and column in the file, with the whole answer one click away", async () => {
    const source = '-- counts\nSELECT sensor_id,\n  no_such_column\nFROM sensor_data;';
    const error =
      "org.apache.flink.table.api.ValidationException: SQL validation failed. From line 3, column 3 to line 3, column 16: Column 'no_such_column' not found in any table\n\tat org.apache.flink...";
    const session = fakeSession(async () => ({ end: 'error', errors: ['Internal server error.', error] }));
    const run = new SqlRun(session, splitStatements(source)[0], LIVE);
    await run.start();
    const s = run.snapshot('table', 1);
    assert.equal(s.state, 'failed');
    assert.deepEqual([s.problem?.message, s.problem?.line, s.problem?.column], ["Column 'no_such_column' not found in any table", 3, 3]);
    assert.match(run.errorDetails!, /at org\.apache\.flink/);
  });

  it('an INSERT INTO a lab table is refused before anything is sent', async () => {
    const session = fakeSession(async () => ({ end: 'eos' }));
    const run = new SqlRun(session, one('INSERT INTO sensor_data SELECT * FROM sensor_data'), LIVE);
    await run.start();
    assert.deepEqual(session.ran, []);
    assert.equal(run.snapshot('table', 0).state, 'failed');
    assert.match(run.snapshot('table', 0).problem!.message, /read-only/);
  });

  it('exports as CSV with quotes where a value needs them, objects as JSON', () => {
    assert.equal(
      toCsv(
        ['a', 'b'],
        [
          ['x,y', 'say "hi"'],
          [null, { k: [1] }],
          ['line\nbreak', 3],
        ],
      ),
      'a,b\r\n"x,y","say ""hi"""\r\n,"{""k"":[1]}"\r\n"line\nbreak",3\r\n',
    );
  });
});

describe('the results panel’s updates', () => {
  it('a run that changes often is posted at most once a tick; its end at once; nothing before the page is ready', async () => {
    let posts = 0;
    const updates = new PanelUpdates(() => posts++, 40);
    try {
      for (let i = 0; i < 100; i++) updates.changed(false);
      await new Promise((r) => setTimeout(r, 60));
      assert.equal(posts, 0, 'nothing goes to a page that has not loaded');
      updates.setReady();
      assert.equal(posts, 1, 'the page gets the run as it stands when it loads');
      for (let i = 0; i < 1000; i++) updates.changed(false);
      await new Promise((r) => setTimeout(r, 100));
      assert.ok(posts >= 2 && posts <= 5, `1,000 changes in 100 ms became ${posts - 1} posts at a 40 ms tick`);
      const before = posts;
      updates.changed(true);
      assert.equal(posts, before + 1, 'the end is posted at once');
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(posts, before + 1, 'and nothing after it while nothing changes');
    } finally {
      updates.dispose();
    }
  });
});
