// The scan's WHERE: checked read-only on DuckDB's own parse, then run over each batch in an in-memory DuckDB.
import { walkObjects, type JsonNode } from '../shared/jsonTree';
import { BIGINT, DOUBLE, DuckDBDataChunk, DuckDBInstance, INTEGER, VARCHAR, type DuckDBConnection } from '@duckdb/node-api';
import { UserError } from '../shared/errors';

/** One record as the filter sees it: text key, value and headers (a JSON object, or null for none). */
export interface FilterRow {
  partition: number;
  offset: number;
  timestampMs: number;
  key: string | null;
  value: string | null;
  headersJson: string | null;
  size: number;
}

/**
 * The rows land in `raw` as they come; `batch` is what the user's expression sees. json, headers and the timestamp
 * are computed in the view, so a filter that never names `json` never parses a value.
 */
const SCHEMA = [
  'CREATE TABLE raw (__row INTEGER, kafka_partition INTEGER, kafka_offset BIGINT, ts DOUBLE, key VARCHAR, value VARCHAR, headers_json VARCHAR, size INTEGER)',
  `CREATE VIEW batch AS SELECT __row, kafka_partition, kafka_offset, epoch_ms(ts::BIGINT) AS kafka_timestamp, key, value,
     CASE WHEN json_valid(value) THEN value::JSON END AS json,
     COALESCE(headers_json, '{}')::JSON::MAP(VARCHAR, VARCHAR) AS headers, size
   FROM raw`,
];
const RAW_TYPES = [INTEGER, INTEGER, BIGINT, DOUBLE, VARCHAR, VARCHAR, VARCHAR, INTEGER];
/** DuckDB's vector size: the most rows one data chunk holds. */
const CHUNK_ROWS = 2048;

type Node = JsonNode;

const REFUSED =
  'Refused: the filter is one expression over the record (kafka_partition, kafka_offset, kafka_timestamp, key, value, json, headers, size)';

/**
 * Why DuckDB's parse of `SELECT __row FROM batch WHERE (<expression>)` is not that one read-only SELECT, or
 * undefined. The check goes by shape rather than by a list of bad functions: the only table a filter may read is
 * `batch`, and no table function at all (read_csv, glob, query, checkpoint… read files, run text as SQL or change
 * the session), so a function DuckDB adds later is refused too. The connection is locked as the results view's is.
 */
export function whereTreeRefusal(statements: unknown[]): string | undefined {
  if (statements.length !== 1) return `${REFUSED}; DuckDB reads ${statements.length} statements here (no ';').`;
  const node = (statements[0] as { node?: Node }).node;
  const from = node?.from_table as Node | undefined;
  const clauses =
    node?.type === 'SELECT_NODE' &&
    (node.select_list as unknown[]).length === 1 &&
    from?.type === 'BASE_TABLE' &&
    from.table_name === 'batch' &&
    !from.schema_name &&
    !from.catalog_name &&
    node.where_clause !== null &&
    (node.modifiers as unknown[]).length === 0 &&
    (node.group_expressions as unknown[]).length === 0 &&
    node.having === null &&
    node.qualify === null &&
    node.sample === null &&
    ((node.cte_map as { map?: unknown[] } | undefined)?.map ?? []).length === 0;
  if (!clauses) return `${REFUSED}: it may not close the WHERE and add clauses, sets or statements of its own.`;
  let refusal: string | undefined;
  walkObjects(node, (n) => {
    if (n.type === 'TABLE_FUNCTION') {
      const name = String((n.function as Node | undefined)?.function_name ?? 'a table function');
      refusal ??= `${REFUSED}: ${name}() reads files or changes the session, and the browser only reads the topic.`;
    } else if (n.type === 'BASE_TABLE' && (n.table_name !== 'batch' || n.schema_name || n.catalog_name)) {
      refusal ??= `${REFUSED}: it reads only the records (\`batch\`), not ${JSON.stringify(n.table_name)}.`;
    } else if (((n.cte_map as { map?: unknown[] } | undefined)?.map ?? []).length > 0) {
      refusal ??= `${REFUSED}: no WITH.`;
    }
  });
  return refusal;
}

/** A WHERE that cannot be read, is refused, or fails on a batch: the browser shows it under the WHERE box. */
export class FilterError extends UserError {}

