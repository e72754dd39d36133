// The checks the results view's SQL box adds to DuckDB's own lock: one read-only statement, no file outside the output folder.
import { walkObjects, type JsonNode } from '../shared/jsonTree';
import { isAbsolute, resolve } from 'node:path';

/**
 * What the results view's SQL box (and `pipeline query`) still checks itself, on DuckDB's own parse of the
 * statement (`json_serialize_sql`, see src/results/userSql.ts) — no tokenizer of ours.
 *
 * DuckDB's lock on the user's connection (src/results/cacheDb.ts: allowed_directories = the output
 * folder, enable_external_access off, lock_configuration on) refuses by itself every file outside the output
 * folder, URLs, extensions and changes of settings (test/unit/resultsLock.test.ts). It does not stop writes to the
 * database, COPY into the output folder, ATTACH ':memory:', SET VARIABLE or the table functions that change the
 * session: those are what is refused here. A statement is accepted when DuckDB serializes it as one SELECT (which
 * DESCRIBE, SUMMARIZE, SHOW, VALUES, FROM-first and PIVOT … IN (…) are), or is EXPLAIN [ANALYZE] of one.
 */

export type StatementKind = 'select' | 'explain';

const READ_ONLY_KINDS = 'SELECT, WITH, FROM, VALUES, DESCRIBE, SUMMARIZE, SHOW, PIVOT … IN (…) or EXPLAIN';

/** Why a statement that is not a query is refused, by its first keyword. */
const STATEMENT_REASONS: Record<string, string> = {
  insert: 'INSERT writes rows',
  update: 'UPDATE changes rows',
  delete: 'DELETE removes rows',
  merge: 'MERGE changes rows',
  truncate: 'TRUNCATE removes rows',
  create: 'CREATE adds tables, views, macros or secrets',
  drop: 'DROP removes objects',
  alter: 'ALTER changes objects',
  attach: 'ATTACH opens another database',
  detach: 'DETACH closes a database',
  install: 'INSTALL downloads an extension',
  force: 'FORCE INSTALL downloads an extension',
  load: 'LOAD loads an extension',
  copy: 'COPY reads or writes files',
  export: 'EXPORT writes files',
  import: 'IMPORT reads files into tables',
  set: 'SET changes settings',
  reset: 'RESET changes settings',
  pragma: 'PRAGMA can change settings',
  call: 'CALL runs a procedure',
  checkpoint: 'CHECKPOINT writes the database',
  vacuum: 'VACUUM rewrites the database',
  use: 'USE switches the database',
  begin: 'transactions are not needed for reading',
  commit: 'transactions are not needed for reading',
  rollback: 'transactions are not needed for reading',
  grant: 'GRANT changes permissions',
  prepare: 'PREPARE creates a statement',
  execute: 'EXECUTE runs a prepared statement',
  comment: 'COMMENT ON changes the catalog',
};

/**
 * Table functions that change the database or the session instead of reading, which DuckDB's lock lets run, and
 * the two that run SQL given as text (this check would not see what that text calls). test/unit/sqlGuard.test.ts
 * lists every other table function of the bundled DuckDB as reviewed read-only, so a new one fails that test.
 */
const REFUSED_FUNCTIONS: Record<string, string> = {
  checkpoint: 'writes the database file',
  force_checkpoint: 'writes the database file',
  enable_logging: 'changes the session',
  disable_logging: 'changes the session',
  truncate_duckdb_logs: 'deletes the session’s log',
  enable_profiling: 'changes the session',
  disable_profiling: 'changes the session',
  enable_peg_parser: 'changes the session',
  disable_peg_parser: 'changes the session',
  arrow_scan: 'reads memory through pointers',
  arrow_scan_dumb: 'reads memory through pointers',
  query: 'runs SQL given as text; write that query itself',
  json_execute_serialized_sql: 'runs SQL given as text; write that query itself',
};

export function refusedFunctions(): string[] {
  return Object.keys(REFUSED_FUNCTIONS);
}

/** Table functions whose first argument is a path (or a list of them). */
const FILE_FUNCTIONS = new Set([
  'read_csv',
  'read_csv_auto',
  'sniff_csv',
  'read_json',
  'read_json_auto',
  'read_json_objects',
  'read_json_objects_auto',
  'read_ndjson',
  'read_ndjson_auto',
  'read_ndjson_objects',
  'read_parquet',
  'parquet_scan',
  'parquet_metadata',
  'parquet_schema',
  'parquet_file_metadata',
  'parquet_full_metadata',
  'parquet_kv_metadata',
  'parquet_bloom_probe',
  'read_text',
  'read_blob',
  'read_duckdb',
  'glob',
]);

