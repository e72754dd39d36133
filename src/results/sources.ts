// The four kinds of result file, the DuckDB table each is loaded into with its column types, and a file as tracked.
import type { FileMessage, ResultTable } from './resultsProtocol';

export type SourceKey = 'agg_csv' | 'agg_json' | 'alerts' | 'dead_letter';

export interface SourceSpec {
  table: ResultTable;
  internal: string;
  format: 'csv' | 'json';
  /** A JSON row with one of these NULL could not be read (bad JSON, not an object, a missing or mistyped field). */
  required: string[];
  /** For dead letters: only a row with every field NULL is unreadable. */
  requireAny?: boolean;
}

export const SOURCES: Record<SourceKey, SourceSpec> = {
  agg_csv: { table: 'aggregates', internal: '_agg_csv', format: 'csv', required: ['sensor_id', 'window_start', 'event_count'] },
  agg_json: { table: 'aggregates', internal: '_agg_json', format: 'json', required: ['sensor_id', 'window_start', 'event_count'] },
  alerts: { table: 'alerts', internal: '_alerts', format: 'json', required: ['event_id', 'sensor_id', 'ts'] },
  dead_letter: {
    table: 'dead_letter',
    internal: '_dead_letter',
    format: 'json',
    required: ['raw', 'error', 'partition', 'offset'],
    requireAny: true,
  },
};

export const SQL_TYPES: Record<ResultTable, Record<string, string>> = {
  aggregates: {
    sensor_id: 'VARCHAR',
    window_start: 'TIMESTAMP',
    window_end: 'TIMESTAMP',
    event_count: 'BIGINT',
    avg_temperature: 'DOUBLE',
    min_temperature: 'DOUBLE',
    max_temperature: 'DOUBLE',
    avg_humidity: 'DOUBLE',
    anomaly_count: 'BIGINT',
  },
  alerts: { event_id: 'VARCHAR', sensor_id: 'VARCHAR', ts: 'BIGINT', temperature: 'DOUBLE', reason: 'VARCHAR' },
  dead_letter: { raw: 'VARCHAR', error: 'VARCHAR', partition: 'INTEGER', offset: 'BIGINT' },
};

/** A committed file found in the output folder. */
export interface ScannedFile {
  path: string;
  rel: string;
  source: SourceKey;
  size: number;
  mtimeMs: number;
}

/** A file whose rows are (or are about to be) in its table. */
export interface TrackedFile extends ScannedFile {
  /** The number in the `_file_id` column of this file's rows. */
  id: number;
  loaded: boolean;
  rows: number;
  messages: FileMessage[];
}

export function fileMessage(file: { rel: string; source: SourceKey }, level: FileMessage['level'], message: string): FileMessage {
  return { table: SOURCES[file.source].table, file: file.rel, level, message };
}
