import * as assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { CacheUnavailableError, hasResultFiles, ResultsStore } from '../../src/results';

function repoRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'package.json'))) dir = resolve(dir, '..');
  return dir;
}

const fixtures = join(repoRoot(), 'test', 'fixtures', 'results');
const GOOD_CSV = join('aggregates', 'csv', '2026-11-25--10', 'part-7c1e-0.csv');

/** The results cache: the rows of an earlier session come back from the DuckDB file; only changed files are read. */
describe('ResultsStore with a cache file', function () {
  this.timeout(30_000);
  let dir: string;
  let output: string;
  let cacheFile: string;
  const opened: ResultsStore[] = [];
  const open = async (folder = output, file = cacheFile) => {
    const log: string[] = [];
    const store = await ResultsStore.open(folder, { cacheFile: file, log: (line) => log.push(line) });
    opened.push(store);
    return { store, log };
  };
  const closeAll = () => {
    for (const s of opened.splice(0)) s.close();
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'results-cache-test-'));
    output = join(dir, 'output');
    cpSync(join(fixtures, 'good'), output, { recursive: true });
    cacheFile = ResultsStore.cacheFileFor(join(dir, 'storage'), output);
  });
  afterEach(() => {
    closeAll();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Rewrites a file with other numbers of the same length and puts its size and modification time back. */
  function rewriteKeepingStat(file: string, from: string, to: string): void {
    assert.equal(from.length, to.length);
    const before = statSync(file);
    const text = readFileSync(file, 'utf8');
    assert.ok(text.includes(from), `${file} has ${from}`);
    writeFileSync(file, text.replace(from, to));
    utimesSync(file, before.atime, before.mtime);
  }

  it('gives the same summary and rows after a reopen, from the cache and not from the files', async () => {
    // A whole-second modification time, which utimes can put back exactly after the rewrite below.
    const stamp = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000);
    utimesSync(join(output, GOOD_CSV), stamp, stamp);
    const first = await open();
    const summary = await first.store.summary();
    const page = await first.store.page({ table: 'aggregates', offset: 0, limit: 50 });
    closeAll();
    assert.ok(existsSync(cacheFile), 'the cache file is written');

    // Same size and modification time, other content: a store that reads the file again would show 99.9.
    rewriteKeepingStat(join(output, GOOD_CSV), ',21.5,', ',99.9,');

    const again = await open();
    assert.ok(
      again.log.some((l) => /file\(s\) known from the cache/.test(l)),
      again.log.join('\n'),
    );
    const summary2 = await again.store.summary();
    assert.deepEqual({ ...summary2, dataVersion: 0 }, { ...summary, dataVersion: 0 });
    const page2 = await again.store.page({ table: 'aggregates', offset: 0, limit: 50 });
    assert.deepEqual(page2.rows, page.rows);
    assert.ok(!JSON.stringify(page2.rows).includes('99.9'), 'the unchanged-looking file was not read again');
  });

  it('reads a file again when it changed while closed, and drops the rows of a removed one', async () => {
    const first = await open();
    const before = await first.store.summary();
    closeAll();

    const csv = join(output, GOOD_CSV);
    const text = readFileSync(csv, 'utf8').trimEnd().split('\n');
    const header = text[0];
    // One row fewer, and a later modification time.
    writeFileSync(csv, [header, ...text.slice(1, -1)].join('\n') + '\n');
    const later = new Date(statSync(csv).mtimeMs + 5000);
    utimesSync(csv, later, later);
    unlinkSync(join(output, 'alerts', readdirJsonl(join(output, 'alerts'))[0]));

    const again = await open();
    const after = await again.store.summary();
    assert.equal(after.aggregateRows, before.aggregateRows - 1, 'the rewritten file counts once, with its new rows');
    assert.equal(after.alertRows, 0, 'the removed file has no rows left');
    const verify = await again.store.verify();
    assert.equal(verify.duplicateWindowCount, 0, 'no row was loaded twice');
  });

  it('keeps the messages about bad files', async () => {
    cpSync(join(fixtures, 'bad'), output, { recursive: true, force: true });
    rmSync(join(output, 'aggregates', 'json'), { recursive: true, force: true });
    const first = await open();
    const messages = (await first.store.summary()).messages;
    assert.ok(messages.some((m) => /wrong CSV header/.test(m.message)));
    closeAll();
    const again = await open();
    assert.deepEqual((await again.store.summary()).messages, messages);
  });

  it('makes a damaged cache file anew', async () => {
    const first = await open();
    const rows = (await first.store.summary()).aggregateRows;
    closeAll();
    writeFileSync(cacheFile, 'not a DuckDB file '.repeat(1000));
    const again = await open();
    assert.ok(
      again.log.some((l) => /could not be opened .* making it anew/.test(l)),
      again.log.join('\n'),
    );
    assert.equal((await again.store.summary()).aggregateRows, rows);
  });

  it('reads the files into memory when another process holds the cache', async () => {
    await (await open()).store.summary();
    closeAll();
    const holder = await holdCache(cacheFile);
    try {
      const again = await open();
      assert.ok(
        again.log.some((l) => /in use by another process/.test(l)),
        again.log.join('\n'),
      );
      assert.equal((await again.store.summary()).aggregateRows, 6);
    } finally {
      holder.kill();
    }
  });

  it('does not share a cache file between two stores of this process', async () => {
    const first = await open();
    const second = await open();
    assert.ok(
      second.log.some((l) => /open already in this window/.test(l)),
      second.log.join('\n'),
    );
    assert.equal((await second.store.summary()).aggregateRows, (await first.store.summary()).aggregateRows);
  });

  it('opens nothing for background indexing (cacheOnly) when the cache is busy, and indexes when it is free', async () => {
    const stamp = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000);
    utimesSync(join(output, GOOD_CSV), stamp, stamp);
    const rows = (await (await open()).store.summary()).aggregateRows;
    // Held by this process (the view's store): refused without reading a file.
    await assert.rejects(ResultsStore.open(output, { cacheFile, cacheOnly: true }), CacheUnavailableError);
    closeAll();
    const holder = await holdCache(cacheFile);
    try {
      await assert.rejects(ResultsStore.open(output, { cacheFile, cacheOnly: true }), CacheUnavailableError);
    } finally {
      await stopHolder(holder);
    }
    const indexer = await ResultsStore.open(output, { cacheFile, cacheOnly: true });
    opened.push(indexer);
    assert.equal((await indexer.summary()).aggregateRows, rows);
    closeAll();
    // What the indexer loaded is what the next session reads: a file that looks unchanged is not parsed again.
    rewriteKeepingStat(join(output, GOOD_CSV), ',21.5,', ',99.9,');
    const next = await open();
    assert.ok(
      next.log.some((l) => /file\(s\) known from the cache/.test(l)),
      next.log.join('\n'),
    );
    const page = await next.store.page({ table: 'aggregates', offset: 0, limit: 50 });
    assert.equal(page.rows.length, rows);
    assert.ok(!JSON.stringify(page.rows).includes('99.9'), 'a file the indexer loaded was read again');
  });

  it('tells whether a folder has result files before any DuckDB is opened', async () => {
    assert.equal(await hasResultFiles(output), true);
    assert.equal(await hasResultFiles(join(dir, 'missing')), false);
    const empty = join(dir, 'empty');
    cpSync(output, empty, { recursive: true });
    for (const f of readdirSync(empty, { recursive: true, withFileTypes: true })) if (f.isFile()) unlinkSync(join(f.parentPath, f.name));
    assert.equal(await hasResultFiles(empty), false);
  });

  it('drops rows that an interrupted session left without their file listing', async () => {
    const stamp = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000);
    utimesSync(join(output, GOOD_CSV), stamp, stamp);
    const rows = (await (await open()).store.summary()).aggregateRows;
    closeAll();
    const instance = await DuckDBInstance.create(cacheFile);
    const conn = await instance.connect();
    await conn.run(`INSERT INTO _agg_csv SELECT * REPLACE (9999 AS _file_id) FROM _agg_csv`);
    conn.closeSync();
    instance.closeSync();
    const again = await open();
    assert.equal((await again.store.summary()).aggregateRows, rows);
  });

  it('starts over when the cache was written for another output folder', async () => {
    const other = join(dir, 'other');
    cpSync(join(fixtures, 'duplicates'), other, { recursive: true });
    const first = await open(other, cacheFile);
    const otherRows = (await first.store.summary()).aggregateRows;
    closeAll();
    const again = await open(output, cacheFile);
    assert.ok(
      again.log.some((l) => /written for another version or folder/.test(l)),
      again.log.join('\n'),
    );
    const rows = (await again.store.summary()).aggregateRows;
    assert.equal(rows, 6);
    assert.notEqual(rows, otherRows + 6);
  });
});

