// The user's own SQL: checked read-only and one statement, run with a time limit and a row cap; rows written out as CSV or JSON.
import type { DuckDBConnection } from '@duckdb/node-api';
import { createWriteStream } from 'node:fs';
import type { CellValue, ColumnInfo, ExportFormat, QueryRequest, QueryResult, SortSpec } from './resultsProtocol';
import { checkSelectTree, multipleStatementsRefusal, splitExplain, statementRefusal, type StatementKind } from './sqlGuard';
import { firstLines, QueryRefusedError, ResultsError } from './errors';
import { columnKind, quoteIdent, quoteString, readRows, toCell } from './sql';

export const DEFAULT_ROW_CAP = 10_000;
export const DEFAULT_QUERY_TIMEOUT_MS = 30_000;
const EXPORT_TIMEOUT_MS = 10 * 60_000;

/** A query's kept rows (at most the row cap), paged and sorted without running it again. */
export type CappedResult = Omit<QueryResult, 'rows' | 'offset' | 'elapsedMs'> & { rows: CellValue[][] };

/** Where the user's SQL runs: its own connection, reading only the output folder. */
export interface UserSqlContext {
  conn: DuckDBConnection;
  outputFolder: string;
  /** Loads the JSON aggregate files, for a statement that names them. */
  ensureJsonAggregates: () => Promise<void>;
}

/** What `json_serialize_sql` answers: the parsed SELECT statements, or why it could not serialize them. */
interface SerializedSql {
  error: boolean;
  error_type?: string;
  error_message?: string;
  statements?: unknown[];
}

async function serializeSql(conn: DuckDBConnection, sql: string): Promise<SerializedSql> {
  const [[json]] = await readRows(conn, `SELECT json_serialize_sql(${quoteString(sql)})`);
  return JSON.parse(String(json)) as SerializedSql;
}

/** DuckDB's own SQL text of a parsed statement: no comments, no semicolon. */
async function deserializeSql(conn: DuckDBConnection, parsed: SerializedSql): Promise<string> {
  const [[text]] = await readRows(conn, `SELECT json_deserialize_sql(${quoteString(JSON.stringify(parsed))}::JSON)`);
  return String(text);
}

interface CheckedSql {
  sql: string;
  kind: StatementKind;
  /** DuckDB's parse of a SELECT (its relative paths made absolute). */
  parsed?: SerializedSql;
}

/**
 * The user's SQL, checked on DuckDB's own parse of it (src/results/sqlGuard.ts says what is checked and why the rest
 * is left to DuckDB's lock): the statement to run, or a QueryRefusedError saying why not.
 */
export async function checkUserSql(conn: DuckDBConnection, sql: string, outputFolder: string): Promise<CheckedSql> {
  const parsed = await serializeSql(conn, sql);
  if (!parsed.error) {
    const statements = parsed.statements ?? [];
    if (statements.length === 0) throw new QueryRefusedError('The query is empty: type a SELECT, e.g. SELECT * FROM aggregates LIMIT 10.');
    if (statements.length > 1) throw new QueryRefusedError(multipleStatementsRefusal(sql, statements.length));
    const { refusal, rewritten } = checkSelectTree(statements[0], outputFolder);
    if (refusal) throw new QueryRefusedError(refusal);
    // Relative file paths were made absolute in the tree: run DuckDB's own text of it.
    return { sql: rewritten ? await deserializeSql(conn, parsed) : sql, kind: 'select', parsed };
  }
  if (parsed.error_type === 'parser') throw new ResultsError(`DuckDB cannot read this SQL: ${parsed.error_message}`);
  // Not one SELECT. Refused at once when its first word says what it does: even splitting IMPORT DATABASE into
  // statements reads the files it names.
  const refusal = statementRefusal(sql);
  if (refusal.specific) throw new QueryRefusedError(refusal.message);
  const count = await conn.extractStatements(sql).then(
    (extracted) => extracted.count,
    () => 1,
  );
  if (count > 1) throw new QueryRefusedError(multipleStatementsRefusal(sql, count));
  const explain = splitExplain(sql);
  if (explain && !splitExplain(explain.query)) {
    const inner = await checkUserSql(conn, explain.query, outputFolder);
    return { sql: `EXPLAIN ${explain.analyze ? 'ANALYZE ' : ''}${inner.sql}`, kind: 'explain' };
  }
  throw new QueryRefusedError(refusal.message);
}

