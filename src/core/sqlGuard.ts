import { isAbsolute, resolve, sep } from 'node:path';

/**
 * A read-only check for the SQL the user types into the results view or `pipeline query`.
 *
 * It tokenizes the text (strings, quoted identifiers, comments, dollar quotes) instead of matching regular
 * expressions over it, so a keyword inside a string is not a keyword and a comment cannot hide one. It is the
 * first of two locks: the DuckDB instance behind it also runs with external access off, only the output folder
 * allowed, and its configuration locked (see src/providers/results/cacheDb.ts).
 */

export interface SqlGuardOptions {
  /** Absolute path of the output folder: the only place file-reading functions may read from. */
  allowedRoot: string;
}

export type StatementKind = 'select' | 'describe' | 'summarize' | 'show' | 'explain' | 'pivot';

/**
 * `sql` is the statement to run: without a trailing semicolon, and with relative file paths (read_csv('aggregates/…'))
 * made absolute under the output folder, because DuckDB resolves them against the process folder otherwise.
 */
export type SqlGuardResult = { ok: true; sql: string; kind: StatementKind } | { ok: false; reason: string };

type TokenKind = 'word' | 'quoted' | 'string' | 'number' | 'punct' | 'param';

interface Token {
  kind: TokenKind;
  /** Lower-cased for words, the unescaped content for strings and quoted identifiers, the text otherwise. */
  value: string;
  /** Strings only: E'…', $$…$$ or other prefixed strings, whose escapes the path check will not interpret. */
  special?: boolean;
  start: number;
  /** Index just after the token in the original text. */
  end: number;
}

class GuardError extends Error {}

const STATEMENT_STARTS: Record<string, StatementKind> = {
  select: 'select',
  with: 'select',
  from: 'select',
  values: 'select',
  table: 'select',
  describe: 'describe',
  desc: 'describe',
  show: 'show',
  summarize: 'summarize',
  explain: 'explain',
  pivot: 'pivot',
  unpivot: 'pivot',
};

/** Keywords that change data, settings, files or the catalog, with the reason given to the user. */
const FORBIDDEN_WORDS: Record<string, string> = {
  insert: 'INSERT writes rows',
  update: 'UPDATE changes rows',
  delete: 'DELETE removes rows',
  merge: 'MERGE changes rows',
  upsert: 'UPSERT changes rows',
  truncate: 'TRUNCATE removes rows',
  create: 'CREATE adds tables, views, macros or secrets',
  drop: 'DROP removes objects',
  alter: 'ALTER changes objects',
  attach: 'ATTACH opens another database file',
  detach: 'DETACH closes a database',
  install: 'INSTALL downloads an extension',
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
  abort: 'transactions are not needed for reading',
  grant: 'GRANT changes permissions',
  revoke: 'REVOKE changes permissions',
  prepare: 'PREPARE creates a statement',
  execute: 'EXECUTE runs a prepared statement',
  deallocate: 'DEALLOCATE removes a prepared statement',
  comment: 'COMMENT ON changes the catalog',
};

/** Table functions that read files: allowed only on literal paths inside the output folder. */
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
  'parquet_kv_metadata',
  'parquet_bloom_probe',
  'read_text',
  'read_blob',
  'glob',
]);

/** Functions that are never allowed, whatever their arguments. */
const FORBIDDEN_FUNCTIONS: Record<string, string> = {
  query: 'query() runs SQL given as a string, which this check cannot see',
  query_table: 'query_table() reads tables named by a string, which this check cannot see',
  getenv: 'getenv() reads environment variables',
  json_execute_serialized_sql: 'json_execute_serialized_sql() runs SQL given as a string',
  load_extension: 'load_extension() loads native code',
  duckdb_secrets: 'duckdb_secrets() lists credentials',
  sqlite_attach: 'sqlite_attach() opens another database file',
  read_xlsx: 'read_xlsx() needs an extension this view does not load',
};

/** Clause keywords that end a FROM clause at the same nesting depth. */
const CLAUSE_END = new Set(['where', 'group', 'having', 'order', 'limit', 'offset', 'qualify', 'window', 'union', 'except', 'intersect', 'select', 'on', 'using', 'returning', 'sample', 'tablesample']);

