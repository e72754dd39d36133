import * as assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeDatabase, openDatabase, type ResultsDatabase } from '../../src/results/cacheDb';

/**
 * The results store's own DuckDB connection for the user's SQL, used directly — no SQL check in front of it — so
 * that what DuckDB's lock (allowed_directories, enable_external_access off, lock_configuration) refuses by itself
 * is seen here, and what it lets through is known: that, and only that, is left for the check in userSql.ts.
 */
describe('the results store’s DuckDB lock, without the SQL check in front of it', function () {
  this.timeout(30_000);
  const base = mkdtempSync(join(tmpdir(), 'kfl-duckdb-lock-'));
  const output = join(base, 'output');
  const inside = join(output, 'aggregates', 'part-0.csv');
  const outside = join(base, 'secret.csv');
  let db: ResultsDatabase;

  before(async () => {
    mkdirSync(join(output, 'aggregates'), { recursive: true });
    writeFileSync(inside, 'a,b\n1,2\n');
    writeFileSync(outside, 'a,b\nsecret,42\n');
    db = await openDatabase(output, { log: () => undefined });
  });
  after(() => {
    closeDatabase(db);
    rmSync(base, { recursive: true, force: true });
  });

  const run = async (sql: string) => (await db.userConn.runAndReadAll(sql)).getRowsJS();
  const refusedByDuckDB = (sql: string) =>
    assert.rejects(run(sql), (e: Error) => /Permission Error: .*disabled (by|through) configuration/.test(e.message), sql);

  // The shapes the old hand-written check missed (issue 18): a path after PIVOT or UNPIVOT, after a comma that
  // follows JOIN … ON, next to TABLESAMPLE; and the plain ones. Each runs on a file inside the output folder, so
  // the refusal of the outside file is DuckDB's lock and not a syntax error. Beside each, what it gives on the file
  // inside (one row: a=1, b=2), BIGINTs compared as numbers.
  const shapes: [(f: string) => string, (f: string) => unknown[][]][] = [
    [(f) => `PIVOT '${f}' ON a USING count(*)`, () => [[2, 1]]],
    [(f) => `UNPIVOT '${f}' ON a INTO NAME k VALUE v`, () => [[2, 'a', 1]]],
    [(f) => `SELECT * FROM range(1) x JOIN range(1) y ON true, '${f}'`, () => [[0, 0, 1, 2]]],
    [(f) => `SELECT * FROM '${f}' TABLESAMPLE 100%`, () => [[1, 2]]],
    [
      (f) => `SELECT * FROM range(2) TABLESAMPLE 100%, '${f}'`,
      () => [
        [0, 1, 2],
        [1, 1, 2],
      ],
    ],
    [(f) => `SELECT * FROM read_csv('${f}')`, () => [[1, 2]]],
    [(f) => `SELECT filename, content FROM read_text('${f}')`, (f) => [[f, 'a,b\n1,2\n']]],
    [(f) => `SELECT filename, size FROM read_blob('${f}')`, (f) => [[f, 8]]],
    [(f) => `SELECT Delimiter, HasHeader FROM sniff_csv('${f}')`, () => [[',', true]]],
    [(f) => `SELECT * FROM glob('${f}')`, (f) => [[f]]],
    [
      (f) => `SELECT column_name, column_type FROM (DESCRIBE '${f}')`,
      () => [
        ['a', 'BIGINT'],
        ['b', 'BIGINT'],
      ],
    ],
    [
      (f) => `SELECT column_name, max FROM (SUMMARIZE '${f}')`,
      () => [
        ['a', '1'],
        ['b', '2'],
      ],
    ],
    [(f) => `SELECT * FROM query('SELECT * FROM ''${f}''')`, () => [[1, 2]]],
  ];
  const numbers = (rows: unknown[][]) => rows.map((row) => row.map((v) => (typeof v === 'bigint' ? Number(v) : v)));

  it('reads a file inside the output folder in every one of the shapes, giving its row', async () => {
    for (const [shape, expected] of shapes) assert.deepEqual(numbers(await run(shape(inside))), expected(inside), shape(inside));
  });

  it('refuses the same shapes on a file outside it, by itself', async () => {
    for (const [shape] of shapes) await refusedByDuckDB(shape(outside));
    await refusedByDuckDB(`SELECT * FROM read_csv('${join(output, 'aggregates', '..', '..', 'secret.csv')}')`);
    await refusedByDuckDB(`SELECT * FROM '../secret.csv'`);
    await refusedByDuckDB(`SELECT * FROM read_csv('https://example.com/data.csv')`);
    await refusedByDuckDB(`COPY (SELECT 1) TO '${join(base, 'written.csv')}'`);
    await refusedByDuckDB(`ATTACH '${join(base, 'other.duckdb')}' AS other`);
    await refusedByDuckDB('SELECT * FROM duckdb_secrets()');
  });

  it('refuses extensions and changes of its settings, by itself', async () => {
    await assert.rejects(run('INSTALL httpfs'), /Permission Error/);
    await assert.rejects(run('LOAD httpfs'), /Permission Error/);
    await assert.rejects(run('SET enable_external_access = true'), /configuration has been locked/);
    await assert.rejects(run(`SET allowed_directories = ['/']`), /configuration has been locked/);
    assert.deepEqual(await run("SELECT current_setting('enable_external_access')"), [[false]]);
  });

  it('lets through what writes to the database, its files or its session: that is left for the SQL check', async () => {
    await run('CREATE TABLE written AS SELECT 41 + 1 AS x');
    assert.deepEqual(numbers(await run('SELECT x FROM written')), [[42]], 'the table was written');
    await run('DROP TABLE written');
    assert.deepEqual(numbers(await run("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'written'")), [[0]], 'and dropped');
    await run(`COPY (SELECT 1 AS x) TO '${join(output, 'written.csv')}'`);
    assert.equal(readFileSync(join(output, 'written.csv'), 'utf8'), 'x\n1\n', 'the file was written inside the output folder');
    await run("ATTACH ':memory:' AS scratch");
    assert.ok((await run('SELECT database_name FROM duckdb_databases()')).flat().includes('scratch'), 'the database was attached');
    await run('SET VARIABLE v = 1');
    assert.deepEqual(numbers(await run("SELECT getvariable('v')")), [[1]], 'the session variable was set');
    await run('SELECT * FROM checkpoint()');
    await run('SELECT * FROM disable_peg_parser()');
  });
});
