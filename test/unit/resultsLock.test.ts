import * as assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
  // the refusal of the outside file is DuckDB's lock and not a syntax error.
  const shapes = [
    (f: string) => `PIVOT '${f}' ON a USING count(*)`,
    (f: string) => `UNPIVOT '${f}' ON a INTO NAME k VALUE v`,
    (f: string) => `SELECT * FROM range(1) x JOIN range(1) y ON true, '${f}'`,
    (f: string) => `SELECT * FROM '${f}' TABLESAMPLE 50%`,
    (f: string) => `SELECT * FROM range(2) TABLESAMPLE 50%, '${f}'`,
    (f: string) => `SELECT * FROM read_csv('${f}')`,
    (f: string) => `SELECT * FROM read_text('${f}')`,
    (f: string) => `SELECT * FROM read_blob('${f}')`,
    (f: string) => `SELECT * FROM sniff_csv('${f}')`,
    (f: string) => `SELECT * FROM glob('${f}')`,
    (f: string) => `DESCRIBE '${f}'`,
    (f: string) => `SUMMARIZE '${f}'`,
    (f: string) => `SELECT * FROM query('SELECT * FROM ''${f}''')`,
  ];

  it('reads a file inside the output folder in every one of the shapes', async () => {
    for (const shape of shapes) await run(shape(inside));
  });

  it('refuses the same shapes on a file outside it, by itself', async () => {
    for (const shape of shapes) await refusedByDuckDB(shape(outside));
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
    await run('CREATE TABLE written AS SELECT 1 AS x');
    await run('DROP TABLE written');
    await run(`COPY (SELECT 1 AS x) TO '${join(output, 'written.csv')}'`);
    await run("ATTACH ':memory:' AS scratch");
    await run('SET VARIABLE v = 1');
    await run('SELECT * FROM checkpoint()');
    await run('SELECT * FROM disable_peg_parser()');
  });
});