/** Runs `work` on the query connection, interrupting it after the timeout. */
async function withQueryTimeout<T>(conn: DuckDBConnection, work: () => Promise<T>, timeoutMs: number, outputFolder?: string): Promise<T> {
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    conn.interrupt();
  }, timeoutMs);
  try {
    return await work();
  } catch (error) {
    if (timedOut) throw new ResultsError(`The query ran longer than ${Math.round(timeoutMs / 1000)} s and was stopped.`);
    throw (outputFolder !== undefined ? explainRefusal(error, outputFolder) : undefined) ?? new ResultsError(firstLines(error));
  } finally {
    clearTimeout(timer);
  }
}

/** The statement to run for `sql`, or a refusal with a reason. */
async function prepareQuery(ctx: UserSqlContext, sql: string): Promise<CheckedSql> {
  const checked = await checkUserSql(ctx.conn, sql, ctx.outputFolder).catch((error: unknown) => {
    throw error instanceof ResultsError ? error : new ResultsError(firstLines(error));
  });
  if (/\b_?aggregates_json\b|\b_agg_json\b/i.test(checked.sql)) await ctx.ensureJsonAggregates();
  // What runs is exactly one statement (a PIVOT without IN, say, becomes two when it runs).
  const extracted = await ctx.conn.extractStatements(checked.sql).catch((error: unknown) => {
    throw new ResultsError(firstLines(error));
  });
  if (extracted.count !== 1) throw new QueryRefusedError(multipleStatementsRefusal(checked.sql, extracted.count));
  return checked;
}

/**
 * DuckDB's lock refuses a file outside the output folder with "Permission Error: Cannot access file … disabled by
 * configuration": said in the words of the results view.
 */
function explainRefusal(error: unknown, outputFolder: string): ResultsError | undefined {
  const text = error instanceof Error ? error.message : String(error);
  const file = /Permission Error: Cannot access (?:file|directory) "([^"]*)"/.exec(text);
  if (file)
    return new QueryRefusedError(
      `Refused: only the files of the output folder (${outputFolder}) can be read here; "${file[1]}" is not one of them.`,
    );
  if (/Permission Error/.test(text))
    return new QueryRefusedError(
      `Refused: ${firstLines(error).replace(/^Permission Error: /, '')} (the results view only reads the output folder).`,
    );
  return undefined;
}

/** Runs a read-only query and keeps at most `rowCap` rows. */
export async function runCappedQuery(ctx: UserSqlContext, sql: string, rowCap: number, timeoutMs: number): Promise<CappedResult> {
  const statement = (await prepareQuery(ctx, sql)).sql;
  return withQueryTimeout(
    ctx.conn,
    async () => {
      const result = await ctx.conn.stream(statement);
      const columns: ColumnInfo[] = result.columnNames().map((name, i) => ({ name, kind: columnKind(result.columnTypeId(i)) }));
      const rows: CellValue[][] = [];
      let truncated = false;
      for await (const batch of result.yieldRowsJs()) {
        for (const row of batch) {
          if (rows.length >= rowCap) {
            truncated = true;
            break;
          }
          rows.push((row as unknown[]).map(toCell));
        }
        if (truncated) break;
      }
      return { sql, columns, rows, total: rows.length, truncated, rowCap };
    },
    timeoutMs,
    ctx.outputFolder,
  );
}

