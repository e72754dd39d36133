// The results webview's message protocol with the extension host: types and a few pure helpers.
/**
 * The message protocol between the results webview (webview-ui/) and the extension host (src/results/resultsSession.ts, behind the thin panel src/views/resultsPanel.ts).
 * This file is the only one of src/ that the webview bundle imports: types plus a few pure helpers, no Node, no vscode.
 *
 * Handshake: the webview posts `ready` once its listener is installed; the host answers `init` (and never posts
 * before that). Every request carries a `requestId`; its answer carries the same id, so the webview can drop
 * answers that a newer request has overtaken.
 */

export const RESULT_TABLES = ['aggregates', 'alerts', 'dead_letter'] as const;
export type ResultTable = (typeof RESULT_TABLES)[number];

/** The folder under the output folder that each table is read from. */
export const TABLE_FOLDERS: Record<ResultTable, string> = { aggregates: 'aggregates', alerts: 'alerts', dead_letter: 'dead-letter' };

/** Every value crosses as one of these and is shown with `textContent`. */
export type CellValue = string | number | boolean | null;

/** `time` values are ISO-8601 UTC strings; `epochMs` values are numbers (milliseconds since 1970, UTC). */
export type ColumnKind = 'text' | 'integer' | 'number' | 'time' | 'epochMs' | 'boolean';

export interface ColumnInfo {
  name: string;
  kind: ColumnKind;
}

export const TABLE_COLUMNS: Record<ResultTable, readonly ColumnInfo[]> = {
  aggregates: [
    { name: 'sensor_id', kind: 'text' },
    { name: 'window_start', kind: 'time' },
    { name: 'window_end', kind: 'time' },
    { name: 'event_count', kind: 'integer' },
    { name: 'avg_temperature', kind: 'number' },
    { name: 'min_temperature', kind: 'number' },
    { name: 'max_temperature', kind: 'number' },
    { name: 'avg_humidity', kind: 'number' },
    { name: 'anomaly_count', kind: 'integer' },
  ],
  alerts: [
    { name: 'event_id', kind: 'text' },
    { name: 'sensor_id', kind: 'text' },
    { name: 'ts', kind: 'epochMs' },
    { name: 'temperature', kind: 'number' },
    { name: 'reason', kind: 'text' },
  ],
  dead_letter: [
    { name: 'raw', kind: 'text' },
    { name: 'error', kind: 'text' },
    { name: 'partition', kind: 'integer' },
    { name: 'offset', kind: 'integer' },
  ],
};

export const DEFAULT_SORT: Record<ResultTable, SortSpec> = {
  aggregates: { column: 'window_start', direction: 'desc' },
  alerts: { column: 'ts', direction: 'desc' },
  dead_letter: { column: 'offset', direction: 'desc' },
};

export const MAX_PAGE_SIZE = 500;

export interface SortSpec {
  column: string;
  direction: 'asc' | 'desc';
}

/**
 * Row filter of the table view. `from`/`to` are ISO-8601 strings (a value without a zone is read as UTC) and
 * bound the window start (aggregates) or the event time (alerts): from ≤ t < to. `search` is a case-insensitive
 * substring of the table's text columns.
 */
export interface RowFilter {
  sensors?: string[];
  from?: string;
  to?: string;
  search?: string;
}

export interface PageRequest {
  table: ResultTable;
  sort?: SortSpec;
  filter?: RowFilter;
  offset: number;
  limit: number;
}

export interface PageResult {
  table: ResultTable;
  columns: ColumnInfo[];
  rows: CellValue[][];
  offset: number;
  /** Rows matching the filter. */
  total: number;
  sort: SortSpec;
  elapsedMs: number;
}

export interface ChartRequest {
  filter?: RowFilter;
  /** Upper bound of points per sensor line (windows are merged into buckets above it). */
  maxPoints?: number;
  maxSensors?: number;
}

/** One point: bucket start (epoch ms), weighted mean temperature, anomalies in the bucket, max temperature. */
export type TemperaturePoint = [t: number, meanTemperature: number | null, anomalies: number, maxTemperature: number | null];
/** One bar: bucket start (epoch ms), events per window (mean over the windows in the bucket), anomalies. */
export type EventsPoint = [t: number, eventsPerWindow: number, anomalies: number];

