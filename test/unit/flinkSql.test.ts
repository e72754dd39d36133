import * as assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHANGE_OP, ChangeLog, ChangelogTable, formatTable, type ChangeRow, type RowKind } from '../../src/flink/sqlChangelog';
import { formatProblem, sqlProblem } from '../../src/flink/sqlErrors';
import { labTableWrite, splitStatements, statementKind, statementParts } from '../../src/flink/sqlStatements';
import { repoRoot } from '../support/cli';

const texts = (source: string) => splitStatements(source).map((s) => s.text);

describe('Flink SQL: splitting a source into statements', () => {
  it("ends a statement at ';' only outside strings, quoted names and comments", () => {
    assert.deepEqual(texts("SELECT 'a;b' AS x; SELECT 'it''s;' AS y"), ["SELECT 'a;b' AS x", "SELECT 'it''s;' AS y"]);
    assert.deepEqual(texts('SELECT "x;y" FROM t; SELECT 2'), ['SELECT "x;y" FROM t', 'SELECT 2']);
    assert.deepEqual(texts('SELECT `a;b`, `c``;d` FROM t;SELECT 3'), ['SELECT `a;b`, `c``;d` FROM t', 'SELECT 3']);
    assert.deepEqual(texts("SELECT E'it\\'s;' AS q; SELECT 4"), ["SELECT E'it\\'s;' AS q", 'SELECT 4']);
    assert.deepEqual(texts("SELECT 1 -- not the end; 'quote\n;\n/* ; it's */ SELECT 2;"), [
      "SELECT 1 -- not the end; 'quote",
      "/* ; it's */ SELECT 2",
    ]);
  });

  it('drops empty and comment-only statements and keeps a last one without its semicolon', () => {
    assert.deepEqual(texts(';;  ; -- only a comment\n; /* c; */ ;SELECT 1;;\n-- trailing note'), ['SELECT 1']);
    assert.deepEqual(texts('SELECT 1;\nSELECT 2\n'), ['SELECT 1', 'SELECT 2']);
    assert.deepEqual(texts(''), []);
    assert.deepEqual(texts("SELECT 'never closed; at all"), ["SELECT 'never closed; at all"]);
  });

  it('places each statement at its first character: offset, 1-based line and column; \\r\\n is one line end', () => {
    const source = "SET 'a' = 'b';\r\n  SELECT 2;\r\n\r\n\tSELECT\r\n 3;\n-- lead\nSELECT 4";
    const statements = splitStatements(source);
    assert.deepEqual(
      statements.map(({ text, line, column }) => ({ text, line, column })),
      [
        { text: "SET 'a' = 'b'", line: 1, column: 1 },
        { text: 'SELECT 2', line: 2, column: 3 },
        { text: 'SELECT\r\n 3', line: 4, column: 2 },
        { text: '-- lead\nSELECT 4', line: 6, column: 1 },
      ],
    );
    assert.deepEqual(
      statements.map((s) => s.offset),
      [0, 18, 32, 44],
    );
    for (const s of statements) assert.equal(source.slice(s.offset, s.offset + s.text.length), s.text);
  });

  it('keeps a statement set whole, BEGIN to END, and gives its parts in order for the gateway', () => {
    const source = [
      'SET a = b;',
      'BEGIN STATEMENT SET;',
      '  INSERT INTO mine SELECT 1;',
      '  INSERT INTO other SELECT CASE WHEN x THEN 1 END FROM t;',
      'END;',
      'SELECT 2',
    ].join('\n');
    const [set, begin, query] = splitStatements(source);
    assert.equal(begin.text, source.slice(source.indexOf('BEGIN'), source.indexOf('END;') + 3));
    assert.deepEqual([set.text, query.text], ['SET a = b', 'SELECT 2']);
    assert.equal(statementKind(begin.text), 'statement-set');
    assert.deepEqual(
      statementParts(begin).map(({ text, line, column }) => ({ text, line, column })),
      [
        { text: 'BEGIN STATEMENT SET', line: 2, column: 1 },
        { text: 'INSERT INTO mine SELECT 1', line: 3, column: 3 },
        { text: 'INSERT INTO other SELECT CASE WHEN x THEN 1 END FROM t', line: 4, column: 3 },
        { text: 'END', line: 5, column: 1 },
      ],
    );
    for (const part of statementParts(begin)) assert.equal(source.slice(part.offset, part.offset + part.text.length), part.text);
    assert.deepEqual(statementParts(query), [query]);
    const inline = 'SELECT 1;  BEGIN STATEMENT SET; INSERT INTO a SELECT 1; END';
    assert.deepEqual(
      statementParts(splitStatements(inline)[1]).map(({ offset, line, column }) => [offset, line, column]),
      [
        [11, 1, 12],
        [32, 1, 33],
        [56, 1, 57],
      ],
    );

    const execute = 'EXECUTE STATEMENT SET BEGIN\nINSERT INTO a SELECT CASE WHEN x THEN 1 END FROM t;\nINSERT INTO b SELECT 2;\nEND;';
    assert.deepEqual(texts(`${execute} SELECT 1`), [execute.slice(0, -1), 'SELECT 1']);
    assert.deepEqual(statementParts(splitStatements(execute)[0]).length, 1);
    assert.deepEqual(texts('EXPLAIN STATEMENT SET BEGIN INSERT INTO a SELECT 1; END; SELECT 1').length, 2);
    // A set never closed runs to the end: its INSERTs are not sent on their own.
    assert.deepEqual(texts('BEGIN STATEMENT SET; INSERT INTO a SELECT 1; INSERT INTO b SELECT 2;').length, 1);
  });
});

