import * as assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { formatResultTable, formatVerifyReport } from '../../src/cli/resultsCli';
import type { CellValue, PageResult } from '../../src/results/resultsProtocol';
import { QueryRefusedError, ResultsError, ResultsStore, toCell } from '../../src/results';

function repoRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'package.json'))) dir = resolve(dir, '..');
  return dir;
}

const fixtures = join(repoRoot(), 'test', 'fixtures', 'results');
const XSS = '<img src=x onerror=alert(1)>';
const HEADER = 'sensor_id,window_start,window_end,event_count,avg_temperature,min_temperature,max_temperature,avg_humidity,anomaly_count';

function tempCopy(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'results-test-'));
  cpSync(join(fixtures, name), dir, { recursive: true });
  return dir;
}

function column(page: PageResult, name: string): CellValue[] {
  const index = page.columns.findIndex((c) => c.name === name);
  assert.ok(index >= 0, `no column ${name}`);
  return page.rows.map((r) => r[index]);
}

/** Aggregate rows with many ties, for checking that pages tile the sorted table; `nullSensorEvery` leaves sensor_id empty. */
function writeGenerated(dir: string, rows: number, nullSensorEvery = 0): void {
  const lines = [HEADER];
  for (let i = 0; i < rows; i++) {
    const sensor = nullSensorEvery > 0 && i % nullSensorEvery === 0 ? '' : `sensor-${String(i % 7).padStart(3, '0')}`;
    const start = new Date(Date.UTC(2026, 10, 25, 10, 0, 0) + Math.floor(i / 7) * 10_000);
    const end = new Date(start.getTime() + 10_000);
    lines.push(
      `${sensor},${start.toISOString()},${end.toISOString()},${1 + (i % 5)},${(20 + (i % 13) / 2).toFixed(2)},19,30,${40 + (i % 3)},${i % 11 === 0 ? 1 : 0}`,
    );
  }
  mkdirSync(join(dir, 'aggregates'), { recursive: true });
  writeFileSync(join(dir, 'aggregates', 'part-0.csv'), lines.join('\n') + '\n');
}