/** The statement without the comments and blanks before it. */
function withoutLeadingComments(sql: string): string {
  let rest = sql.trimStart();
  for (;;) {
    if (rest.startsWith('--')) rest = rest.slice(rest.includes('\n') ? rest.indexOf('\n') + 1 : rest.length).trimStart();
    else if (rest.startsWith('/*') && rest.includes('*/')) rest = rest.slice(rest.indexOf('*/') + 2).trimStart();
    else return rest;
  }
}

/** The first keyword, lower-cased (only to word a refusal: what runs is decided by DuckDB's parse). */
export function leadingKeyword(sql: string): string {
  return /^\(*\s*([A-Za-z_]+)/.exec(withoutLeadingComments(sql))?.[1]?.toLowerCase() ?? '';
}

/**
 * The reason given for a statement DuckDB does not read as a query: by its first keyword when that says what it
 * does (`specific`), else a general one.
 */
export function statementRefusal(sql: string): { message: string; specific: boolean } {
  const why = STATEMENT_REASONS[leadingKeyword(sql)];
  if (why) return { message: `Refused: ${why}, and the results view is read-only. Use ${READ_ONLY_KINDS}.`, specific: true };
  return {
    message: `Refused: only queries that read can run here (${READ_ONLY_KINDS}), and DuckDB reads this as a statement that does more.`,
    specific: false,
  };
}

/** The reason given for text that DuckDB reads as several statements. */
export function multipleStatementsRefusal(sql: string, count: number): string {
  const word = leadingKeyword(sql);
  if (word === 'pivot' || word === 'unpivot') {
    return `Refused: a PIVOT without an IN list first creates a type from the data (DuckDB makes ${count} statements of it); list the values instead, e.g. PIVOT aggregates ON sensor_id IN ('sensor-001', 'sensor-002') USING sum(event_count).`;
  }
  return `Refused: only one statement at a time; DuckDB reads ${count} statements here.`;
}

/** `EXPLAIN [ANALYZE] query`: the query to check on its own, or undefined for anything else. */
export function splitExplain(sql: string): { analyze: boolean; query: string } | undefined {
  const match = /^explain\s+(?:(analy[sz]e)\s+)?/i.exec(withoutLeadingComments(sql));
  if (!match) return undefined;
  return { analyze: match[1] !== undefined, query: withoutLeadingComments(sql).slice(match[0].length) };
}

type Node = JsonNode;

/** A relative local path (not a URL, not ~): DuckDB would read it from the process's folder, not the output folder. */
function isRelativePath(path: string): boolean {
  return path !== '' && !isAbsolute(path) && !path.startsWith('~') && !/^[A-Za-z][A-Za-z0-9+.-]*:/.test(path);
}

/** A VARCHAR constant of the serialized tree holding a relative path: made absolute under `root`. */
function absolutizeConstant(node: unknown, root: string): boolean {
  const value = (node as { class?: string; value?: { type?: { id?: string }; value?: unknown } } | undefined)?.value;
  if (
    (node as Node | undefined)?.class !== 'CONSTANT' ||
    value?.type?.id !== 'VARCHAR' ||
    typeof value.value !== 'string' ||
    !isRelativePath(value.value)
  )
    return false;
  value.value = resolve(root, value.value);
  return true;
}

/**
 * Checks DuckDB's serialized form of one SELECT (`json_serialize_sql(...).statements[0]`) and makes its relative
 * file paths absolute under `outputFolder`, in place. Returns a refusal, or whether a path was rewritten (the
 * caller then runs `json_deserialize_sql` of the tree instead of the text).
 */
export function checkSelectTree(statement: unknown, outputFolder: string): { refusal?: string; rewritten: boolean } {
  let refusal: string | undefined;
  let rewritten = false;
  walkObjects(statement, (node) => {
    // Positions for error messages only, some of them 2^64 − 1, which a JS number cannot carry back to DuckDB.
    delete node.query_location;
    if (node.class === 'FUNCTION' && typeof node.function_name === 'string') {
      const name = node.function_name.toLowerCase();
      const why = REFUSED_FUNCTIONS[name];
      if (why) refusal ??= `Refused: ${name}() ${why}, and the results view only reads.`;
      const first = (node.children as unknown[] | undefined)?.[0] as Node | undefined;
      if (FILE_FUNCTIONS.has(name) && first) {
        if (first.class === 'FUNCTION' && first.function_name === 'list_value')
          for (const item of first.children as unknown[]) rewritten = absolutizeConstant(item, outputFolder) || rewritten;
        else rewritten = absolutizeConstant(first, outputFolder) || rewritten;
      }
    }
    // FROM 'aggregates/x.csv' is a table name to the parser and a file to DuckDB (a replacement scan).
    if (
      node.type === 'BASE_TABLE' &&
      !node.schema_name &&
      !node.catalog_name &&
      typeof node.table_name === 'string' &&
      /[./\\]/.test(node.table_name) &&
      isRelativePath(node.table_name)
    ) {
      node.table_name = resolve(outputFolder, node.table_name);
      rewritten = true;
    }
  });
  return { refusal, rewritten };
}