describe('Flink SQL: statement kinds', () => {
  it('names each statement by its first keywords, past comments and parentheses', () => {
    const cases: [string, string][] = [
      ["SET 'table.exec.state.ttl' = '1 h'", 'set'],
      ['RESET', 'reset'],
      ['-- the hot ones\nSELECT * FROM sensor_data', 'query'],
      ['/* c */ (SELECT 1) UNION (SELECT 2)', 'query'],
      ['with t AS (SELECT 1) SELECT * FROM t', 'query'],
      ['VALUES (1), (2)', 'query'],
      ['INSERT INTO mine SELECT * FROM sensor_data', 'insert'],
      ['insert overwrite mine SELECT 1', 'insert'],
      ["CREATE TABLE mine WITH ('connector' = 'blackhole') AS SELECT * FROM sensor_data", 'insert'],
      ['EXECUTE STATEMENT SET BEGIN INSERT INTO a SELECT 1; END', 'statement-set'],
      ['BEGIN STATEMENT SET', 'statement-set'],
      ["CREATE TABLE mine (x INT, y AS x + 1) WITH ('connector' = 'print')", 'ddl'],
      ['CREATE VIEW v AS SELECT 1', 'ddl'],
      ['DROP TABLE IF EXISTS mine', 'ddl'],
      ['ALTER TABLE mine RENAME TO yours', 'ddl'],
      ['SHOW TABLES', 'show'],
      ['DESCRIBE sensor_data', 'show'],
      ['desc sensor_data', 'show'],
      ['EXPLAIN SELECT 1', 'other'],
      ['USE CATALOG default_catalog', 'other'],
      ['END', 'other'],
      ['', 'other'],
    ];
    for (const [text, kind] of cases) assert.equal(statementKind(text), kind, text);
  });
});