export interface ChartResult {
  /** Window length seen in the data and the bucket length used (a multiple of it), both in ms. */
  windowMs: number;
  bucketMs: number;
  from: number | null;
  to: number | null;
  series: { sensor: string; points: TemperaturePoint[] }[];
  /** Sensors matching the filter; `series` holds at most `maxSensors` of them. */
  totalSensors: number;
  /**
   * Set when older windows exist before a long pause and the chart starts after it (no From filter given):
   * the first window start of the data, in epoch ms.
   */
  earlierFrom?: number;
  events: EventsPoint[];
  elapsedMs: number;
}

export interface QueryRequest {
  sql: string;
  offset: number;
  limit: number;
  sort?: SortSpec;
}

export interface QueryResult {
  sql: string;
  columns: ColumnInfo[];
  rows: CellValue[][];
  offset: number;
  /** Rows kept from the result (at most the row cap). */
  total: number;
  /** True when the statement returned more rows than the cap. */
  truncated: boolean;
  rowCap: number;
  sort?: SortSpec;
  elapsedMs: number;
}

export type ExportFormat = 'csv' | 'json';
export type ExportSource =
  { kind: 'table'; table: ResultTable; sort?: SortSpec; filter?: RowFilter } | { kind: 'query'; sql: string; sort?: SortSpec };

export type MessageLevel = 'info' | 'warning' | 'error';

/** Something the user should know about one file (or one table), e.g. a wrong CSV header. */
export interface FileMessage {
  table: ResultTable;
  /** Path relative to the output folder, with forward slashes; empty for a table-wide note. */
  file: string;
  level: MessageLevel;
  message: string;
}

export interface TableSummary {
  table: ResultTable;
  /** `missing`: no folder; `empty`: folder without committed files; `ok`: files found (they may still hold no rows). */
  state: 'missing' | 'empty' | 'ok';
  files: number;
  rows: number;
  /** For aggregates: which files the table is read from. */
  source?: 'csv' | 'json' | 'none';
  note?: string;
}

export interface ResultsSummary {
  outputFolder: string;
  outputExists: boolean;
  /** Increases each time the set of committed files changes. */
  dataVersion: number;
  files: number;
  aggregateRows: number;
  eventCount: number;
  /** ISO-8601 UTC: first window start and last window end. */
  timeRange: { from: string; to: string } | null;
  sensorCount: number;
  /** Sorted; at most 1,000 for the filter list. */
  sensors: string[];
  lastCommittedFile: { file: string; time: string } | null;
  alertRows: number;
  deadLetterRows: number;
  tables: Record<ResultTable, TableSummary>;
  messages: FileMessage[];
  /** Messages beyond the ones listed. */
  moreMessages: number;
}

/**
 * What a new panel shows first, computed while its webview loads and written into its HTML as a JSON data block
 * (never run as script): the webview draws it at once instead of asking after `ready`. Each answer carries the
 * request it answers; the webview uses it only if that is exactly what it would ask for.
 */
export interface InitialData {
  summary: ResultsSummary;
  pageSize: number;
  page?: { request: PageRequest; result: PageResult };
  chart?: { request: ChartRequest; result: ChartResult };
}

/** The element id of the initial-data block in the webview's HTML. */
export const INITIAL_DATA_ID = 'initial-data';

/**
 * The first screen's data as a JSON data block for the webview's HTML: the browser does not run it, the webview
 * reads its text with JSON.parse. Every "<" is escaped, so no value (say `</script><img onerror=…>`) can end the
 * block or open a tag.
 */
export function initialDataBlock(data: InitialData | undefined): string {
  if (!data) return '';
  return `<script type="application/json" id="${INITIAL_DATA_ID}">${JSON.stringify(data).replace(/</g, '\\u003c')}</script>\n`;
}