/** The user's filter over an in-memory DuckDB holding one batch at a time. */
export class BatchFilter {
  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly conn: DuckDBConnection,
    private readonly select: string | undefined,
  ) {}

  /** Checks `where` (empty: every record) before anything is consumed; a bad one is a UserError with DuckDB's words. */
  static async open(where: string | undefined): Promise<BatchFilter> {
    const instance = await DuckDBInstance.create(':memory:', {
      autoinstall_known_extensions: 'false',
      autoload_known_extensions: 'false',
      memory_limit: '256MB',
      threads: '1',
    });
    try {
      const conn = await instance.connect();
      for (const sql of SCHEMA) await conn.run(sql);
      // The results view's lock (src/results/cacheDb.ts): no file, no URL, no extension, no later change of settings.
      await conn.run('SET enable_external_access = false');
      await conn.run('SET lock_configuration = true');
      const expression = where?.trim() ? where.trim() : undefined;
      const select = expression === undefined ? undefined : `SELECT __row FROM batch WHERE (${expression})`;
      if (select !== undefined) {
        const reader = await conn.runAndReadAll(`SELECT json_serialize_sql('${select.replace(/'/g, "''")}')`);
        const parsed = JSON.parse(String(reader.getRows()[0][0])) as {
          error: boolean;
          error_type?: string;
          error_message?: string;
          statements?: unknown[];
        };
        if (parsed.error && parsed.error_type === 'parser')
          throw new FilterError(`DuckDB cannot read the filter: ${firstLine(parsed.error_message)}`);
        // Anything else it cannot serialize holds a statement that is not a SELECT (COPY, ATTACH, SET…).
        if (parsed.error) throw new FilterError(`${REFUSED}: it may not add statements of its own (no ';').`);
        const refusal = whereTreeRefusal(parsed.statements ?? []);
        if (refusal) throw new FilterError(refusal);
        // Bound against the empty table: unknown columns, functions and types are found before any record is read.
        await conn.run(select).catch((error: unknown) => {
          throw new FilterError(`The filter does not run: ${firstLine(error instanceof Error ? error.message : String(error))}`);
        });
      }
      return new BatchFilter(instance, conn, select);
    } catch (error) {
      instance.closeSync();
      throw error;
    }
  }

  get filters(): boolean {
    return this.select !== undefined;
  }

  /** The indexes of the rows that match, in order. The batch is dropped afterwards. */
  async match(rows: FilterRow[]): Promise<number[]> {
    if (this.select === undefined) return rows.map((_, i) => i);
    if (rows.length === 0) return [];
    const appender = await this.conn.createAppender('raw');
    try {
      for (let start = 0; start < rows.length; start += CHUNK_ROWS) {
        const part = rows.slice(start, start + CHUNK_ROWS);
        const chunk = DuckDBDataChunk.create(RAW_TYPES, part.length);
        chunk.setColumnValues(
          0,
          part.map((_, i) => start + i),
        );
        chunk.setColumnValues(
          1,
          part.map((r) => r.partition),
        );
        chunk.setColumnValues(
          2,
          part.map((r) => BigInt(r.offset)),
        );
        chunk.setColumnValues(
          3,
          part.map((r) => r.timestampMs),
        );
        chunk.setColumnValues(
          4,
          part.map((r) => r.key),
        );
        chunk.setColumnValues(
          5,
          part.map((r) => r.value),
        );
        chunk.setColumnValues(
          6,
          part.map((r) => r.headersJson),
        );
        chunk.setColumnValues(
          7,
          part.map((r) => r.size),
        );
        appender.appendDataChunk(chunk);
      }
      appender.flushSync();
    } finally {
      appender.closeSync();
    }
    try {
      const reader = await this.conn.runAndReadAll(this.select);
      return (reader.getColumns()[0] ?? []).map(Number);
    } catch (error) {
      const first = rows[0];
      throw new FilterError(
        `The filter failed on partition ${first.partition} near offset ${first.offset}: ${firstLine(error instanceof Error ? error.message : String(error))} (TRY_CAST gives NULL instead of an error).`,
      );
    } finally {
      await this.conn.run('DELETE FROM raw');
    }
  }

  close(): void {
    this.conn.closeSync();
    this.instance.closeSync();
  }
}

function firstLine(text: string | undefined): string {
  return (text ?? 'unknown error').split('\n')[0].trim();
}