function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const n = sql.length;
  const isWordStart = (c: string) => /[A-Za-z_\u0080-\uffff]/.test(c);
  const isWordChar = (c: string) => /[A-Za-z0-9_$\u0080-\uffff]/.test(c);

  const readQuoted = (quote: string, from: number, backslashEscapes: boolean): { value: string; end: number } => {
    let value = '';
    let j = from;
    while (j < n) {
      const c = sql[j];
      if (backslashEscapes && c === '\\') {
        value += sql[j + 1] ?? '';
        j += 2;
        continue;
      }
      if (c === quote) {
        if (sql[j + 1] === quote) {
          value += quote;
          j += 2;
          continue;
        }
        return { value, end: j + 1 };
      }
      value += c;
      j++;
    }
    throw new GuardError(`the ${quote === '"' ? 'quoted name' : 'string'} starting at character ${from} is not closed.`);
  };

  while (i < n) {
    const c = sql[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '-' && sql[i + 1] === '-') {
      while (i < n && sql[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && sql[i + 1] === '*') {
      // Block comments nest in DuckDB's (PostgreSQL's) grammar.
      let depth = 1;
      let j = i + 2;
      while (j < n && depth > 0) {
        if (sql[j] === '/' && sql[j + 1] === '*') {
          depth++;
          j += 2;
        } else if (sql[j] === '*' && sql[j + 1] === '/') {
          depth--;
          j += 2;
        } else j++;
      }
      if (depth > 0) throw new GuardError('a /* comment is not closed.');
      i = j;
      continue;
    }
    if (c === "'") {
      const { value, end } = readQuoted("'", i + 1, false);
      tokens.push({ kind: 'string', value, start: i, end });
      i = end;
      continue;
    }
    if (c === '"') {
      const { value, end } = readQuoted('"', i + 1, false);
      tokens.push({ kind: 'quoted', value, start: i, end });
      i = end;
      continue;
    }
    if (c === '$') {
      const param = /^\$\d+/.exec(sql.slice(i));
      if (param) {
        tokens.push({ kind: 'param', value: param[0], start: i, end: i + param[0].length });
        i += param[0].length;
        continue;
      }
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i));
      if (tag) {
        const close = sql.indexOf(tag[0], i + tag[0].length);
        if (close < 0) throw new GuardError(`the ${tag[0]} quoted string is not closed.`);
        tokens.push({ kind: 'string', value: sql.slice(i + tag[0].length, close), special: true, start: i, end: close + tag[0].length });
        i = close + tag[0].length;
        continue;
      }
      throw new GuardError(`unexpected "$" at character ${i}.`);
    }
    if (isWordStart(c)) {
      let j = i + 1;
      while (j < n && isWordChar(sql[j])) j++;
      const word = sql.slice(i, j);
      const lower = word.toLowerCase();
      // Prefixed strings: E'…' (backslash escapes), X'…'/B'…' (bits), N'…'; U&'…'/U&"…" (unicode escapes).
      if (sql[j] === "'" && ['e', 'x', 'b', 'n'].includes(lower)) {
        const { value, end } = readQuoted("'", j + 1, lower === 'e');
        tokens.push({ kind: 'string', value, special: true, start: i, end });
        i = end;
        continue;
      }
      if (lower === 'u' && sql[j] === '&' && (sql[j + 1] === "'" || sql[j + 1] === '"')) {
        throw new GuardError('U& unicode-escaped names and strings are not supported here; write the text directly.');
      }
      tokens.push({ kind: 'word', value: lower, start: i, end: j });
      i = j;
      continue;
    }
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(sql[i + 1] ?? ''))) {
      let j = i + 1;
      while (j < n && /[0-9A-Za-z_.]/.test(sql[j])) {
        if ((sql[j] === 'e' || sql[j] === 'E') && (sql[j + 1] === '+' || sql[j + 1] === '-')) j++;
        j++;
      }
      tokens.push({ kind: 'number', value: sql.slice(i, j), start: i, end: j });
      i = j;
      continue;
    }
    const two = sql.slice(i, i + 2);
    if ([':=', '::', '->', '>=', '<=', '<>', '!=', '||', '=>', '**', '//', '>>', '<<', '~~'].includes(two)) {
      tokens.push({ kind: 'punct', value: two, start: i, end: i + 2 });
      i += 2;
      continue;
    }
    tokens.push({ kind: 'punct', value: c, start: i, end: i + 1 });
    i++;
  }
  return tokens;
}