describe('ResultsStore on the fixture output folders', function () {
  this.timeout(30_000);
  const opened: ResultsStore[] = [];
  const temps: string[] = [];
  const open = async (folder: string, options = {}) => {
    const store = await ResultsStore.open(folder, options);
    opened.push(store);
    return store;
  };
  after(() => {
    for (const store of opened) store.close();
    for (const dir of temps) rmSync(dir, { recursive: true, force: true });
  });

  describe('a good run', () => {
    let store: ResultsStore;
    before(async () => {
      store = await open(join(fixtures, 'good'));
    });

    it('summarises files, rows, time range, sensors and dead letters', async () => {
      const s = await store.summary();
      assert.equal(s.outputExists, true);
      assert.equal(s.files, 6, 'two CSV + two JSON aggregate files, one alerts file, one dead-letter file');
      assert.equal(s.aggregateRows, 6, 'the in-progress .part file is not read');
      assert.equal(s.eventCount, 60);
      assert.deepEqual(s.timeRange, { from: '2026-11-25T10:00:00.000Z', to: '2026-11-25T10:00:20.000Z' });
      assert.equal(s.sensorCount, 3);
      assert.deepEqual(s.sensors, ['sensor-001', 'sensor-002', 'sensor-003']);
      assert.equal(s.alertRows, 3);
      assert.equal(s.deadLetterRows, 2);
      assert.ok(s.lastCommittedFile && !s.lastCommittedFile.file.includes('/.'), 'a committed file');
      assert.equal(s.tables.aggregates.source, 'csv');
      assert.deepEqual(RESULT_STATES(s.tables), { aggregates: 'ok', alerts: 'ok', dead_letter: 'ok' });
      assert.deepEqual(s.messages, []);
    });

    it('pages through the default order (newest window first) without gaps or repeats', async () => {
      const seen: string[] = [];
      for (const offset of [0, 2, 4]) {
        const page = await store.page({ table: 'aggregates', offset, limit: 2 });
        assert.equal(page.total, 6);
        assert.equal(page.offset, offset);
        assert.equal(page.rows.length, 2);
        seen.push(...page.rows.map((r) => `${r[0]}@${r[1]}`));
      }
      assert.equal(new Set(seen).size, 6);
      assert.deepEqual(seen.slice(0, 3), [
        'sensor-001@2026-11-25T10:00:10.000Z',
        'sensor-002@2026-11-25T10:00:10.000Z',
        'sensor-003@2026-11-25T10:00:10.000Z',
      ]);
    });

    it('clamps an offset past the end to the last page', async () => {
      const page = await store.page({ table: 'aggregates', offset: 1000, limit: 4 });
      assert.equal(page.offset, 4);
      assert.equal(page.rows.length, 2);
    });

    it('sorts by any column, both ways, with typed values', async () => {
      const asc = await store.page({ table: 'aggregates', offset: 0, limit: 10, sort: { column: 'avg_temperature', direction: 'asc' } });
      assert.deepEqual(column(asc, 'avg_temperature'), [19.75, 21.5, 21.9, 23.1, 24.25, 30.125]);
      const desc = await store.page({ table: 'aggregates', offset: 0, limit: 10, sort: { column: 'event_count', direction: 'desc' } });
      assert.deepEqual(column(desc, 'event_count'), [12, 11, 10, 10, 9, 8]);
      const bySensor = await store.page({ table: 'aggregates', offset: 0, limit: 10, sort: { column: 'sensor_id', direction: 'asc' } });
      assert.deepEqual(column(bySensor, 'sensor_id'), ['sensor-001', 'sensor-001', 'sensor-002', 'sensor-002', 'sensor-003', 'sensor-003']);
      assert.equal(typeof column(asc, 'window_start')[0], 'string');
    });

    it('refuses an unknown sort column', async () => {
      await assert.rejects(
        store.page({ table: 'aggregates', offset: 0, limit: 5, sort: { column: 'x; DROP TABLE y', direction: 'asc' } }),
        /no column/,
      );
    });

    it('filters by sensor, time range (from inclusive, to exclusive) and text', async () => {
      const one = await store.page({ table: 'aggregates', offset: 0, limit: 10, filter: { sensors: ['sensor-002'] } });
      assert.equal(one.total, 2);
      assert.deepEqual([...new Set(column(one, 'sensor_id'))], ['sensor-002']);
      const late = await store.page({ table: 'aggregates', offset: 0, limit: 10, filter: { from: '2026-11-25T10:00:10Z' } });
      assert.equal(late.total, 3);
      const early = await store.page({ table: 'aggregates', offset: 0, limit: 10, filter: { to: '2026-11-25T10:00:10' } });
      assert.equal(early.total, 3, 'a time without a zone is UTC');
      const both = await store.page({
        table: 'aggregates',
        offset: 0,
        limit: 10,
        filter: { sensors: ['sensor-001', 'sensor-003'], from: '2026-11-25T10:00:10.000Z' },
      });
      assert.equal(both.total, 2);
      const alerts = await store.page({
        table: 'alerts',
        offset: 0,
        limit: 10,
        filter: { from: '2026-11-25T10:00:10Z', sensors: ['sensor-003'] },
      });
      assert.equal(alerts.total, 2);
      const search = await store.page({ table: 'dead_letter', offset: 0, limit: 10, filter: { search: 'EXPECTING VALUE' } });
      assert.equal(search.total, 1);
      await assert.rejects(store.page({ table: 'aggregates', offset: 0, limit: 10, filter: { from: 'yesterday' } }), /From must be a date/);
    });

    it('returns file values as plain text data, markup included', async () => {
      const alerts = await store.page({ table: 'alerts', offset: 0, limit: 10 });
      assert.ok(column(alerts, 'reason').includes(XSS));
      const dead = await store.page({ table: 'dead_letter', offset: 0, limit: 10 });
      assert.ok(column(dead, 'raw').includes(XSS));
      const queried = await store.query(`SELECT reason FROM alerts WHERE reason LIKE '<img%'`);
      assert.deepEqual(queried.rows, [[XSS]]);
    });

    it('charts mean temperature per sensor per window and events per window, with anomalies', async () => {
      const chart = await store.chart({});
      assert.equal(chart.windowMs, 10_000);
      assert.equal(chart.bucketMs, 10_000);
      assert.equal(chart.totalSensors, 3);
      assert.deepEqual(
        chart.series.map((s) => s.sensor),
        ['sensor-001', 'sensor-002', 'sensor-003'],
      );
      const s3 = chart.series[2].points;
      assert.equal(s3.length, 2);
      assert.equal(s3[1][1], 30.125);
      assert.equal(s3[1][2], 2, 'two anomalies in sensor-003 second window');
      assert.deepEqual(
        chart.events.map((e) => [e[1], e[2]]),
        [
          [30, 1],
          [30, 2],
        ],
      );
      const filtered = await store.chart({ filter: { sensors: ['sensor-002'] } });
      assert.deepEqual(
        filtered.series.map((s) => s.sensor),
        ['sensor-002'],
      );
      assert.deepEqual(
        filtered.events.map((e) => e[1]),
        [12, 9],
      );
    });

    it('runs read-only SQL and refuses the rest with a reason', async () => {
      const result = await store.query('SELECT sensor_id, sum(event_count) AS events FROM aggregates GROUP BY 1 ORDER BY 1');
      assert.deepEqual(
        result.columns.map((c) => [c.name, c.kind]),
        [
          ['sensor_id', 'text'],
          ['events', 'integer'],
        ],
      );
      assert.deepEqual(result.rows, [
        ['sensor-001', 21],
        ['sensor-002', 21],
        ['sensor-003', 18],
      ]);
      await assert.rejects(store.query('DROP VIEW aggregates'), (e: Error) => e instanceof QueryRefusedError && /DROP/.test(e.message));
      await assert.rejects(store.query("SELECT * FROM read_csv('/etc/passwd')"), QueryRefusedError);
      await assert.rejects(
        store.query('SELECT * FROM no_such_table'),
        (e: Error) => e instanceof ResultsError && /no_such_table/.test(e.message),
      );
      const relative = await store.query("SELECT count(*) FROM read_csv('aggregates/**/*.csv')");
      assert.deepEqual(relative.rows, [[6]]);
      const json = await store.query('SELECT count(*) FROM aggregates_json');
      assert.deepEqual(json.rows, [[6]], 'JSON aggregates load on demand');
      const described = await store.query('DESCRIBE dead_letter');
      assert.deepEqual(
        described.rows.map((r) => r[0]),
        ['raw', 'error', 'partition', 'offset'],
      );
    });

    it('refuses a file outside the folder and runs the user’s SQL with external access off (DuckDB’s own lock: resultsLock.test.ts)', async () => {
      await assert.rejects(
        store.query("SELECT current_setting('enable_external_access') AS v, 1 FROM read_text('/etc/hostname')"),
        QueryRefusedError,
      );
      const setting = await store.query("SELECT current_setting('enable_external_access')");
      assert.deepEqual(setting.rows, [[false]]);
    });

    it('verifies exactly once: sum(event_count) = expected − dead letters, no duplicates, CSV = JSON', async () => {
      const ok = await store.verify(62);
      assert.equal(ok.ok, true, ok.problems.join('; '));
      assert.equal(ok.eventCountSum, 60);
      assert.equal(ok.deadLetterRows, 2);
      assert.equal(ok.csvRows, 6);
      assert.equal(ok.jsonRows, 6);
      assert.equal(ok.csvJsonMismatch, 0);
      assert.deepEqual(ok.duplicateWindows, []);
      const noExpected = await store.verify();
      assert.equal(noExpected.ok, true);
      const wrong = await store.verify(61);
      assert.equal(wrong.ok, false);
      assert.match(wrong.problems[0], /sum\(event_count\) is 60 but 61 events − 2 dead letters = 59: 1 event counted twice or extra/);
      assert.ok(formatVerifyReport(ok).some((l) => l.startsWith('VERIFY OK')));
    });

    it('exports the filtered, sorted view to CSV and JSON, and a query result', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'results-export-'));
      temps.push(dir);
      const csv = await store.exportRows(
        { kind: 'table', table: 'aggregates', sort: { column: 'avg_temperature', direction: 'asc' }, filter: { sensors: ['sensor-003'] } },
        'csv',
        join(dir, 'a.csv'),
      );
      assert.equal(csv.rows, 2);
      const lines = readFileSync(join(dir, 'a.csv'), 'utf8').trim().split('\n');
      assert.equal(lines[0], HEADER);
      assert.equal(lines[1], 'sensor-003,2026-11-25T10:00:00.000Z,2026-11-25T10:00:10.000Z,8,19.75,19,20.4,41.3,0');
      const json = await store.exportRows({ kind: 'table', table: 'alerts' }, 'json', join(dir, 'a.json'));
      assert.equal(json.rows, 3);
      const parsed = JSON.parse(readFileSync(join(dir, 'a.json'), 'utf8')) as Record<string, unknown>[];
      assert.equal(parsed.length, 3);
      assert.equal(parsed[0].reason, XSS);
      const q = await store.exportRows(
        { kind: 'query', sql: 'SELECT raw FROM dead_letter', sort: { column: 'raw', direction: 'asc' } },
        'csv',
        join(dir, 'q.csv'),
      );
      assert.equal(q.rows, 2);
      assert.equal(readFileSync(join(dir, 'q.csv'), 'utf8'), `raw\n${XSS}\n"{""sensor_id"": ""sensor-004"", ""ts"": ""yesterday"""\n`);
      await assert.rejects(
        store.exportRows({ kind: 'query', sql: "COPY aggregates TO '/tmp/x.csv'" }, 'csv', join(dir, 'x.csv')),
        QueryRefusedError,
      );
    });
  });

  describe('exactly-once failures', () => {
    it('reports duplicate windows', async () => {
      const store = await open(join(fixtures, 'duplicates'));
      const report = await store.verify(70);
      assert.equal(report.ok, false);
      assert.equal(report.eventCountSum, 70);
      assert.deepEqual(report.duplicateWindows, [{ sensor_id: 'sensor-001', window_start: '2026-11-25T10:00:00.000Z', copies: 2 }]);
      assert.equal(report.duplicateWindowCount, 1);
      assert.equal(report.csvJsonMismatch, 0);
      assert.equal(report.problems.length, 1);
      assert.match(report.problems[0], /written more than once/);
    });

    it('reports CSV and JSON files that differ, counting rows on each side', async () => {
      const store = await open(join(fixtures, 'mismatch'));
      const report = await store.verify(60);
      assert.equal(report.ok, false);
      assert.equal(report.csvRows, 6);
      assert.equal(report.jsonRows, 5);
      assert.equal(report.csvJsonMismatch, 3, 'one row missing from JSON, one changed (counted on both sides)');
      assert.match(report.problems.join('\n'), /CSV and JSON aggregate files differ/);
    });

    it('reads aggregates from JSON lines when there is no CSV, and says that a format is missing', async () => {
      const store = await open(join(fixtures, 'json-only'));
      const s = await store.summary();
      assert.equal(s.tables.aggregates.source, 'json');
      assert.equal(s.aggregateRows, 6);
      const report = await store.verify(60);
      assert.equal(report.ok, false);
      assert.match(report.problems.join('\n'), /No CSV aggregate files/);
    });
  });

  describe('bad input', () => {
    let store: ResultsStore;
    before(async () => {
      store = await open(join(fixtures, 'bad'));
    });

    it('explains each bad file and still reads every good row', async () => {
      const s = await store.summary();
      const byFile = new Map(s.messages.map((m) => [m.file, m]));
      const wrongHeader = byFile.get('aggregates/csv/part-0-1-wrong-header.csv');
      assert.equal(wrongHeader?.level, 'error');
      assert.match(wrongHeader!.message, /wrong CSV header, file skipped/);
      const half = byFile.get('aggregates/csv/part-0-2-half-written.csv');
      assert.equal(half?.level, 'warning');
      assert.match(half!.message, /1 bad line skipped \(line 4/);
      assert.match(byFile.get('aggregates/csv/part-0-3-empty.csv')!.message, /empty file/);
      assert.match(byFile.get('aggregates/csv/README.txt')!.message, /ignored/);
      const corrupt = byFile.get('alerts/part-0-0.jsonl');
      assert.equal(corrupt?.level, 'warning');
      assert.match(corrupt!.message, /2 lines skipped \(lines 2, 4\)/);
      assert.equal(s.tables.dead_letter.state, 'missing');
      assert.ok(s.messages.some((m) => m.table === 'dead_letter' && /No dead-letter\/ folder/.test(m.message)));
      assert.equal(s.messages[0].level, 'error', 'errors are listed first');
      // 3 rows from the good file + 2 from the half-written one; the wrong-header file is skipped.
      assert.equal(s.aggregateRows, 5);
      assert.equal(s.alertRows, 2);
      const page = await store.page({ table: 'alerts', offset: 0, limit: 10 });
      assert.deepEqual(column(page, 'event_id'), ['evt-3', 'evt-1']);
      const dead = await store.page({ table: 'dead_letter', offset: 0, limit: 10 });
      assert.equal(dead.total, 0);
      assert.deepEqual(
        dead.columns.map((c) => c.name),
        ['raw', 'error', 'partition', 'offset'],
      );
    });

    it('lists the bad files as warnings of verify', async () => {
      const report = await store.verify();
      assert.ok(report.warnings.some((w) => w.startsWith('aggregates/csv/part-0-1-wrong-header.csv: wrong CSV header')));
    });
  });

  describe('a CSV file without its header line', () => {
    it('says that the first line is data', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'results-noheader-'));
      temps.push(dir);
      mkdirSync(join(dir, 'aggregates'));
      writeFileSync(
        join(dir, 'aggregates', 'part-0.csv'),
        'sensor-001,2026-11-25T10:00:00.000Z,2026-11-25T10:00:10.000Z,10,21.5,20.1,22.3,45.2,0\n',
      );
      const store = await open(dir);
      const s = await store.summary();
      assert.equal(s.aggregateRows, 0);
      assert.match(s.messages[0].message, /no CSV header line \(the first line is data/);
    });
  });

  describe('empty and missing folders', () => {
    it('gives empty tables with the right columns and a message', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'results-empty-'));
      temps.push(dir);
      const store = await open(dir);
      const s = await store.summary();
      assert.equal(s.outputExists, true);
      assert.equal(s.files, 0);
      assert.equal(s.aggregateRows, 0);
      assert.equal(s.timeRange, null);
      assert.equal(s.lastCommittedFile, null);
      assert.deepEqual(RESULT_STATES(s.tables), { aggregates: 'missing', alerts: 'missing', dead_letter: 'missing' });
      assert.equal(s.messages.length, 3);
      const page = await store.page({ table: 'aggregates', offset: 0, limit: 50 });
      assert.equal(page.total, 0);
      assert.equal(page.columns.length, 9);
      const chart = await store.chart({});
      assert.deepEqual(chart.series, []);
      const q = await store.query('SELECT count(*) FROM aggregates');
      assert.deepEqual(q.rows, [[0]]);
      mkdirSync(join(dir, 'alerts'));
      await store.refresh();
      assert.equal((await store.summary()).tables.alerts.state, 'empty');
    });

    it('says the output folder does not exist yet', async () => {
      const store = await open(join(tmpdir(), 'results-test-does-not-exist-' + process.pid));
      const s = await store.summary();
      assert.equal(s.outputExists, false);
      assert.match(s.messages[0].message, /does not exist yet/);
      const report = await store.verify(10);
      assert.equal(report.ok, false);
      assert.match(report.problems[0], /does not exist/);
    });
  });

  describe('live files', () => {
    it('loads new files, replaces rewritten ones, drops removed ones, ignores in-progress ones', async () => {
      const dir = tempCopy('good');
      temps.push(dir);
      const store = await open(dir);
      const v0 = store.dataVersion;
      assert.equal((await store.refresh()).changed, false, 'nothing changed');

      const extra = join(dir, 'aggregates', 'csv', '2026-11-25--10', 'part-7c1e-2.csv');
      writeFileSync(
        join(dir, 'aggregates', 'csv', '2026-11-25--10', '.part-7c1e-3.inprogress.1234'),
        `${HEADER}\nsensor-009,2026-11-25T10:00:20.000Z,2026-11-25T10:00:30.000Z,5,20,19,21,40,0\n`,
      );
      assert.equal((await store.refresh()).changed, false, 'in-progress files do not count');

      writeFileSync(extra, `${HEADER}\nsensor-004,2026-11-25T10:00:20.000Z,2026-11-25T10:00:30.000Z,7,20,19,21,40,0\n`);
      const added = await store.refresh();
      assert.equal(added.changed, true);
      assert.equal(added.added, 1);
      assert.ok(store.dataVersion > v0);
      let s = await store.summary();
      assert.equal(s.aggregateRows, 7);
      assert.equal(s.eventCount, 67);
      assert.equal(s.timeRange?.to, '2026-11-25T10:00:30.000Z');

      writeFileSync(
        extra,
        `${HEADER}\nsensor-004,2026-11-25T10:00:20.000Z,2026-11-25T10:00:30.000Z,8,20,19,21,40,0\nsensor-005,2026-11-25T10:00:20.000Z,2026-11-25T10:00:30.000Z,2,20,19,21,40,0\n`,
      );
      const rewritten = await store.refresh();
      assert.equal(rewritten.rewritten, 1);
      s = await store.summary();
      assert.equal(s.aggregateRows, 8);
      assert.equal(s.eventCount, 70);

      unlinkSync(extra);
      const removed = await store.refresh();
      assert.equal(removed.removed, 1);
      s = await store.summary();
      assert.equal(s.aggregateRows, 6);
      assert.equal(s.eventCount, 60);
    });

    it('keeps a query result until the files change, then runs it again', async () => {
      const dir = tempCopy('good');
      temps.push(dir);
      const store = await open(dir, { rowCap: 3 });
      const first = await store.query({ sql: 'SELECT * FROM aggregates', offset: 0, limit: 2 });
      assert.equal(first.truncated, true, 'six rows, cap of three');
      assert.equal(first.total, 3);
      assert.equal(first.rows.length, 2);
      const second = await store.query({
        sql: 'SELECT * FROM aggregates',
        offset: 2,
        limit: 2,
        sort: { column: 'event_count', direction: 'asc' },
      });
      assert.equal(second.rows.length, 1);
      const all = await store.query({ sql: 'SELECT count(*) AS n FROM aggregates', offset: 0, limit: 10 });
      assert.deepEqual(all.rows, [[6]]);
      mkdirSync(dirname(join(dir, 'aggregates', 'csv', 'new', 'x.csv')), { recursive: true });
      writeFileSync(
        join(dir, 'aggregates', 'csv', 'new', 'x.csv'),
        `${HEADER}\nsensor-004,2026-11-25T10:00:20.000Z,2026-11-25T10:00:30.000Z,7,20,19,21,40,0\n`,
      );
      await store.refresh();
      const after = await store.query({ sql: 'SELECT count(*) AS n FROM aggregates', offset: 0, limit: 10 });
      assert.deepEqual(after.rows, [[7]]);
    });
  });

  describe('paging over a larger table', () => {
    it('tiles the sorted table exactly, pages from the far end included, for every sort', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'results-paging-'));
      temps.push(dir);
      writeGenerated(dir, 523);
      const store = await open(dir);
      for (const sort of [
        { column: 'avg_temperature', direction: 'asc' as const },
        { column: 'sensor_id', direction: 'desc' as const },
        { column: 'anomaly_count', direction: 'desc' as const },
        { column: 'window_start', direction: 'asc' as const },
      ]) {
        const keys: string[] = [];
        const values: CellValue[] = [];
        for (let offset = 0; offset < 523; offset += 50) {
          const page = await store.page({ table: 'aggregates', offset, limit: 50, sort });
          assert.equal(page.total, 523);
          keys.push(...page.rows.map((r) => `${r[0]}@${r[1]}`));
          values.push(...column(page, sort.column));
        }
        assert.equal(keys.length, 523, sort.column);
        assert.equal(new Set(keys).size, 523, `no row twice when sorting by ${sort.column}`);
        const sorted = [...values].sort((a, b) => (a === b ? 0 : (a as number | string) < (b as number | string) ? -1 : 1));
        if (sort.direction === 'desc') sorted.reverse();
        assert.deepEqual(values, sorted, `sorted by ${sort.column}`);
      }
    });

    it('finds deep pages of a text sort through its distinct values: the same rows as one full sort', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'results-keyed-'));
      temps.push(dir);
      writeGenerated(dir, 611, 29);
      // keyedPagingFrom 0: every page of a text sort goes through the distinct values; Infinity: none does.
      const keyed = await open(dir, { keyedPagingFrom: 0 });
      const sorted = await open(dir, { keyedPagingFrom: Number.POSITIVE_INFINITY });
      for (const direction of ['asc', 'desc'] as const) {
        for (const filter of [undefined, { from: '2026-11-25T10:01:00Z', to: '2026-11-25T10:06:00Z' }]) {
          const sort = { column: 'sensor_id', direction };
          const first = await sorted.page({ table: 'aggregates', offset: 0, limit: 1, sort, filter });
          let nulls = 0;
          for (let offset = 0; offset < first.total; offset += 37) {
            const a = await keyed.page({ table: 'aggregates', offset, limit: 50, sort, filter });
            const b = await sorted.page({ table: 'aggregates', offset, limit: 50, sort, filter });
            assert.deepEqual(a.rows, b.rows, `${direction} ${filter ? 'filtered' : 'all'} from ${offset}`);
            nulls += column(a, 'sensor_id').filter((v) => v === null).length;
          }
          assert.ok(nulls > 0, 'rows without a sensor are on the pages too (last)');
        }
      }
    });

    it('charts the latest run when a long pause separates it from older windows', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'results-gap-'));
      temps.push(dir);
      writeGenerated(dir, 7 * 100);
      writeFileSync(
        join(dir, 'aggregates', 'old.csv'),
        `${HEADER}\nsensor-000,2026-01-01T00:00:00.000Z,2026-01-01T00:00:10.000Z,3,21,20,22,40,0\n`,
      );
      const store = await open(dir);
      const chart = await store.chart({ maxPoints: 300 });
      assert.equal(chart.earlierFrom, Date.UTC(2026, 0, 1));
      assert.equal(chart.from, Date.UTC(2026, 10, 25, 10));
      assert.equal(chart.bucketMs, 10_000, 'the latest run keeps one point per window');
      const all = await store.chart({ maxPoints: 300, filter: { from: '2026-01-01' } });
      assert.equal(all.earlierFrom, undefined);
      assert.equal(all.from, Date.UTC(2026, 0, 1));
    });

    it('merges windows into buckets so a chart line stays within maxPoints', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'results-chart-'));
      temps.push(dir);
      writeGenerated(dir, 7 * 400);
      const store = await open(dir);
      const chart = await store.chart({ maxPoints: 50, maxSensors: 3 });
      assert.equal(chart.series.length, 3);
      assert.equal(chart.totalSensors, 7);
      assert.ok(chart.bucketMs >= 10_000 * 8, `bucket ${chart.bucketMs}`);
      for (const s of chart.series) assert.ok(s.points.length <= 50, `${s.sensor}: ${s.points.length} points`);
      assert.ok(chart.events.length <= 50);
    });
  });

  describe('helpers', () => {
    it('turns DuckDB values into text, numbers and booleans', () => {
      assert.equal(toCell(12n), 12);
      assert.equal(toCell(2n ** 63n - 1n), '9223372036854775807');
      assert.equal(toCell(new Date(Date.UTC(2026, 10, 25, 10))), '2026-11-25T10:00:00.000Z');
      assert.equal(toCell(Number.NaN), 'NaN');
      assert.equal(toCell({ a: 1n }), '{"a":"1"}');
      assert.equal(toCell(undefined), null);
    });

    it('prints terminal tables without control characters from the data', () => {
      const lines = formatResultTable(
        [
          { name: 'raw', kind: 'text' },
          { name: 'n', kind: 'integer' },
        ],
        [
          ['a\u001b[31mred\nline', 5],
          [null, 12345],
        ],
      );
      assert.equal(lines.length, 4);
      assert.ok(!lines.join('').includes('\u001b'));
      assert.match(lines[2], /a\\u001b\[31mred\\nline/);
      assert.match(lines[3], /^NULL\s+12345$/);
    });
  });
});

function RESULT_STATES(tables: Record<string, { state: string }>): Record<string, string> {
  return Object.fromEntries(Object.entries(tables).map(([k, v]) => [k, v.state]));
}
