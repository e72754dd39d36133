import * as assert from 'node:assert/strict';
import { checkReadOnlySql } from '../../src/core/sqlGuard';

const root = '/work/output';
const check = (sql: string) => checkReadOnlySql(sql, { allowedRoot: root });

function allowed(sql: string): string {
  const result = check(sql);
  assert.ok(result.ok, `expected allowed: ${sql}\n${result.ok ? '' : result.reason}`);
  return result.sql;
}

function refused(sql: string, reason?: RegExp): string {
  const result = check(sql);
  assert.ok(!result.ok, `expected refused: ${sql}`);
  if (reason) assert.match(result.reason, reason, sql);
  return result.reason;
}

describe('sqlGuard: read-only SQL over the result tables', () => {
  it('allows the read-only statement kinds', () => {
    for (const sql of [
      'SELECT * FROM aggregates',
      'select sensor_id, sum(event_count) from aggregates group by all order by 2 desc limit 5',
      'WITH hot AS (SELECT * FROM alerts WHERE temperature > 40) SELECT count(*) FROM hot',
      'FROM aggregates LIMIT 5',
      'DESCRIBE aggregates',
      'SUMMARIZE alerts',
      'EXPLAIN SELECT * FROM dead_letter',
      'EXPLAIN ANALYZE SELECT count(*) FROM aggregates',
      'SHOW TABLES',
      'VALUES (1, 2)',
      '(SELECT 1) UNION ALL (SELECT 2)',
      'SELECT a.sensor_id, b.reason FROM aggregates a JOIN alerts b USING (sensor_id)',
      'SELECT * FROM range(10)',
      'PIVOT aggregates ON sensor_id USING sum(event_count)',
    ]) {
      allowed(sql);
    }
  });

  it('returns the statement without its trailing semicolon or comments around it', () => {
    assert.equal(allowed('  SELECT 1;  '), 'SELECT 1');
    assert.equal(allowed('-- count\nSELECT count(*) FROM aggregates; -- done'), 'SELECT count(*) FROM aggregates');
  });

  it('does not mistake words in strings, quoted names and comments for keywords', () => {
    allowed("SELECT 'drop table aggregates; delete from x' AS s");
    allowed('SELECT "load", "set" FROM (SELECT 1 AS "load", 2 AS "set")');
    allowed('SELECT 1 /* INSERT INTO x; */');
    allowed('SELECT 1 -- ; DROP TABLE aggregates');
    allowed('SELECT d.comment FROM (SELECT 1 AS comment) d');
    allowed("SELECT $$it's ; DROP$$ AS s");
    allowed("SELECT E'a\\'; DROP TABLE x' AS s");
  });

  it('refuses more than one statement', () => {
    refused('SELECT 1; SELECT 2', /one statement/);
    refused('SELECT * FROM aggregates; DROP TABLE aggregates', /one statement/);
  });

  it('refuses writes, settings, extensions and file output, saying why', () => {
    const cases: [string, RegExp][] = [
      ['INSERT INTO aggregates VALUES (1)', /INSERT.*read-only/],
      ["UPDATE aggregates SET sensor_id = 'x'", /UPDATE/],
      ['DELETE FROM alerts', /DELETE/],
      ['CREATE TABLE x AS SELECT 1', /CREATE/],
      ["CREATE SECRET s (TYPE s3, KEY_ID 'k')", /CREATE/],
      ['DROP VIEW aggregates', /DROP/],
      ['ALTER TABLE alerts ADD COLUMN x INT', /ALTER/],
      ["ATTACH '/tmp/other.duckdb' AS other", /ATTACH/],
      ['DETACH other', /DETACH/],
      ['INSTALL httpfs', /INSTALL/],
      ['FORCE INSTALL httpfs', /force/i],
      ['LOAD httpfs', /LOAD/],
      ["COPY (SELECT * FROM aggregates) TO '/tmp/out.csv'", /COPY/],
      ["COPY aggregates FROM '/tmp/in.csv'", /COPY/],
      ["EXPORT DATABASE '/tmp/db'", /EXPORT/],
      ["IMPORT DATABASE '/tmp/db'", /IMPORT/],
      ["SET enable_external_access = true", /SET/],
      ['RESET threads', /RESET/],
      ['PRAGMA enable_profiling', /PRAGMA/],
      ['CALL pragma_version()', /CALL/],
      ['CHECKPOINT', /CHECKPOINT/],
      ['USE memory', /USE/],
      ['EXPLAIN ANALYZE INSERT INTO aggregates VALUES (1)', /INSERT/],
      ['WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x', /INSERT/],
      ["SELECT 1 FROM aggregates WHERE 1 = 1 UNION SELECT 2; COPY x TO 'y'", /one statement/],
    ];
    for (const [sql, reason] of cases) refused(sql, reason);
  });

  it('refuses file-reading functions outside the output folder', () => {
    refused("SELECT * FROM read_csv('/etc/passwd')", /outside the output folder/);
    refused("SELECT * FROM read_csv_auto('/home/user/.ssh/id_rsa')", /outside/);
    refused("SELECT * FROM read_text('/etc/shadow')", /outside/);
    refused("SELECT * FROM read_json(['/work/output/alerts/a.jsonl', '/etc/passwd'])", /outside/);
    refused("SELECT * FROM read_parquet('/work/output2/x.parquet')", /outside/);
    refused("SELECT * FROM read_csv('../secrets.csv')", /"\.\."/);
    refused("SELECT * FROM read_csv('/work/output/**/../../etc/passwd')", /"\.\."/);
    refused("SELECT * FROM read_csv('~/notes.csv')", /only files in the output folder/);
    refused("SELECT * FROM read_csv('https://example.com/data.csv')", /URL/);
    refused("SELECT * FROM read_parquet('s3://bucket/x.parquet')", /URL/);
    refused("SELECT * FROM \"read_csv\"('/etc/passwd')", /outside/);
    refused("SELECT * FROM READ_CSV('/etc/passwd')", /outside/);
    refused("SELECT * FROM glob('/etc/*')", /outside/);
  });

  it('refuses file functions whose path is not a plain literal', () => {
    refused("SELECT * FROM read_csv(concat('/etc/', 'passwd'))", /plain string literal/);
    refused("SELECT * FROM read_csv(E'/etc/passwd')", /plain string literal/);
    refused('SELECT * FROM read_csv($$/etc/passwd$$)', /plain string literal/);
    refused('SELECT * FROM read_csv($1)', /plain string literal/);
  });

  it('refuses a path used as a table (DuckDB replacement scans)', () => {
    refused("SELECT * FROM '/etc/passwd'", /outside/);
    refused('SELECT * FROM "/etc/passwd"', /outside/);
    refused("FROM '/etc/passwd'", /outside/);
    refused("SELECT * FROM aggregates, '/etc/hosts'", /outside/);
    refused("SELECT * FROM aggregates a JOIN '/etc/hosts.csv' h ON true", /outside/);
    refused("DESCRIBE '/etc/passwd'", /outside/);
    refused("SUMMARIZE '/etc/passwd'", /outside/);
  });

  it('refuses functions that run SQL text or read the environment', () => {
    refused("SELECT * FROM query('SELECT 1')", /query\(\)/);
    refused("SELECT * FROM query_table('aggregates')", /query_table/);
    refused("SELECT getenv('HOME')", /environment/);
    refused("SELECT * FROM sqlite_scan('/tmp/x.db', 't')", /sqlite_scan/);
    refused("SELECT * FROM postgres_scan('host=x', 'public', 't')", /postgres_scan/);
  });

  it('allows files inside the output folder and makes relative paths absolute', () => {
    assert.equal(allowed("SELECT * FROM read_csv('aggregates/**/*.csv')"), "SELECT * FROM read_csv('/work/output/aggregates/**/*.csv')");
    assert.equal(
      allowed("SELECT count(*) FROM read_json(['alerts/a.jsonl', '/work/output/alerts/b.jsonl'], format = 'newline_delimited')"),
      "SELECT count(*) FROM read_json(['/work/output/alerts/a.jsonl', '/work/output/alerts/b.jsonl'], format = 'newline_delimited')",
    );
    assert.equal(allowed("FROM 'aggregates/x.csv'"), "FROM '/work/output/aggregates/x.csv'");
    allowed("SELECT * FROM read_csv('/work/output/aggregates/part-0.csv', header = true, delim = ',')");
  });

  it('refuses the malformed and the empty with a reason', () => {
    refused('', /empty/);
    refused('  ;  ', /empty/);
    refused('-- just a comment', /empty/);
    refused("SELECT 'unterminated", /not closed/);
    refused('SELECT 1 /* unterminated', /not closed/);
    refused('SELECT "unterminated', /not closed/);
    refused("SELECT U&'\\0041'", /U&/);
    refused('GRANT SELECT ON aggregates TO public', /GRANT/);
    refused('hello world', /starting with "hello"/);
  });

  it('refuses a write hidden after a column named like a keyword unless it is quoted', () => {
    const reason = refused('SELECT load FROM aggregates', /LOAD/);
    assert.match(reason, /double quotes/);
  });
});