function readdirJsonl(folder: string): string[] {
  return readdirSync(folder).filter((f) => f.endsWith('.jsonl'));
}

/** A second process that opens the cache file (DuckDB locks it) until killed. */
function holdCache(file: string): Promise<ChildProcess> {
  const duckdb = require.resolve('@duckdb/node-api');
  const script = `require(${JSON.stringify(duckdb)}).DuckDBInstance.create(${JSON.stringify(file)}).then(() => { console.log('held'); setInterval(() => {}, 1000); })`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error('the holder process did not open the cache within 10 s'));
    }, 10_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('held')) {
        clearTimeout(timer);
        resolvePromise(child);
      }
    });
    child.on('exit', (code) => reject(new Error(`the holder process exited (${code})`)));
  });
}

/** Kills a holder and waits until it has gone (and with it its lock on the cache file). */
function stopHolder(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => {
    child.once('exit', () => done());
    child.kill();
  });
}

/** What the view asks for first is computed while its webview loads; a newly committed file makes it stale. */
describe('ResultsStore answers prepared ahead', function () {
  this.timeout(30_000);
  let dir: string;
  let store: ResultsStore;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'results-prefetch-test-'));
    cpSync(join(fixtures, 'good'), dir, { recursive: true });
    store = await ResultsStore.open(dir);
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers a prefetched page and chart from memory, the same rows whatever the order of the filter fields', async () => {
    const page = {
      table: 'aggregates' as const,
      offset: 0,
      limit: 100,
      sort: { column: 'avg_temperature', direction: 'desc' as const },
      filter: { from: '2026-11-25T10:00', sensors: ['sensor-002', 'sensor-001'] },
    };
    const chart = { maxPoints: 200, maxSensors: 12, filter: page.filter };
    await store.prefetch({ page, chart });
    const again = await store.page({
      filter: { sensors: ['sensor-001', 'sensor-002'], from: '2026-11-25T10:00' },
      limit: 100,
      offset: 0,
      sort: page.sort,
      table: 'aggregates',
    });
    assert.equal(again.elapsedMs, 0, 'from the cache');
    assert.equal(again.total, 4);
    assert.deepEqual(
      again.rows.map((r) => r[0]),
      ['sensor-002', 'sensor-002', 'sensor-001', 'sensor-001'],
    );
    assert.equal((await store.chart(chart)).elapsedMs, 0);
    const other = await store.page({ ...page, offset: 1, limit: 1 });
    assert.deepEqual(other.rows, [again.rows[1]], 'another page is computed, not taken from the cache');
  });

  it('computes the page again after a new file is committed', async () => {
    const request = { table: 'aggregates' as const, offset: 0, limit: 100 };
    await store.prefetch({ page: request });
    const before = await store.page(request);
    writeFileSync(
      join(dir, 'aggregates', 'csv', '2026-11-25--10', 'part-7c1e-9.csv'),
      'sensor_id,window_start,window_end,event_count,avg_temperature,min_temperature,max_temperature,avg_humidity,anomaly_count\nsensor-009,2026-11-25T11:00:00.000Z,2026-11-25T11:00:10.000Z,4,20,19,21,40,0\n',
    );
    assert.equal((await store.refresh()).added, 1);
    const after = await store.page(request);
    assert.equal(after.total, before.total + 1);
    assert.equal(after.rows[0][0], 'sensor-009', 'the newest window comes first');
  });
});
