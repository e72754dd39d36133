// The scan's WHERE: checked read-only on DuckDB's own parse, then run over each batch in an in-memory DuckDB. This
// side runs on the filter's own thread (scanFilterWorker.ts); src/kafka/scanFilter.ts is the scan's side.
import { walkObjects, type JsonNode } from '../shared/jsonTree';
import { isUtf8 } from 'node:buffer';
import {
  BIGINT,
  DOUBLE,
  DuckDBDataChunk,
  DuckDBInstance,
  INTEGER,
  VARCHAR,
  type DuckDBConnection,
  type DuckDBType,
} from '@duckdb/node-api';
import bindings from '@duckdb/node-bindings';
import { UserError } from '../shared/errors';

/**
 * One batch of one partition as it crosses to the filter's thread: numbers in one array, the key and value bytes in
 * another, each record's spans into it, all transferred rather than copied. Only the columns the WHERE names travel.
 */
export interface PackedBatch {
  partition: number;
  count: number;
  /** offset, timestamp (epoch ms) and size of each record, in that order. */
  numbers: Float64Array;
  /** key start, key length, value start, value length of each record in `bytes`; a length of -1 is null. */
  spans?: Int32Array;
  bytes?: Uint8Array;
  /** Each record's headers as a JSON object, or null for none. */
  headers?: (string | null)[];
}

/** The record's costly columns a WHERE names: the others are never built. */
export interface FilterColumns {
  key: boolean;
  value: boolean;
  headers: boolean;
}

const ALL_COLUMNS: FilterColumns = { key: true, value: true, headers: true };

/**
 * The rows land in `raw` as they come; `batch` is what the user's expression sees. json, headers and the timestamp
 * are computed in the view, so a filter that never names `json` never parses a value, and key, value and headers
 * are in `raw` only when the expression names them (NULL in the view otherwise: never read).
 */
function schemaOf(c: FilterColumns): { sql: string[]; types: DuckDBType[] } {
  const columns: [string, DuckDBType][] = [
    ['__row', INTEGER],
    ['kafka_partition', INTEGER],
    ['kafka_offset', BIGINT],
    ['ts', DOUBLE],
    ['size', INTEGER],
  ];
  if (c.key) columns.push(['key', VARCHAR]);
  if (c.value) columns.push(['value', VARCHAR]);
  if (c.headers) columns.push(['headers_json', VARCHAR]);
  return {
    sql: [
      `CREATE TABLE raw (${columns.map(([name, type]) => `${name} ${type.toString()}`).join(', ')})`,
      `CREATE VIEW batch AS SELECT __row, kafka_partition, kafka_offset, epoch_ms(ts::BIGINT) AS kafka_timestamp,
         ${c.key ? 'key' : 'NULL::VARCHAR AS key'}, ${c.value ? 'value' : 'NULL::VARCHAR AS value'},
         ${c.value ? 'TRY_CAST(value AS JSON)' : 'NULL::JSON'} AS json,
         ${c.headers ? "COALESCE(headers_json, '{}')::JSON::MAP(VARCHAR, VARCHAR)" : 'NULL::MAP(VARCHAR, VARCHAR)'} AS headers, size
       FROM raw`,
    ],
    types: columns.map(([, type]) => type),
  };
}
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

/**
 * Which of key, value (json reads it) and headers the parsed WHERE names. A name anywhere in a column reference
 * counts (`batch.key`, `json.temperature`, even a struct field called `key`); `batch` alone, `*`, COLUMNS(…) and
 * `#n` read every column.
 */
export function filterColumns(statements: unknown[]): FilterColumns {
  const named = { key: false, value: false, headers: false };
  let all = false;
  walkObjects(statements, (n) => {
    if (n.class === 'STAR' || n.class === 'POSITIONAL_REFERENCE') all = true;
    if (n.class !== 'COLUMN_REF' || !Array.isArray(n.column_names)) return;
    const names = (n.column_names as unknown[]).map((x) => String(x).toLowerCase());
    if (names.length === 1 && names[0] === 'batch') all = true;
    if (names.includes('key')) named.key = true;
    if (names.includes('value') || names.includes('json')) named.value = true;
    if (names.includes('headers')) named.headers = true;
  });
  return all ? { ...ALL_COLUMNS } : named;
}

/** A WHERE that cannot be read, is refused, or fails on a batch: the browser shows it under the WHERE box. */
export class FilterError extends UserError {}

/**
 * Writes one text column of a chunk straight from the batch's bytes: UTF-8 as it is, anything else as its base64
 * text (as the browser shows a record), a length of -1 as NULL. No JS string is made for a UTF-8 value.
 */