/** The same filter however its fields were ordered or left empty. */
function filterKey(filter: RowFilter | undefined): unknown[] {
  return [[...(filter?.sensors ?? [])].sort(), filter?.from ?? '', filter?.to ?? '', filter?.search ?? ''];
}

/** Equal for requests that ask for the same page. */
export function pageRequestKey(r: PageRequest): string {
  return JSON.stringify([r.table, r.offset, r.limit, r.sort?.column ?? '', r.sort?.direction ?? '', filterKey(r.filter)]);
}

/** Equal for requests that ask for the same chart. */
export function chartRequestKey(r: ChartRequest): string {
  return JSON.stringify([r.maxPoints ?? '', r.maxSensors ?? '', filterKey(r.filter)]);
}

// ---- webview → host ----

export type WebviewToHost =
  | { type: 'ready' }
  | { type: 'page'; requestId: number; request: PageRequest }
  | { type: 'chart'; requestId: number; request: ChartRequest }
  | { type: 'query'; requestId: number; request: QueryRequest }
  | { type: 'export'; requestId: number; format: ExportFormat; source: ExportSource }
  | { type: 'refresh' }
  | { type: 'openFile'; file: string };

// ---- host → webview ----

export type RequestChannel = 'page' | 'chart' | 'query' | 'export';

export type HostToWebview =
  | { type: 'init'; summary: ResultsSummary; pageSize: number }
  | { type: 'summary'; summary: ResultsSummary; reason: 'filesChanged' | 'refresh' }
  | { type: 'busy'; busy: boolean; label?: string }
  | { type: 'pageResult'; requestId: number; result: PageResult; hostMs?: number }
  | { type: 'chartResult'; requestId: number; result: ChartResult; hostMs?: number }
  | { type: 'queryResult'; requestId: number; result: QueryResult; hostMs?: number }
  | { type: 'exported'; requestId: number; rows: number; file: string }
  | { type: 'error'; requestId?: number; channel: RequestChannel | 'load'; message: string };

// ---- validation of what arrives from the webview (the host trusts nothing it did not check) ----

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isTable(value: unknown): value is ResultTable {
  return typeof value === 'string' && (RESULT_TABLES as readonly string[]).includes(value);
}

function isRequestId(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isCount(value: unknown, max: number): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 && value <= max;
}

function optionalString(value: unknown, maxLength: number): boolean {
  return value === undefined || (typeof value === 'string' && value.length <= maxLength);
}

export function isSortSpec(value: unknown): value is SortSpec {
  return (
    isObject(value) &&
    typeof value.column === 'string' &&
    value.column.length <= 200 &&
    (value.direction === 'asc' || value.direction === 'desc')
  );
}

export function isRowFilter(value: unknown): value is RowFilter {
  if (!isObject(value)) return false;
  if (
    value.sensors !== undefined &&
    !(
      Array.isArray(value.sensors) &&
      value.sensors.length <= 10_000 &&
      value.sensors.every((s) => typeof s === 'string' && s.length <= 500)
    )
  )
    return false;
  return optionalString(value.from, 100) && optionalString(value.to, 100) && optionalString(value.search, 1000);
}

function optionalSort(value: unknown): boolean {
  return value === undefined || isSortSpec(value);
}

function optionalFilter(value: unknown): boolean {
  return value === undefined || isRowFilter(value);
}