/** The page of kept rows a request asks for, sorted as it asks. */
export function pageOfQuery(cached: CappedResult, req: QueryRequest, rowCap: number, started: number): QueryResult {
  let rows = cached.rows;
  if (req.sort) {
    const index = cached.columns.findIndex((c) => c.name === req.sort?.column);
    if (index < 0) throw new ResultsError(`The query result has no column "${req.sort.column}".`);
    rows = sortRows(rows, index, req.sort.direction);
  }
  const limit = Math.max(1, Math.min(req.limit, rowCap));
  const offset = Math.max(0, Math.min(req.offset, Math.max(0, rows.length - 1)));
  return { ...cached, rows: rows.slice(offset, offset + limit), offset, sort: req.sort, elapsedMs: performance.now() - started };
}

/** Every row of a query (not only the capped ones), sorted as the view shows it, for an export. */
export async function queryExportSql(ctx: UserSqlContext, sql: string, sort: SortSpec | undefined): Promise<string> {
  const checked = await prepareQuery(ctx, sql);
  if (!sort || checked.kind !== 'select' || !checked.parsed) return checked.sql;
  // The query inside another, checked again as a whole: as typed, else (a semicolon and a comment after it) in
  // DuckDB's own words.
  const sorted = (inner: string) =>
    `SELECT * FROM (\n${inner.replace(/[;\s]+$/, '')}\n) AS q ORDER BY ${quoteIdent(sort.column)} ${sort.direction === 'asc' ? 'ASC' : 'DESC'} NULLS LAST`;
  const parsed = checked.parsed;
  return (await prepareQuery(ctx, sorted(checked.sql)).catch(async () => prepareQuery(ctx, sorted(await deserializeSql(ctx.conn, parsed)))))
    .sql;
}

/** Streams the rows of `sql` to `destination` as CSV or as a JSON array; returns the number of rows written. */
export async function writeRows(
  conn: DuckDBConnection,
  sql: string,
  format: ExportFormat,
  destination: string,
  onProgress?: (rows: number) => void,
): Promise<{ rows: number; file: string }> {
  return withQueryTimeout(
    conn,
    async () => {
      const result = await conn.stream(sql);
      const names = result.columnNames();
      const out = createWriteStream(destination, { encoding: 'utf8' });
      const write = (text: string) =>
        new Promise<void>((resolveWrite, reject) => out.write(text, (error) => (error ? reject(error) : resolveWrite())));
      let rows = 0;
      try {
        await write(format === 'csv' ? names.map(csvField).join(',') + '\n' : '[\n');
        for await (const batch of result.yieldRowsJs()) {
          let chunk = '';
          for (const row of batch) {
            const cells = (row as unknown[]).map(toCell);
            if (format === 'csv') chunk += cells.map(csvField).join(',') + '\n';
            else chunk += (rows > 0 ? ',\n' : '') + JSON.stringify(Object.fromEntries(names.map((n, i) => [n, cells[i]])));
            rows++;
          }
          await write(chunk);
          onProgress?.(rows);
        }
        if (format === 'json') await write(rows > 0 ? '\n]\n' : ']\n');
      } finally {
        await new Promise<void>((done) => out.end(done));
      }
      return { rows, file: destination };
    },
    EXPORT_TIMEOUT_MS,
  );
}

function compareCells(a: CellValue, b: CellValue): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a) < String(b) ? -1 : 1;
}

function sortRows(rows: CellValue[][], index: number, direction: 'asc' | 'desc'): CellValue[][] {
  const sign = direction === 'asc' ? 1 : -1;
  return rows
    .map((row, i) => ({ row, i }))
    .sort((x, y) => {
      const a = x.row[index];
      const b = y.row[index];
      if (a === null || b === null) return a === b ? x.i - y.i : a === null ? 1 : -1; // nulls last both ways
      return sign * compareCells(a, b) || x.i - y.i;
    })
    .map((x) => x.row);
}

function csvField(value: CellValue): string {
  if (value === null) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) || /^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