describe('Flink SQL: the lab tables are read-only', () => {
  it('refuses each way of writing, dropping, altering or re-creating one, naming it', () => {
    const refused: [string, string][] = [
      ['INSERT INTO sensor_data VALUES (1)', 'sensor_data'],
      ['insert overwrite Sensor_Alerts SELECT * FROM mine', 'sensor_alerts'],
      ['INSERT INTO `default_catalog`.`default_database`.`sensor_data` SELECT 1', 'sensor_data'],
      ['INSERT INTO cat.db.aggregates SELECT 1', 'aggregates'],
      ['/* mine */ INSERT INTO aggregates (a, b) SELECT 1, 2', 'aggregates'],
      ['EXECUTE STATEMENT SET BEGIN INSERT INTO mine SELECT 1; INSERT INTO sensor_alerts SELECT 2; END', 'sensor_alerts'],
      ['BEGIN STATEMENT SET;\nINSERT INTO mine SELECT 1;\nINSERT INTO `aggregates` SELECT 2;\nEND', 'aggregates'],
      ['DROP TABLE sensor_data', 'sensor_data'],
      ['DROP TABLE IF EXISTS default_database.sensor_data', 'sensor_data'],
      ['DROP TEMPORARY VIEW IF EXISTS aggregates', 'aggregates'],
      ["ALTER TABLE sensor_data SET ('scan.startup.mode' = 'latest-offset')", 'sensor_data'],
      ['ALTER VIEW aggregates AS SELECT 1', 'aggregates'],
      ["CREATE TABLE sensor_data (x INT) WITH ('connector' = 'print')", 'sensor_data'],
      ['CREATE TABLE IF NOT EXISTS `sensor_alerts` (x INT)', 'sensor_alerts'],
      ['CREATE OR REPLACE TEMPORARY VIEW aggregates AS SELECT 1', 'aggregates'],
      ['CREATE TEMPORARY TABLE sensor_data (x INT)', 'sensor_data'],
      ['ALTER TABLE mine RENAME TO sensor_data', 'sensor_data'],
      ['DELETE FROM aggregates WHERE 1 = 1', 'aggregates'],
    ];
    for (const [sql, table] of refused) {
      const sentence = labTableWrite(sql);
      assert.ok(sentence, sql);
      assert.ok(sentence.startsWith(`${table} is one of the lab's`), `${sql} -> ${sentence}`);
    }
    assert.equal(
      labTableWrite('INSERT INTO sensor_data SELECT 1'),
      "sensor_data is one of the lab's read-only tables: INSERT INTO a table of your own " +
        "(CREATE TABLE t (...) WITH ('connector' = 'print'), 'blackhole', or a new Kafka topic).",
    );
    assert.match(labTableWrite('DROP TABLE sensor_data') ?? '', /cannot be dropped here: create a table of your own under another name/);
  });

  it('allows reads, names in strings and comments, look-alike names and other tables', () => {
    const allowed = [
      'SELECT * FROM sensor_data',
      'INSERT INTO mine SELECT * FROM sensor_data JOIN aggregates ON TRUE',
      "INSERT INTO mine SELECT 'INSERT INTO sensor_data' AS s FROM t",
      'INSERT INTO mine /* INSERT INTO sensor_data */ SELECT 1',
      'SELECT 1 -- DROP TABLE sensor_data',
      'INSERT INTO sensor_data_copy SELECT * FROM sensor_data',
      'INSERT INTO `sensor_data.x` SELECT 1',
      'INSERT INTO `sensor_data``` SELECT 1', // a table named sensor_data` (a doubled backquote is one)
      'CREATE TABLE mine LIKE sensor_data',
      'CREATE VIEW hot AS SELECT * FROM sensor_alerts',
      'SHOW CREATE TABLE sensor_data',
      'DESCRIBE aggregates',
      'EXPLAIN INSERT INTO sensor_data SELECT 1',
      'DROP TABLE mine',
      "INSERT INTO mine SELECT E'\\' INSERT INTO sensor_data' FROM t",
    ];
    for (const sql of allowed) assert.equal(labTableWrite(sql), undefined, sql);
    assert.match(labTableWrite('INSERT INTO mine SELECT 1', ['mine']) ?? '', /^mine is one of the lab's read-only tables/);
  });
});

describe('Flink SQL: a changelog folded into its table', () => {
  const change = (kind: RowKind, ...fields: unknown[]): ChangeRow => ({ kind, fields });

  it("keeps an updated aggregate in its row's place and ends with the latest values", () => {
    const table = new ChangelogTable(['sensor_id', 'events']);
    const changes = [
      change('INSERT', 's-1', 1),
      change('INSERT', 's-2', 1),
      change('UPDATE_BEFORE', 's-1', 1),
      change('UPDATE_AFTER', 's-1', 2),
      change('INSERT', 's-3', 1),
      change('UPDATE_BEFORE', 's-2', 1),
      change('UPDATE_AFTER', 's-2', 5),
      change('UPDATE_BEFORE', 's-1', 2),
      change('UPDATE_AFTER', 's-1', 3),
    ];
    for (const c of changes) table.apply(c);
    assert.deepEqual(table.rows(), [
      ['s-1', 3],
      ['s-2', 5],
      ['s-3', 1],
    ]);
    assert.deepEqual(table.counts, { '+I': 3, '-U': 3, '+U': 3, '-D': 0 });
    assert.equal(table.unmatched, 0);
    assert.deepEqual(CHANGE_OP, { INSERT: '+I', UPDATE_BEFORE: '-U', UPDATE_AFTER: '+U', DELETE: '-D' });
  });

  it('removes on -D, equal rows one at a time, and counts a retraction that matches nothing', () => {
    const table = new ChangelogTable(['v']);
    for (const c of [change('INSERT', 'x'), change('INSERT', 'y'), change('INSERT', 'x'), change('INSERT', { b: 1, a: [2] })])
      table.apply(c);
    table.apply(change('DELETE', 'x'));
    assert.deepEqual(table.rows(), [['x'], ['y'], [{ b: 1, a: [2] }]]);
    table.apply(change('DELETE', { a: [2], b: 1 })); // equal fields, keys in another order
    table.apply(change('DELETE', 'x'));
    assert.deepEqual(table.rows(), [['y']]);
    table.apply(change('DELETE', 'x'));
    table.apply(change('UPDATE_BEFORE', 'z'));
    table.apply(change('UPDATE_AFTER', 'z2'));
    assert.deepEqual(table.rows(), [['y'], ['z2']]);
    assert.equal(table.unmatched, 2);
    assert.deepEqual(table.counts, { '+I': 4, '-U': 1, '+U': 1, '-D': 4 });
  });

  it('appends a +U that does not follow its -U', () => {
    const table = new ChangelogTable(['k', 'n']);
    for (const c of [change('INSERT', 'a', 1), change('INSERT', 'b', 1), change('UPDATE_BEFORE', 'a', 1), change('INSERT', 'c', 1)]) {
      table.apply(c);
    }
    table.apply(change('UPDATE_AFTER', 'a', 2));
    assert.deepEqual(table.rows(), [
      ['b', 1],
      ['c', 1],
      ['a', 2],
    ]);
  });

  it('folds a long stream of updates, keeping order and values across compactions', () => {
    // The same semantics the slow way: a plain array, searched and spliced on each change (the rows here are all distinct).
    const naive: unknown[][] = [];
    let freed: number | undefined;
    const applyNaive = (c: ChangeRow): void => {
      const held = freed;
      freed = undefined;
      if (c.kind === 'INSERT' || c.kind === 'UPDATE_AFTER') {
        if (c.kind === 'UPDATE_AFTER' && held !== undefined) naive.splice(held, 0, c.fields);
        else naive.push(c.fields);
        return;
      }
      const i = naive.findIndex((r) => JSON.stringify(r) === JSON.stringify(c.fields));
      if (i < 0) return;
      naive.splice(i, 1);
      if (c.kind === 'UPDATE_BEFORE') freed = i;
    };
    const table = new ChangelogTable(['k', 'n']);
    const apply = (c: ChangeRow): void => {
      table.apply(c);
      applyNaive(c);
    };
    const keys = 50;
    const value = new Array<number>(keys).fill(0);
    for (let k = 0; k < keys; k++) apply(change('INSERT', `k${k}`, 0));
    for (let round = 1; round <= 300; round++) {
      for (let k = 0; k < keys; k++) {
        apply(change('UPDATE_BEFORE', `k${k}`, value[k]));
        apply(change('UPDATE_AFTER', `k${k}`, ++value[k]));
      }
      // A row deleted and inserted again leaves its slot free for good; 3000 of them make several compactions.
      for (let j = 0; j < 10; j++) {
        const k = (round * 7 + j) % keys;
        apply(change('DELETE', `k${k}`, value[k]));
        apply(change('INSERT', `k${k}`, ++value[k]));
      }
    }
    assert.equal(table.rows().length, keys);
    assert.deepEqual(table.rows(), naive);
    assert.deepEqual(
      table.rows().map((r) => r[1]),
      naive.map((r) => value[Number(String(r[0]).slice(1))]),
    );
    assert.equal(table.unmatched, 0);
  });

  it('with a cap, keeps the newest rows: the oldest (top) row goes and is counted, across updates and compactions', () => {
    const table = new ChangelogTable(['k', 'n'], 3);
    for (const k of ['a', 'b', 'c', 'd']) table.apply(change('INSERT', k, 1));
    assert.deepEqual(table.rows(), [
      ['b', 1],
      ['c', 1],
      ['d', 1],
    ]);
    assert.deepEqual([table.size, table.dropped], [3, 1]);
    // An update keeps its row's place and drops nothing; a retraction of the dropped row matches nothing, so its +U
    // comes back as the newest row, at the bottom, and pushes out the oldest.
    table.apply(change('UPDATE_BEFORE', 'c', 1));
    table.apply(change('UPDATE_AFTER', 'c', 2));
    table.apply(change('UPDATE_BEFORE', 'a', 1));
    table.apply(change('UPDATE_AFTER', 'a', 2));
    assert.deepEqual(table.rows(), [
      ['c', 2],
      ['d', 1],
      ['a', 2],
    ]);
    assert.deepEqual([table.dropped, table.unmatched], [2, 1]);

    // A long stream of inserts and deletes: the capped table is always the newest rows of the uncapped one — all
    // `cap` of them, or one fewer right after a delete (a dropped row does not come back).
    const cap = 40;
    const capped = new ChangelogTable(['k', 'n'], cap);
    const full = new ChangelogTable(['k', 'n']);
    for (let i = 0; i < 20_000; i++) {
      const c = i % 3 === 2 ? change('DELETE', `k${i - 2}`, i - 2) : change('INSERT', `k${i}`, i);
      capped.apply(c);
      full.apply(c);
      if (i % 997 === 0 || i % 1000 === 1) {
        assert.deepEqual(capped.rows(), full.rows().slice(-capped.size), `after change ${i}`);
        assert.ok(capped.size <= cap && capped.size >= Math.min(cap - 1, full.size), `${capped.size} rows after change ${i}`);
      }
    }
    assert.deepEqual(capped.rows(), full.rows().slice(-cap));
    assert.equal(capped.dropped + capped.size + capped.counts['-D'] - capped.unmatched, capped.counts['+I']);
  });

  it('the changelog view keeps the newest changes in order, in a ring that never grows past its capacity', () => {
    const log = new ChangeLog(4);
    const kinds: RowKind[] = ['INSERT', 'UPDATE_BEFORE', 'UPDATE_AFTER', 'DELETE', 'INSERT', 'INSERT'];
    kinds.forEach((kind, i) => log.push(change(kind, i)));
    assert.deepEqual(
      log.slice(0, 10).map((c) => `${c.op}${String(c.fields[0])}`),
      ['+U2', '-D3', '+I4', '+I5'],
    );
    assert.deepEqual(
      log.slice(1, 2).map((c) => c.fields[0]),
      [3, 4],
    );
    assert.deepEqual([log.size, log.dropped], [4, 2]);
  });

  it('draws a plain-text table: NULL, right-aligned numbers, long cells cut', () => {
    const lines = formatTable(
      ['sensor_id', 'n', 'note'],
      [
        ['s-1', 5, null],
        ['s-22', 1234, 'a very long note that goes on'],
        ['s-3', null, { a: [1, 2] }],
      ],
      { maxWidth: 12 },
    );
    assert.deepEqual(lines, [
      'sensor_id     n  note',
      '---------  ----  ------------',
      's-1           5  NULL',
      's-22       1234  a very long…',
      's-3        NULL  {"a":[1,2]}',
    ]);
    assert.deepEqual(formatTable(['a'], []), ['a', '-']);
  });
});

interface Fixture {
  statement: string;
  answer: { errors: string[] };
}

describe("Flink SQL: the gateway's error answer as a sentence at a line and column", () => {
  const fixtures = new Map<string, Fixture>(
    readdirSync(join(repoRoot, 'test', 'fixtures', 'sql-gateway'))
      .filter((f) => f.endsWith('.json'))
      .map((f) => [f, JSON.parse(readFileSync(join(repoRoot, 'test', 'fixtures', 'sql-gateway', f), 'utf8')) as Fixture]),
  );
  const expected: Record<string, { message: string; at1: object; at53: object }> = {
    'column-not-found.json': {
      message: "Column 'nope' not found in any table",
      at1: { line: 2, column: 3, endLine: 2, endColumn: 6 },
      at53: { line: 6, column: 3, endLine: 6, endColumn: 6 },
    },
    'table-not-found.json': {
      message: "Object 'missing_table' not found",
      at1: { line: 1, column: 15, endLine: 1, endColumn: 27 },
      at53: { line: 5, column: 17, endLine: 5, endColumn: 29 },
    },
    'parse-error.json': {
      message: "Incorrect syntax near the keyword 'FROM'",
      at1: { line: 2, column: 2 },
      at53: { line: 6, column: 2 },
    },
    'non-query-expression.json': { message: 'Non-query expression encountered in illegal context', at1: {}, at53: {} },
  };

  it('reads each recorded answer (Flink 2.2.1) to its root cause and position', () => {
    assert.deepEqual([...fixtures.keys()].sort(), Object.keys(expected).sort());
    for (const [file, { answer }] of fixtures) {
      const { message, at1, at53 } = expected[file];
      assert.deepEqual(sqlProblem(answer.errors, { line: 1, column: 1 }), { message, ...at1 }, file);
      assert.deepEqual(sqlProblem(answer.errors), { message, ...at1 }, file);
      assert.deepEqual(sqlProblem(answer.errors, { line: 5, column: 3 }), { message, ...at53 }, file);
    }
  });

  it('points at the failing name in the source when the statement starts mid-line', () => {
    const { statement, answer } = fixtures.get('column-not-found.json')!;
    const source = `SET 'a' = 'b';\n\n-- the query\nSELECT 1;\n  ${statement};\n`;
    const at = splitStatements(source)[2];
    assert.deepEqual([at.line, at.column], [5, 3]);
    const p = sqlProblem(answer.errors, at);
    const lines = source.split('\n');
    assert.equal(lines[p.line! - 1].slice(p.column! - 1, p.endColumn), 'nope');
    assert.equal(formatProblem(p, 'query.sql'), "query.sql:6:3: Column 'nope' not found in any table");
  });

  it('takes the deepest cause that is not a wrapper when there is no position, and never throws', () => {
    const trace = (...causes: string[]) =>
      [
        '<Exception on server side:',
        'org.apache.flink.table.gateway.api.utils.SqlGatewayException: org.apache.flink.table.gateway.api.utils.SqlGatewayException: Failed to fetchResults.',
        '\tat org.apache.flink.table.gateway.rest.handler.statement.FetchResultsHandler.handleRequest(FetchResultsHandler.java:91)',
        'Caused by: org.apache.flink.table.gateway.service.utils.SqlExecutionException: Failed to execute the operation 1e2f-99.',
        ...causes.flatMap((c) => [`Caused by: ${c}`, '\tat org.apache.flink.Some.method(Some.java:1)', '\t... 12 more']),
        '',
        'End of exception on server side>',
      ].join('\n');
    const factory =
      "org.apache.flink.table.api.ValidationException: Could not find any factory for identifier 'kafkax' that implements " +
      "'org.apache.flink.table.factories.DynamicTableFactory' in the classpath.\n\nAvailable factory identifiers are:\n\nblackhole";
    assert.deepEqual(
      sqlProblem(['Internal server error.', trace('org.apache.flink.table.api.ValidationException: Unable to create a sink.', factory)]),
      {
        message:
          "Could not find any factory for identifier 'kafkax' that implements 'org.apache.flink.table.factories.DynamicTableFactory' in the classpath.",
      },
    );
    // The same cause whichever order the gateway lists its error strings in.
    assert.match(sqlProblem([trace(factory), 'Internal server error.']).message, /^Could not find any factory for identifier 'kafkax'/);
    assert.equal(
      sqlProblem([
        'Internal server error.',
        trace('org.apache.flink.runtime.JobException: Recovery is suppressed', 'java.lang.ArithmeticException: / by zero'),
      ]).message,
      'ArithmeticException: / by zero',
    );
    assert.equal(sqlProblem(['Internal server error.', trace()]).message, 'Failed to execute the operation 1e2f-99.');
    assert.equal(sqlProblem(['Session 9f2 does not exist.']).message, 'Session 9f2 does not exist.');
    assert.deepEqual(
      sqlProblem(['org.apache.flink.table.api.SqlParserException: SQL parse failed. Encountered "<EOF>" at line 1, column 8.']),
      {
        message: 'Encountered "<EOF>"',
        line: 1,
        column: 8,
      },
    );
    assert.equal(sqlProblem(['Internal server error.']).message, 'Internal server error.');
    for (const odd of [undefined, [], [''], [42 as unknown as string], 'text' as unknown as string[]]) {
      const p = sqlProblem(odd, { line: 3, column: 4 });
      assert.ok(p.message.length > 0, JSON.stringify(odd));
      assert.equal(p.line, undefined);
    }
  });

  it('formats a problem with or without a file and position', () => {
    const p = { message: 'm', line: 2, column: 3 };
    assert.equal(formatProblem(p, 'a.sql'), 'a.sql:2:3: m');
    assert.equal(formatProblem(p), '2:3: m');
    assert.equal(formatProblem({ message: 'm', line: 2 }), '2: m');
    assert.equal(formatProblem({ message: 'm' }, 'a.sql'), 'm');
  });
});