function writeText(chunk: DuckDBDataChunk, column: number, from: number, rows: number, bytes: Buffer, spans: Int32Array, at: 0 | 2): void {
  const vector = bindings.data_chunk_get_vector(chunk.chunk, column);
  // DuckDB's validity mask: one bit per row (set = valid), in 64-bit words, little-endian.
  let validity: Uint8Array<ArrayBuffer> | undefined;
  for (let i = 0; i < rows; i++) {
    const start = spans[4 * (from + i) + at];
    const length = spans[4 * (from + i) + at + 1];
    if (length < 0) {
      validity ??= new Uint8Array(Math.ceil(rows / 64) * 8).fill(0xff);
      validity[i >> 3] &= ~(1 << (i & 7));
      continue;
    }
    const part = bytes.subarray(start, start + length);
    if (isUtf8(part)) bindings.vector_assign_string_element_len(vector, i, part);
    else bindings.vector_assign_string_element(vector, i, part.toString('base64'));
  }
  if (validity) {
    bindings.vector_ensure_validity_writable(vector);
    bindings.copy_data_to_vector_validity(vector, 0, validity.buffer, validity.byteOffset, validity.byteLength);
  }
}

/** The user's filter over an in-memory DuckDB holding one batch at a time. */
export class DuckDbFilter {
  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly conn: DuckDBConnection,
    private readonly select: string | undefined,
    private readonly types: DuckDBType[],
    readonly columns: FilterColumns,
  ) {}

  /** Checks `where` (empty: every record) before anything is consumed; a bad one is a FilterError with DuckDB's words. */
  static async open(where: string | undefined): Promise<DuckDbFilter> {
    const instance = await DuckDBInstance.create(':memory:', {
      autoinstall_known_extensions: 'false',
      autoload_known_extensions: 'false',
      memory_limit: '256MB',
      threads: '1',
    });
    try {
      const conn = await instance.connect();
      const expression = where?.trim() ? where.trim() : undefined;
      const select = expression === undefined ? undefined : `SELECT __row FROM batch WHERE (${expression})`;
      let columns = ALL_COLUMNS;
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
        columns = filterColumns(parsed.statements ?? []);
      }
      const schema = schemaOf(columns);
      for (const sql of schema.sql) await conn.run(sql);
      // The results view's lock (src/results/cacheDb.ts): no file, no URL, no extension, no later change of settings.
      await conn.run('SET enable_external_access = false');
      await conn.run('SET lock_configuration = true');
      // Bound against the empty table: unknown columns, functions and types are found before any record is read. (Not
      // kept as a prepared statement: its plan would hold the statistics of the table it was planned on.)
      if (select !== undefined)
        await conn.run(select).catch((error: unknown) => {
          throw new FilterError(`The filter does not run: ${firstLine(error instanceof Error ? error.message : String(error))}`);
        });
      return new DuckDbFilter(instance, conn, select, schema.types, columns);
    } catch (error) {
      instance.closeSync();
      throw error;
    }
  }

  /** The indexes of the batch's rows that match, in order. The batch is dropped afterwards. */
  async match(batch: PackedBatch): Promise<Int32Array> {
    if (this.select === undefined) return Int32Array.from({ length: batch.count }, (_, i) => i);
    if (batch.count === 0) return new Int32Array(0);
    const { numbers, spans, headers } = batch;
    const bytes = batch.bytes ? Buffer.from(batch.bytes.buffer, batch.bytes.byteOffset, batch.bytes.byteLength) : undefined;
    const appender = await this.conn.createAppender('raw');
    try {
      for (let start = 0; start < batch.count; start += CHUNK_ROWS) {
        const n = Math.min(CHUNK_ROWS, batch.count - start);
        const chunk = DuckDBDataChunk.create(this.types, n);
        const rows = Array.from({ length: n }, (_, i) => start + i);
        const columns: (readonly (number | bigint | string | null)[])[] = [
          rows,
          rows.map(() => batch.partition),
          rows.map((r) => BigInt(numbers[3 * r])),
          rows.map((r) => numbers[3 * r + 1]),
          rows.map((r) => numbers[3 * r + 2]),
        ];
        columns.forEach((values, i) => chunk.setColumnValues(i, values));
        let next = columns.length;
        const text = (at: 0 | 2) => {
          if (spans && bytes) writeText(chunk, next, start, n, bytes, spans, at);
          else
            chunk.setColumnValues(
              next,
              rows.map(() => null),
            );
          next++;
        };
        if (this.columns.key) text(0);
        if (this.columns.value) text(2);
        if (this.columns.headers)
          chunk.setColumnValues(
            next,
            rows.map((r) => headers?.[r] ?? null),
          );
        appender.appendDataChunk(chunk);
      }
      appender.flushSync();
    } finally {
      appender.closeSync();
    }
    try {
      const reader = await this.conn.runAndReadAll(this.select);
      return Int32Array.from((reader.getColumns()[0] ?? []).map(Number));
    } catch (error) {
      throw new FilterError(
        `The filter failed on partition ${batch.partition} near offset ${numbers[0]}: ${firstLine(error instanceof Error ? error.message : String(error))} (TRY_CAST gives NULL instead of an error).`,
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
