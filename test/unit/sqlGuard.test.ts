import * as assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { refusedFunctions } from '../../src/results/sqlGuard';
import { QueryRefusedError, ResultsError, ResultsStore } from '../../src/results';
import { closeDatabase, openDatabase, type ResultsDatabase } from '../../src/results/cacheDb';
import { checkUserSql } from '../../src/results/userSql';
import { repoRoot } from '../support/cli';

/**
 * The SQL box as a user meets it: read-only SQL over aggregates, alerts and dead_letter runs; anything that touches
 * files outside the output folder, extensions, settings or writes is refused with a reason. The check
 * (src/results/sqlGuard.ts on DuckDB's own parse) and DuckDB's lock (resultsLock.test.ts) together.
 */
describe('the SQL box: read-only SQL over the result tables', function () {
  this.timeout(30_000);
  const base = mkdtempSync(join(tmpdir(), 'kfl-sqlbox-'));
  const output = join(base, 'output');
  const outside = join(base, 'secret.csv');
  let store: ResultsStore;
  let db: ResultsDatabase;

  before(async () => {
    cpSync(join(repoRoot, 'test', 'fixtures', 'results', 'good'), output, { recursive: true });
    writeFileSync(outside, 'a,b\nsecret,42\n');
    store = await ResultsStore.open(output);
    db = await openDatabase(output, { log: () => undefined });
  });
  after(() => {
    store.close();
    closeDatabase(db);
    rmSync(base, { recursive: true, force: true });
  });

  const rows = async (sql: string) => (await store.query(sql)).rows;
  async function refused(sql: string, reason: RegExp): Promise<void> {
    await assert.rejects(store.query(sql), (e: Error) => e instanceof QueryRefusedError && reason.test(e.message), sql);
  }

  it('runs the read-only statement kinds, each giving the rows it asks for', async () => {
    // The fixture: 6 aggregate rows (sensor-001 21 events, sensor-002 21, sensor-003 18), 3 alerts, 2 dead letters.
    const column = (r: unknown[][], i: number) => r.map((row) => row[i]);
    const cases: [string, (r: unknown[][]) => void][] = [
      ['SELECT * FROM aggregates', (r) => assert.deepEqual([r.length, r[0].length], [6, 9])],
      [
        'select sensor_id, sum(event_count) from aggregates group by all order by 2 desc, 1 limit 5',
        (r) =>
          assert.deepEqual(r, [
            ['sensor-001', 21],
            ['sensor-002', 21],
            ['sensor-003', 18],
          ]),
      ],
      ['WITH hot AS (SELECT * FROM alerts WHERE temperature > 50) SELECT count(*) FROM hot', (r) => assert.deepEqual(r, [[2]])],
      ['FROM aggregates LIMIT 5', (r) => assert.equal(r.length, 5)],
      [
        'DESCRIBE aggregates',
        (r) => assert.deepEqual(column(r, 0).slice(0, 4), ['sensor_id', 'window_start', 'window_end', 'event_count']),
      ],
      ['SUMMARIZE alerts', (r) => assert.deepEqual(column(r, 0), ['event_id', 'sensor_id', 'ts', 'temperature', 'reason'])],
      ['EXPLAIN SELECT * FROM dead_letter', (r) => assert.match(String(r[0][1]), /_dead_letter/)],
      ['EXPLAIN ANALYZE SELECT count(*) FROM aggregates', (r) => assert.match(String(r[0][1]), /Query Profiling Information/)],
      [
        'SHOW TABLES',
        (r) =>
          assert.ok(
            ['aggregates', 'alerts', 'dead_letter'].every((t) => column(r, 0).includes(t)),
            JSON.stringify(r),
          ),
      ],
      ['VALUES (1, 2)', (r) => assert.deepEqual(r, [[1, 2]])],
      ['(SELECT 1) UNION ALL (SELECT 2)', (r) => assert.deepEqual(r, [[1], [2]])],
      [
        'SELECT a.sensor_id, b.reason FROM aggregates a JOIN alerts b USING (sensor_id) ORDER BY 1, 2',
        // sensor-002 has 2 windows × 1 alert, sensor-003 2 windows × 2 alerts.
        (r) => assert.deepEqual(column(r, 0), ['sensor-002', 'sensor-002', 'sensor-003', 'sensor-003', 'sensor-003', 'sensor-003']),
      ],
      ['SELECT * FROM range(10)', (r) => assert.deepEqual(column(r, 0), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])],
      [
        'SELECT * FROM aggregates TABLESAMPLE 50%',
        (r) => assert.ok(r.length <= 6 && r.every((row) => row.length === 9), JSON.stringify(r)),
      ],
      [
        "PIVOT aggregates ON sensor_id IN ('sensor-001', 'sensor-002') USING sum(event_count)",
        (r) => assert.deepEqual([r.length, r.reduce((n, row) => n + Number(row[7] ?? 0) + Number(row[8] ?? 0), 0)], [6, 42]),
      ],
      [
        'UNPIVOT (SELECT sensor_id, event_count, anomaly_count FROM aggregates) ON event_count, anomaly_count INTO NAME k VALUE v',
        (r) =>
          assert.deepEqual([r.length, r.filter((row) => row[1] === 'event_count').reduce((n, row) => n + Number(row[2]), 0)], [12, 60]),
      ],
      ['SELECT * FROM query_table(aggregates)', (r) => assert.equal(r.length, 6)],
      ['  SELECT 1;  ', (r) => assert.deepEqual(r, [[1]])],
      ['-- count\nSELECT count(*) FROM aggregates; -- done', (r) => assert.deepEqual(r, [[6]])],
    ];
    for (const [sql, check] of cases) {
      const result = await rows(sql);
      try {
        check(result);
      } catch (error) {
        throw new Error(`${JSON.stringify(sql)} gave ${JSON.stringify(result).slice(0, 300)}: ${(error as Error).message}`);
      }
    }
  });

  it('reads words in strings, quoted names and comments as DuckDB does, and columns named like keywords', async () => {
    assert.deepEqual(await rows("SELECT 'drop table aggregates; delete from x' AS s"), [['drop table aggregates; delete from x']]);
    assert.deepEqual(await rows('SELECT "load", "set" FROM (SELECT 1 AS "load", 2 AS "set")'), [[1, 2]]);
    assert.deepEqual(await rows('SELECT load FROM (SELECT 3 AS load)'), [[3]]);
    assert.deepEqual(await rows('SELECT 1 /* INSERT INTO x; */'), [[1]]);
    assert.deepEqual(await rows('SELECT 1 -- ; DROP TABLE aggregates'), [[1]]);
    assert.deepEqual(await rows("SELECT $$it's ; DROP$$ AS s"), [["it's ; DROP"]]);
  });

  it('refuses more than one statement, and says what to do about a PIVOT without an IN list', async () => {
    await refused('SELECT 1; SELECT 2', /one statement at a time/);
    await refused('SELECT * FROM aggregates; DROP TABLE aggregates', /one statement at a time/);
    await refused("SELECT 1 FROM aggregates WHERE 1 = 1 UNION SELECT 2; COPY x TO 'y'", /one statement at a time/);
    await refused('PIVOT aggregates ON sensor_id USING sum(event_count)', /list the values instead/);
  });

  it('refuses writes, settings, extensions and file output, saying why', async () => {
    const cases: [string, RegExp][] = [
      ['INSERT INTO aggregates VALUES (1)', /INSERT writes rows.*read-only/],
      ["UPDATE aggregates SET sensor_id = 'x'", /UPDATE/],
      ['DELETE FROM alerts', /DELETE/],
      ['CREATE TABLE x AS SELECT 1', /CREATE/],
      ["CREATE SECRET s (TYPE s3, KEY_ID 'k')", /CREATE/],
      ['DROP VIEW aggregates', /DROP/],
      ['ALTER TABLE alerts ADD COLUMN x INT', /ALTER/],
      ["ATTACH ':memory:' AS other", /ATTACH/],
      ['DETACH other', /DETACH/],
      ['INSTALL httpfs', /INSTALL/],
      ['FORCE INSTALL httpfs', /FORCE INSTALL/],
      ['LOAD httpfs', /LOAD/],
      [`COPY (SELECT * FROM aggregates) TO '${join(output, 'copy.csv')}'`, /COPY/],
      ["COPY aggregates FROM '/tmp/in.csv'", /COPY/],
      ["EXPORT DATABASE '/tmp/db'", /EXPORT/],
      ["IMPORT DATABASE '/tmp/db'", /IMPORT/],
      ['SET enable_external_access = true', /SET/],
      ['SET VARIABLE x = 1', /SET/],
      ['RESET threads', /RESET/],
      ['PRAGMA enable_profiling', /PRAGMA/],
      ['CALL pragma_version()', /CALL/],
      ['CHECKPOINT', /CHECKPOINT/],
      ['USE memory', /USE/],
      ['EXPLAIN ANALYZE INSERT INTO aggregates VALUES (1)', /INSERT/],
      ['WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x', /only queries that read/],
    ];
    for (const [sql, reason] of cases) await refused(sql, reason);
    assert.equal(existsSync(join(output, 'copy.csv')), false);
    assert.deepEqual(await rows('SELECT count(*) FROM aggregates'), [[6]], 'the tables are untouched');
  });

  it('refuses the table functions that change the database or the session, however they are named', async () => {
    const calls = [
      'checkpoint()',
      'force_checkpoint()',
      '"CHECKPOINT"()',
      'main.enable_profiling()',
      'disable_peg_parser()',
      'enable_logging()',
      'truncate_duckdb_logs()',
      "query('SELECT * FROM checkpoint()')",
    ];
    for (const sql of [
      ...calls.map((call) => `SELECT * FROM ${call}`),
      "SELECT * FROM json_execute_serialized_sql(json_serialize_sql('SELECT 1'))",
      'SELECT 1 FROM (SELECT * FROM aggregates WHERE sensor_id IN (SELECT * FROM checkpoint()))',
    ]) {
      await refused(sql, /Refused: \w+\(\) .*only reads/);
    }
  });

  it('refuses every file outside the output folder in the shapes the old check missed, naming the file', async () => {
    for (const sql of [
      `PIVOT '${outside}' ON a IN ('secret') USING count(*)`,
      `UNPIVOT '${outside}' ON a INTO NAME k VALUE v`,
      `SELECT * FROM aggregates a JOIN alerts b ON true, '${outside}'`,
      `SELECT * FROM '${outside}' TABLESAMPLE 10%`,
      `SELECT * FROM aggregates TABLESAMPLE 10%, '${outside}'`,
      `SELECT * FROM read_csv('${outside}')`,
      `SELECT * FROM read_csv(concat('${base}/', 'secret.csv'))`,
      `SELECT * FROM read_csv(E'${outside}')`,
      `SELECT * FROM read_text('${outside}')`,
      `SELECT * FROM read_json(['${join(output, 'alerts', 'part-7c1e-0.jsonl')}', '${outside}'])`,
      `DESCRIBE '${outside}'`,
      `SUMMARIZE '${outside}'`,
      "SELECT * FROM read_csv('../secret.csv')",
      "SELECT * FROM 'aggregates/../../secret.csv'",
      `SELECT * FROM glob('${base}/*')`,
      "SELECT * FROM read_csv('https://example.com/data.csv')",
    ]) {
      await refused(sql, /only the files of the output folder .* can be read here/);
    }
    await refused(
      `SELECT * FROM read_csv('${outside}')`,
      new RegExp(`"${outside.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}" is not one of them`),
    );
  });

  it('reads files inside the output folder, relative paths under it', async () => {
    assert.deepEqual(await rows("SELECT count(*) FROM read_csv('aggregates/**/*.csv')"), [[6]]);
    assert.deepEqual(await rows("SELECT count(*) FROM 'aggregates/csv/2026-11-25--10/part-7c1e-0.csv'"), [[3]]);
    assert.deepEqual(await rows("SELECT count(*) FROM read_json(['alerts/part-7c1e-0.jsonl'], format = 'newline_delimited')"), [[3]]);
    const checked = await checkUserSql(db.userConn, "SELECT * FROM read_csv('aggregates/**/*.csv', header = true)", output);
    assert.ok(checked.sql.includes(`'${resolve(output, 'aggregates/**/*.csv')}'`), checked.sql);
    const plain = 'SELECT * FROM aggregates -- as typed';
    assert.equal((await checkUserSql(db.userConn, plain, output)).sql, plain);
  });

  it('exports a query as typed, sorted as the view shows it', async () => {
    const file = join(base, 'export.csv');
    const exported = await store.exportRows(
      { kind: 'query', sql: 'SELECT DISTINCT sensor_id FROM aggregates; -- mine', sort: { column: 'sensor_id', direction: 'desc' } },
      'csv',
      file,
    );
    assert.equal(exported.rows, 3);
    assert.equal(readFileSync(file, 'utf8'), 'sensor_id\nsensor-003\nsensor-002\nsensor-001\n');
    await assert.rejects(
      store.exportRows(
        {
          kind: 'query',
          sql: 'SELECT 1 AS x) AS q; DROP VIEW aggregates; SELECT * FROM (SELECT 1',
          sort: { column: 'x', direction: 'asc' },
        },
        'csv',
        file,
      ),
      ResultsError,
    );
    assert.deepEqual(await rows('SELECT count(*) FROM aggregates'), [[6]]);
  });

  it('says what is wrong with what DuckDB cannot read or run', async () => {
    for (const sql of ['', '  ;  ', '-- just a comment']) await refused(sql, /empty/);
    for (const sql of ["SELECT 'unterminated", 'SELECT 1 /* unterminated', 'hello world', 'GRANT SELECT ON aggregates TO public']) {
      await assert.rejects(
        store.query(sql),
        (e: Error) => e instanceof ResultsError && !(e instanceof QueryRefusedError) && /DuckDB cannot read this SQL/.test(e.message),
        sql,
      );
    }
    await assert.rejects(store.query("SELECT getenv('HOME')"), /getenv does not exist/);
    await assert.rejects(store.query('SELECT * FROM no_such_table'), /no_such_table/);
  });

  it('knows every table function of the bundled DuckDB: refused, or reviewed as read-only', async () => {
    // A DuckDB upgrade that brings a new table function fails here until it is put in one list or the other.
    const reviewedReadOnly = [
      'check_peg_parser',
      'duckdb_approx_database_count',
      'duckdb_columns',
      'duckdb_connection_count',
      'duckdb_constraints',
      'duckdb_coordinate_systems',
      'duckdb_databases',
      'duckdb_dependencies',
      'duckdb_extensions',
      'duckdb_external_file_cache',
      'duckdb_functions',
      'duckdb_indexes',
      'duckdb_keywords',
      'duckdb_log_contexts',
      'duckdb_logs',
      'duckdb_memory',
      'duckdb_optimizers',
      'duckdb_prepared_statements',
      'duckdb_schemas',
      'duckdb_secret_types',
      'duckdb_secrets',
      'duckdb_sequences',
      'duckdb_settings',
      'duckdb_table_sample',
      'duckdb_tables',
      'duckdb_temporary_files',
      'duckdb_types',
      'duckdb_variables',
      'duckdb_views',
      'generate_series',
      'glob',
      'icu_calendar_names',
      'json_each',
      'json_tree',
      'parquet_bloom_probe',
      'parquet_file_metadata',
      'parquet_full_metadata',
      'parquet_kv_metadata',
      'parquet_metadata',
      'parquet_scan',
      'parquet_schema',
      'pg_timezone_names',
      'pragma_collations',
      'pragma_database_size',
      'pragma_metadata_info',
      'pragma_platform',
      'pragma_show',
      'pragma_storage_info',
      'pragma_table_info',
      'pragma_user_agent',
      'pragma_version',
      'query_table',
      'range',
      'read_blob',
      'read_csv',
      'read_csv_auto',
      'read_duckdb',
      'read_json',
      'read_json_auto',
      'read_json_objects',
      'read_json_objects_auto',
      'read_ndjson',
      'read_ndjson_auto',
      'read_ndjson_objects',
      'read_parquet',
      'read_text',
      'repeat',
      'repeat_row',
      'seq_scan',
      'sniff_csv',
      'sql_auto_complete',
      'summary',
      'test_all_types',
      'test_vector_types',
      'unnest',
      'which_secret',
      'duckdb_logs_parsed',
      'duckdb_profiling_settings',
      'histogram',
      'histogram_values',
    ];
    const reader = await db.userConn.runAndReadAll(
      "SELECT DISTINCT function_name FROM duckdb_functions() WHERE function_type IN ('table', 'table_macro') ORDER BY 1",
    );
    const actual = reader.getRowsJS().map((r) => String(r[0]));
    assert.deepEqual(actual, [...reviewedReadOnly, ...refusedFunctions()].sort());
  });
});