/** The message if it is a well-formed `WebviewToHost`, otherwise undefined. */
export function parseWebviewMessage(raw: unknown): WebviewToHost | undefined {
  if (!isObject(raw) || typeof raw.type !== 'string') return undefined;
  switch (raw.type) {
    case 'ready':
    case 'refresh':
      return { type: raw.type };
    case 'openFile':
      return typeof raw.file === 'string' && raw.file.length <= 4096 ? { type: 'openFile', file: raw.file } : undefined;
    case 'page': {
      const r = raw.request;
      if (
        !isRequestId(raw.requestId) ||
        !isObject(r) ||
        !isTable(r.table) ||
        !isCount(r.offset, Number.MAX_SAFE_INTEGER) ||
        !isCount(r.limit, MAX_PAGE_SIZE)
      )
        return undefined;
      if (!optionalSort(r.sort) || !optionalFilter(r.filter)) return undefined;
      return {
        type: 'page',
        requestId: raw.requestId,
        request: {
          table: r.table,
          offset: r.offset,
          limit: r.limit,
          sort: r.sort as SortSpec | undefined,
          filter: r.filter as RowFilter | undefined,
        },
      };
    }
    case 'chart': {
      const r = raw.request;
      if (!isRequestId(raw.requestId) || !isObject(r) || !optionalFilter(r.filter)) return undefined;
      if (r.maxPoints !== undefined && !isCount(r.maxPoints, 5000)) return undefined;
      if (r.maxSensors !== undefined && !isCount(r.maxSensors, 50)) return undefined;
      return {
        type: 'chart',
        requestId: raw.requestId,
        request: {
          filter: r.filter as RowFilter | undefined,
          maxPoints: r.maxPoints as number | undefined,
          maxSensors: r.maxSensors as number | undefined,
        },
      };
    }
    case 'query': {
      const r = raw.request;
      if (!isRequestId(raw.requestId) || !isObject(r) || typeof r.sql !== 'string' || r.sql.length > 100_000) return undefined;
      if (!isCount(r.offset, Number.MAX_SAFE_INTEGER) || !isCount(r.limit, MAX_PAGE_SIZE) || !optionalSort(r.sort)) return undefined;
      return {
        type: 'query',
        requestId: raw.requestId,
        request: { sql: r.sql, offset: r.offset, limit: r.limit, sort: r.sort as SortSpec | undefined },
      };
    }
    case 'export': {
      const s = raw.source;
      if (!isRequestId(raw.requestId) || (raw.format !== 'csv' && raw.format !== 'json') || !isObject(s)) return undefined;
      if (s.kind === 'table' && isTable(s.table) && optionalSort(s.sort) && optionalFilter(s.filter)) {
        return {
          type: 'export',
          requestId: raw.requestId,
          format: raw.format,
          source: { kind: 'table', table: s.table, sort: s.sort as SortSpec | undefined, filter: s.filter as RowFilter | undefined },
        };
      }
      if (s.kind === 'query' && typeof s.sql === 'string' && s.sql.length <= 100_000 && optionalSort(s.sort)) {
        return {
          type: 'export',
          requestId: raw.requestId,
          format: raw.format,
          source: { kind: 'query', sql: s.sql, sort: s.sort as SortSpec | undefined },
        };
      }
      return undefined;
    }
    default:
      return undefined;
  }
}

/** What the From/To boxes hint before there are windows: the shape of a filter time. */
export const FILTER_TIME_HINT = 'YYYY-MM-DD HH:MM';

/**
 * The From/To boxes' placeholders: the data's own range, in the minutes (UTC) the boxes take. From is rounded down
 * and To up to the minute, so that the hints typed back in (from ≤ window start < to) keep every window.
 */
export function filterPlaceholders(range: ResultsSummary['timeRange']): { from: string; to: string } {
  const from = range ? Date.parse(range.from) : NaN;
  const to = range ? Date.parse(range.to) : NaN;
  if (!Number.isFinite(from) || !Number.isFinite(to)) return { from: FILTER_TIME_HINT, to: FILTER_TIME_HINT };
  const minute = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
  return { from: minute(Math.floor(from / 60_000) * 60_000), to: minute(Math.ceil(to / 60_000) * 60_000) };
}

/**
 * A filter time as epoch ms: ISO-8601 with or without a zone (no zone = UTC, which is what the data uses), or
 * undefined for an empty value. Throws a readable error for anything else.
 */
export function parseFilterTime(value: string | undefined, label: string): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const text = value.trim();
  const hasZone = /(?:Z|[+-]\d{2}:?\d{2})$/i.test(text);
  const iso = /^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : hasZone ? text : `${text.replace(' ', 'T')}Z`;
  const ms = Date.parse(iso);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text) || Number.isNaN(ms))
    throw new Error(`${label} must be a date and time like 2026-11-25T10:00 (UTC); got "${value}".`);
  return ms;
}