function splitStatements(tokens: Token[]): Token[][] {
  const statements: Token[][] = [[]];
  for (const token of tokens) {
    if (token.kind === 'punct' && token.value === ';') statements.push([]);
    else statements[statements.length - 1].push(token);
  }
  return statements.filter((s) => s.length > 0);
}

/** Whether `path` (relative paths are read under the output folder) stays inside `root`; the absolute path. */
function checkPath(path: string, root: string, where: string): string {
  if (path.trim() === '') throw new GuardError(`${where}: an empty path.`);
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(path) || /^(s3|gcs|gs|r2|az|azure|abfss|hf|http|https):/i.test(path)) {
    throw new GuardError(`${where} reads "${path}": URLs and remote files are not allowed, only files in the output folder.`);
  }
  if (path.startsWith('~')) throw new GuardError(`${where} reads "${path}": only files in the output folder (${root}) can be read.`);
  if (path.split(/[\\/]+/).includes('..')) throw new GuardError(`${where} reads "${path}": ".." is not allowed in paths; use a path inside the output folder.`);
  const rootAbs = resolve(root);
  const full = isAbsolute(path) ? resolve(path) : resolve(rootAbs, path);
  if (full !== rootAbs && !full.startsWith(rootAbs.endsWith(sep) ? rootAbs : rootAbs + sep)) {
    throw new GuardError(`${where} reads "${path}", which is outside the output folder (${rootAbs}); only the pipeline's output files can be read.`);
  }
  return full;
}

/** The literal file argument(s) of a file function: 'path' or ['a', 'b']. */
function fileArguments(tokens: Token[], open: number, name: string): { paths: Token[]; end: number } {
  const first = tokens[open + 1];
  const fail = (): never => {
    throw new GuardError(`${name}() must be given a file path as a plain string literal (or a list of them), e.g. ${name}('aggregates/**/*.csv').`);
  };
  if (!first) return fail();
  if (first.kind === 'string') {
    if (first.special) fail();
    return { paths: [first], end: open + 2 };
  }
  if (first.kind === 'punct' && first.value === '[') {
    const paths: Token[] = [];
    let j = open + 2;
    for (;;) {
      const t = tokens[j];
      if (!t || t.kind !== 'string' || t.special) return fail();
      paths.push(t);
      const next = tokens[j + 1];
      if (next?.kind === 'punct' && next.value === ',') j += 2;
      else if (next?.kind === 'punct' && next.value === ']') return { paths, end: j + 2 };
      else return fail();
    }
  }
  return fail();
}

interface PathRewrite {
  token: Token;
  absolute: string;
}

function checkStatement(tokens: Token[], options: SqlGuardOptions, rewrites: PathRewrite[]): StatementKind {
  const first = tokens[0];
  let kind: StatementKind | undefined;
  if (first.kind === 'word') kind = STATEMENT_STARTS[first.value];
  else if (first.kind === 'punct' && first.value === '(') kind = 'select';
  if (!kind) {
    const word = first.kind === 'word' ? first.value : first.value.slice(0, 20);
    const why = FORBIDDEN_WORDS[word];
    throw new GuardError(
      why
        ? `${word.toUpperCase()} is not allowed: ${why}, and the results view is read-only. Use SELECT, WITH, FROM, DESCRIBE, SUMMARIZE or EXPLAIN.`
        : `a statement starting with "${word}" is not allowed; use SELECT, WITH, FROM, DESCRIBE, SUMMARIZE, SHOW or EXPLAIN.`,
    );
  }

  // FROM-clause tracking, per parenthesis depth, to spot 'file.csv' used as a table (a DuckDB replacement scan).
  const inFrom: boolean[] = [false];
  let depth = 0;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    const prev = tokens[i - 1];
    const next = tokens[i + 1];
    if (t.kind === 'punct') {
      if (t.value === '(' || t.value === '[') {
        depth++;
        inFrom[depth] = false;
      } else if (t.value === ')' || t.value === ']') {
        depth = Math.max(0, depth - 1);
      }
      continue;
    }
    if (t.kind === 'word') {
      const why = FORBIDDEN_WORDS[t.value];
      // After a dot it is a qualified column name (t.comment), after AS an alias (AS comment): not a keyword.
      const isName = (prev?.kind === 'punct' && prev.value === '.') || (prev?.kind === 'word' && prev.value === 'as');
      if (why && !isName) {
        throw new GuardError(`${t.value.toUpperCase()} is not allowed: ${why}, and the results view is read-only. If "${t.value}" is a column name, write it in double quotes.`);
      }
      if (t.value === 'from' || t.value === 'join') inFrom[depth] = true;
      else if (CLAUSE_END.has(t.value)) inFrom[depth] = false;
    }
    if ((t.kind === 'word' || t.kind === 'quoted') && next?.kind === 'punct' && next.value === '(') {
      const name = t.value.toLowerCase();
      const forbidden = FORBIDDEN_FUNCTIONS[name];
      if (forbidden) throw new GuardError(`${name}() is not allowed: ${forbidden}.`);
      if (FILE_FUNCTIONS.has(name)) {
        const { paths } = fileArguments(tokens, i + 1, name);
        for (const p of paths) rewrites.push({ token: p, absolute: checkPath(p.value, options.allowedRoot, `${name}()`) });
        continue;
      }
      if (/^(read_|scan_)|_(scan|attach|read)$/.test(name)) {
        throw new GuardError(`${name}() is not allowed: it reads data from outside the three result tables.`);
      }
    }
    // A string or a quoted name with a path in table position is read as a file by DuckDB ("replacement scan").
    if (t.kind === 'string' || (t.kind === 'quoted' && /[./\\]/.test(t.value))) {
      const tableStart = prev && ((prev.kind === 'word' && ['from', 'join', 'describe', 'desc', 'summarize', 'show', 'table'].includes(prev.value)) || (prev.kind === 'punct' && prev.value === ',' && inFrom[depth]));
      if (tableStart) {
        if (t.kind === 'string' && t.special) throw new GuardError('a file read in FROM must be a plain string literal path.');
        const absolute = checkPath(t.value, options.allowedRoot, `FROM ${t.kind === 'string' ? `'${t.value}'` : `"${t.value}"`}`);
        if (t.kind === 'string') rewrites.push({ token: t, absolute });
      }
    }
  }
  return kind;
}

/** Checks that `sql` is one read-only statement over the result tables; explains the refusal otherwise. */
export function checkReadOnlySql(sql: string, options: SqlGuardOptions): SqlGuardResult {
  try {
    const statements = splitStatements(tokenize(sql));
    if (statements.length === 0) return { ok: false, reason: 'The query is empty: type a SELECT, e.g. SELECT * FROM aggregates LIMIT 10.' };
    if (statements.length > 1) return { ok: false, reason: `Only one statement at a time: found ${statements.length} statements separated by ";".` };
    const statement = statements[0];
    const rewrites: PathRewrite[] = [];
    const kind = checkStatement(statement, options, rewrites);
    // The statement's own text (no trailing ';' or comment after it), with file paths made absolute.
    let text = '';
    let at = statement[0].start;
    for (const { token, absolute } of rewrites.sort((a, b) => a.token.start - b.token.start)) {
      text += sql.slice(at, token.start) + `'${absolute.replace(/'/g, "''")}'`;
      at = token.end;
    }
    text += sql.slice(at, statement[statement.length - 1].end);
    return { ok: true, sql: text, kind };
  } catch (error) {
    if (error instanceof GuardError) return { ok: false, reason: `Refused: ${error.message}` };
    throw error;
  }
}
