import { DuckDBConnection, DuckDBInstance, DuckDBTypeId } from '@duckdb/node-api';
import { createHash } from 'node:crypto';
import { createWriteStream, rmSync, type Dirent } from 'node:fs';
import { mkdir, mkdtemp, open as openFile, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import {
  chartRequestKey,
  DEFAULT_SORT,
  pageRequestKey,
  parseFilterTime,
  RESULT_TABLES,
  TABLE_COLUMNS,
  TABLE_FOLDERS,
  type CellValue,
  type ChartRequest,
  type ChartResult,
  type ColumnInfo,
  type ColumnKind,
  type EventsPoint,
  type ExportFormat,
  type ExportSource,
  type FileMessage,
  type PageRequest,
  type PageResult,
  type QueryRequest,
  type QueryResult,
  type ResultsSummary,
  type ResultTable,
  type RowFilter,
  type SortSpec,
  type TableSummary,
  type TemperaturePoint,
} from '../core/resultsProtocol';
import { checkReadOnlySql } from '../core/sqlGuard';
import { readWorkspaceSetting } from '../core/workspaceSettings';

/**
 * The pipeline's output files (aggregates/, alerts/, dead-letter/) as DuckDB tables, for the results view and the
 * `pipeline verify` / `pipeline query` commands.
 *
 * Committed files are loaded once into an in-memory DuckDB and then kept up to date file by file: `refresh()`
 * loads new files and drops the rows of removed or rewritten ones, so a live pipeline costs one small read per
 * committed file instead of a rescan of everything on each query. (A view straight over the globs would re-read
 * and re-parse every CSV on every page, sort and chart: about 0.5 s per query at a million rows.) Each row keeps
 * the id of the file it came from (`_file_id`, a number: a path per row would cost about 60 MB at a million rows),
 * which is how a file's rows are replaced and how bad files are reported.
 *
 * The user-visible tables are views: `aggregates` (from the CSV files, or the JSON files when there is no CSV),
 * `aggregates_csv`, `aggregates_json`, `alerts`, `dead_letter`. JSON aggregate files are only loaded when asked for
 * (verify, or a query naming aggregates_json) while CSV files exist, because they double the load time.
 */

export class ResultsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ResultsError';
  }
}

/** A query refused by the read-only check (src/core/sqlGuard.ts). */
export class QueryRefusedError extends ResultsError {}

/** `cacheOnly` was asked for and the cache file could not be used (see the log for why). */
export class CacheUnavailableError extends ResultsError {}

type SourceKey = 'agg_csv' | 'agg_json' | 'alerts' | 'dead_letter';

interface SourceSpec {
  table: ResultTable;
  internal: string;
  format: 'csv' | 'json';
  /** A JSON row with one of these NULL could not be read (bad JSON, not an object, a missing or mistyped field). */
  required: string[];
  /** For dead letters: only a row with every field NULL is unreadable. */
  requireAny?: boolean;
}

const SOURCES: Record<SourceKey, SourceSpec> = {
  agg_csv: { table: 'aggregates', internal: '_agg_csv', format: 'csv', required: ['sensor_id', 'window_start', 'event_count'] },
  agg_json: { table: 'aggregates', internal: '_agg_json', format: 'json', required: ['sensor_id', 'window_start', 'event_count'] },
  alerts: { table: 'alerts', internal: '_alerts', format: 'json', required: ['event_id', 'sensor_id', 'ts'] },
  dead_letter: { table: 'dead_letter', internal: '_dead_letter', format: 'json', required: ['raw', 'error', 'partition', 'offset'], requireAny: true },
};

const SQL_TYPES: Record<ResultTable, Record<string, string>> = {
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

/** Columns searched by the filter's `search` text, the sensor column and the time column of each table. */
const FILTER_COLUMNS: Record<ResultTable, { text: string[]; sensor?: string; time?: { column: string; epochMs: boolean } }> = {
  aggregates: { text: ['sensor_id'], sensor: 'sensor_id', time: { column: 'window_start', epochMs: false } },
  alerts: { text: ['event_id', 'sensor_id', 'reason'], sensor: 'sensor_id', time: { column: 'ts', epochMs: true } },
  dead_letter: { text: ['raw', 'error'] },
};

const JSON_EXTENSIONS = ['.jsonl', '.json', '.ndjson'];
const MAX_LISTED_MESSAGES = 50;
const DEFAULT_ROW_CAP = 10_000;
const DEFAULT_QUERY_TIMEOUT_MS = 30_000;
const EXPORT_TIMEOUT_MS = 10 * 60_000;

export interface ResultsStoreOptions {
  /** Rows kept from a query result (the rest is reported as truncated). */
  rowCap?: number;
  queryTimeoutMs?: number;
  log?: (line: string) => void;
  /**
   * A page of a text-sorted table this far (or further) from both ends is found through the sort column's
   * distinct values and their counts instead of one sort over every row (default 5,000; tests lower it).
   */
  keyedPagingFrom?: number;
  /**
   * A DuckDB file that keeps the loaded rows between sessions (see `ResultsStore.cacheFileFor`): opening the same
   * output folder again reads only the files that changed meanwhile. Without it (the CLI) the rows live in memory.
   * A cache that is busy (another VS Code window), damaged or of another version is not used or is rebuilt.
   */
  cacheFile?: string;
  /**
   * Open only through `cacheFile`: when it cannot be used (busy, not writable), throw `CacheUnavailableError`
   * before reading anything. For background indexing, where rows read into memory would be thrown away.
   */
  cacheOnly?: boolean;
}

export interface RefreshResult {
  changed: boolean;
  added: number;
  removed: number;
  rewritten: number;
  elapsedMs: number;
}

export interface VerifyReport {
  ok: boolean;
  outputFolder: string;
  aggregateRows: number;
  csvRows: number;
  jsonRows: number;
  csvFiles: number;
  jsonFiles: number;
  eventCountSum: number;
  alertRows: number;
  deadLetterRows: number;
  /** Up to 50 (sensor_id, window_start) pairs written more than once; `duplicateWindowCount` has the total. */
  duplicateWindows: { sensor_id: string; window_start: string; copies: number }[];
  duplicateWindowCount: number;
  /** Rows in the CSV files but not the JSON files, plus the reverse (as multisets). */
  csvJsonMismatch: number;
  expected?: number;
  /** Why `ok` is false (empty when ok). */
  problems: string[];
  /** File-level messages (bad lines, wrong headers) that do not decide `ok` on their own. */
  warnings: string[];
  elapsedMs: number;
}

interface TrackedFile {
  /** The number in the `_file_id` column of this file's rows. */
  id: number;
  path: string;
  rel: string;
  source: SourceKey;
  size: number;
  mtimeMs: number;
  loaded: boolean;
  rows: number;
  messages: FileMessage[];
}

interface KeyGroup {
  value: string | null;
  count: number;
}

/** Keyed paging reads at most this many distinct values, and a page from at most this many of them. */
const MAX_KEY_GROUPS = 10_000;
const MAX_KEY_SEGMENTS = 8;
const DEFAULT_KEYED_PAGING_FROM = 5_000;

interface ScannedFile {
  path: string;
  rel: string;
  source: SourceKey;
  size: number;
  mtimeMs: number;
}

interface ScanResult {
  exists: boolean;
  folders: Record<ResultTable, boolean>;
  files: ScannedFile[];
  notes: FileMessage[];
}

/** What the cache's tables hold: a change here (a column, a type) makes every existing cache be rebuilt. */
const CACHE_SCHEMA = JSON.stringify({ version: 1, types: SQL_TYPES, sources: Object.fromEntries(Object.entries(SOURCES).map(([k, v]) => [k, v.internal])) });
/** Cache files of output folders not opened for this long are deleted when another one is opened. */
const CACHE_MAX_AGE_MS = 30 * 24 * 3600_000;
/** Cache files open in this process: DuckDB's file lock is per process, so two instances here could both write. */
const cachesInUse = new Set<string>();

type DuckDBConfig = Record<string, string>;

/**
 * Opens the cache file, or says why not. A file another process holds (DuckDB's lock) is left alone; a damaged
 * one, or one a newer DuckDB wrote, is deleted and made anew.
 */
async function openCacheInstance(file: string, config: DuckDBConfig, log: (line: string) => void): Promise<DuckDBInstance | undefined> {
  if (cachesInUse.has(file)) {
    log(`results: the cache ${file} is open already in this window; reading the files into memory instead`);
    return undefined;
  }
  await mkdir(dirname(file), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      return await DuckDBInstance.create(file, config);
    } catch (error) {
      const text = firstLine(error);
      if (/lock/i.test(text)) {
        log(`results: the cache ${file} is in use by another process (${text}); reading the files into memory instead`);
        return undefined;
      }
      if (attempt > 0) {
        log(`results: could not open the cache ${file} (${text}); reading the files into memory instead`);
        return undefined;
      }
      log(`results: the cache ${file} could not be opened (${text}); making it anew`);
      await removeCacheFile(file);
    }
  }
  return undefined;
}

async function removeCacheFile(file: string): Promise<void> {
  await rm(file, { force: true });
  await rm(`${file}.wal`, { force: true });
}

/** Deletes the cache files in `dir` (other than `keep`) that nobody opened for a month. */
async function pruneCaches(dir: string, keep: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  const now = Date.now();
  for (const name of names) {
    const file = join(dir, name);
    if (!/^results-[0-9a-f]+\.duckdb$/.test(name) || file === keep || cachesInUse.has(file)) continue;
    try {
      if (now - (await stat(file)).mtimeMs > CACHE_MAX_AGE_MS) await removeCacheFile(file);
    } catch {
      // gone meanwhile
    }
  }
}

/** `--output`, then the `kafkaFlinkLab.outputFolder` workspace setting, then `<workspace>/output`. */
export function resolveOutputFolder(workspace: string, flag?: string): string {
  if (flag) return resolve(flag);
  const setting = readWorkspaceSetting<string>(workspace, 'outputFolder');
  if (setting && setting.trim()) {
    const expanded = setting.trim().replace(/^\$\{workspaceFolder\}/, workspace);
    return isAbsolute(expanded) ? resolve(expanded) : resolve(workspace, expanded);
  }
  return resolve(workspace, 'output');
}

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;
const quoteString = (value: string) => `'${value.replace(/'/g, "''")}'`;
const sqlList = (values: string[]) => `[${values.map(quoteString).join(', ')}]`;

function relPath(root: string, path: string): string {
  return relative(root, path).split(sep).join('/');
}

function toNumber(value: unknown): number {
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'number') return value;
  if (value === null || value === undefined) return 0;
  return Number(value);
}

/** A DuckDB JS value as a protocol cell: text, a finite number, a boolean or null. */
export function toCell(value: unknown): CellValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (typeof value === 'bigint') return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(value) : value.toString();
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'invalid date' : value.toISOString();
  if (value instanceof Uint8Array) return `\\x${Buffer.from(value).toString('hex')}`;
  try {
    return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  } catch {
    return String(value);
  }
}

function columnKind(typeId: DuckDBTypeId): ColumnKind {
  switch (typeId) {
    case DuckDBTypeId.TINYINT:
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.UTINYINT:
    case DuckDBTypeId.USMALLINT:
    case DuckDBTypeId.UINTEGER:
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UHUGEINT:
      return 'integer';
    case DuckDBTypeId.FLOAT:
    case DuckDBTypeId.DOUBLE:
    case DuckDBTypeId.DECIMAL:
      return 'number';
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_S:
    case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_NS:
    case DuckDBTypeId.TIMESTAMP_TZ:
    case DuckDBTypeId.DATE:
      return 'time';
    case DuckDBTypeId.BOOLEAN:
      return 'boolean';
    default:
      return 'text';
  }
}

/** The CSV header of a file: its column names, or undefined for an empty file. */
async function readCsvHeader(path: string): Promise<string[] | undefined> {
  const handle = await openFile(path, 'r');
  try {
    const buffer = Buffer.alloc(64 * 1024);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    if (bytesRead === 0) return undefined;
    let text = buffer.subarray(0, bytesRead).toString('utf8');
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    const line = text.split('\n')[0].replace(/\r$/, '');
    return line.split(',').map((name) => name.trim().replace(/^"(.*)"$/, '$1').trim());
  } finally {
    await handle.close();
  }
}

/** Line numbers (1-based) of lines of a JSON-lines file that the table cannot use, for the first few. */
async function findBadJsonLines(path: string, spec: SourceSpec, limit: number): Promise<number[]> {
  const lines = (await readFile(path, 'utf8')).split('\n');
  const bad: number[] = [];
  for (let i = 0; i < lines.length && bad.length < limit; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      bad.push(i + 1);
      continue;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      bad.push(i + 1);
      continue;
    }
    const record = value as Record<string, unknown>;
    const missing = spec.required.filter((key) => record[key] === null || record[key] === undefined);
    if (spec.requireAny ? missing.length === spec.required.length : missing.length > 0) bad.push(i + 1);
  }
  return bad;
}

/** SQL for the `_file_id` of a row read from one of `files`, from the reader's file name column. */
function fileIdOf(files: TrackedFile[], column = 'filename'): string {
  if (files.length === 1) return String(files[0].id);
  return `[${files.map((f) => f.id).join(', ')}][list_position(${sqlList(files.map((f) => f.path))}, ${column})]`;
}

/** Whether `outputFolder` holds any committed result file (one directory walk; no DuckDB). */
export async function hasResultFiles(outputFolder: string): Promise<boolean> {
  return (await scanOutput(resolve(outputFolder))).files.length > 0;
}

async function scanOutput(root: string): Promise<ScanResult> {
  const folders = { aggregates: false, alerts: false, dead_letter: false } as Record<ResultTable, boolean>;
  const files: ScannedFile[] = [];
  const notes: FileMessage[] = [];
  let exists = false;
  try {
    exists = (await stat(root)).isDirectory();
  } catch {
    exists = false;
  }
  if (!exists) return { exists, folders, files, notes };

  for (const table of RESULT_TABLES) {
    const folder = join(root, TABLE_FOLDERS[table]);
    try {
      if (!(await stat(folder)).isDirectory()) continue;
    } catch {
      continue;
    }
    folders[table] = true;
    const ignored: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries: Dirent[];
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch {
        return; // removed while scanning: the next refresh sees the new state
      }
      for (const entry of entries) {
        // In-progress files (Flink's .part-…inprogress…) and other hidden entries are not committed output.
        if (entry.name.startsWith('.')) continue;
        const full = join(dir, entry.name);
        if (entry.isSymbolicLink()) {
          ignored.push(relPath(root, full));
          continue;
        }
        if (entry.isDirectory()) {
          await walk(full);
          continue;
        }
        if (!entry.isFile()) continue;
        const lower = entry.name.toLowerCase();
        let source: SourceKey | undefined;
        if (table === 'aggregates') source = lower.endsWith('.csv') ? 'agg_csv' : JSON_EXTENSIONS.some((e) => lower.endsWith(e)) ? 'agg_json' : undefined;
        else if (JSON_EXTENSIONS.some((e) => lower.endsWith(e))) source = table;
        if (!source) {
          ignored.push(relPath(root, full));
          continue;
        }
        try {
          const info = await stat(full);
          files.push({ path: full, rel: relPath(root, full), source, size: info.size, mtimeMs: info.mtimeMs });
        } catch {
          // removed between readdir and stat
        }
      }
    };
    await walk(folder);
    if (ignored.length > 0) {
      const kinds = table === 'aggregates' ? '.csv or .jsonl' : '.jsonl';
      notes.push({
        table,
        file: ignored[0],
        level: 'info',
        message: `${ignored.length} file${ignored.length > 1 ? 's' : ''} without a ${kinds} name ignored (e.g. ${ignored[0]}); the job must write files ending in ${kinds}.`,
      });
    }
  }
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { exists, folders, files, notes };
}

export class ResultsStore {
  private readonly files = new Map<string, TrackedFile>();
  private scan: ScanResult = { exists: false, folders: { aggregates: false, alerts: false, dead_letter: false }, files: [], notes: [] };
  private version = 0;
  private aggregatesSource: 'csv' | 'json' | 'none' = 'none';
  /** Folder existence and ignored-file notes of the last scan: a change there is news for the view too. */
  private layout = '';
  private jsonAggregatesWanted = false;
  private nextFileId = 1;
  private lock: Promise<unknown> = Promise.resolve();
  private userLock: Promise<unknown> = Promise.resolve();
  private summaryCache?: { version: number; summary: ResultsSummary };
  private countCache = new Map<string, number>();
  /** Distinct values of a text sort column with their row counts, in sort order (null: too many to use). */
  private keyCache = new Map<string, KeyGroup[] | null>();
  /** The last few charts of this data version (the same chart is asked for again after a hide/show). */
  private chartCache = new Map<string, ChartResult>();
  /** The last few pages of this data version: the view's first page is often asked for ahead (`prefetch`). */
  private pageCache = new Map<string, PageResult>();
  private queryCache?: { sql: string; version: number; result: Omit<QueryResult, 'rows' | 'offset' | 'elapsedMs'> & { rows: CellValue[][] } };
  private closed = false;
  /** The cache file this store writes through (undefined: the rows live in memory only). */
  private cacheFile?: string;
  private readonly rowCap: number;
  private readonly queryTimeoutMs: number;

  private constructor(
    readonly outputFolder: string,
    private readonly instance: DuckDBInstance,
    private readonly conn: DuckDBConnection,
    private readonly userConn: DuckDBConnection,
    private readonly spillDir: string,
    private readonly options: ResultsStoreOptions,
  ) {
    this.rowCap = options.rowCap ?? DEFAULT_ROW_CAP;
    this.queryTimeoutMs = options.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS;
  }

  /** The cache file of `outputFolder` in `cacheDir` (the extension's workspace storage): one per output folder. */
  static cacheFileFor(cacheDir: string, outputFolder: string): string {
    return join(cacheDir, `results-${createHash('sha256').update(resolve(outputFolder)).digest('hex').slice(0, 16)}.duckdb`);
  }

  /**
   * Opens a DuckDB that can read only `outputFolder` and loads what is committed there: in memory, or through
   * `options.cacheFile`, where the rows of an earlier session are reused for every file that has not changed.
   */
  static async open(outputFolder: string, options: ResultsStoreOptions = {}): Promise<ResultsStore> {
    const root = resolve(outputFolder);
    const log = options.log ?? (() => undefined);
    // DuckDB's own spill folder (only used beyond the memory limit), removed on close.
    const spill = await mkdtemp(join(tmpdir(), 'kafka-flink-lab-duckdb-'));
    const config: DuckDBConfig = {
      autoinstall_known_extensions: 'false',
      autoload_known_extensions: 'false',
      memory_limit: '2GB',
      temp_directory: spill,
      // Rows of parallel CSV reads are appended as they come (about 100 ms less at a million rows). Every page
      // orders by its sort column and then rowid, so the view does not depend on the file order.
      preserve_insertion_order: 'false',
    };
    const cacheFile = options.cacheFile ? resolve(options.cacheFile) : undefined;
    const cached = cacheFile ? await openCacheInstance(cacheFile, config, log) : undefined;
    const usedCache = cached ? cacheFile : undefined;
    if (options.cacheOnly && !cached) {
      rmSync(spill, { recursive: true, force: true });
      throw new CacheUnavailableError(cacheFile ? `the cache ${cacheFile} cannot be used now` : 'no cache file was given');
    }
    const instance = cached ?? (await DuckDBInstance.create(':memory:', config));
    if (usedCache) {
      cachesInUse.add(usedCache);
      void pruneCaches(dirname(usedCache), usedCache);
    }
    let store: ResultsStore | undefined;
    try {
      const conn = await instance.connect();
      // The second lock after the SQL check: nothing outside the output folder, no settings changes afterwards.
      await conn.run(`SET allowed_directories = ${sqlList([root.endsWith(sep) ? root : root + sep])}`);
      await conn.run('SET enable_external_access = false');
      await conn.run('SET lock_configuration = true');
      store = new ResultsStore(root, instance, conn, await instance.connect(), spill, options);
      store.cacheFile = usedCache;
      await store.createTables();
      await store.createViews();
      await store.refresh();
      return store;
    } catch (error) {
      if (store) store.close();
      else {
        if (usedCache) cachesInUse.delete(usedCache);
        instance.closeSync();
        rmSync(spill, { recursive: true, force: true });
      }
      throw error;
    }
  }

  /**
   * The tables, made anew in memory; in a cache file, kept when they were written for this output folder and this
   * schema (then the file list is read back, and rows of a file whose listing never got written are dropped).
   */
  private async createTables(): Promise<void> {
    const tables = Object.values(SOURCES).map((spec) => {
      const columns = Object.entries(SQL_TYPES[spec.table]).map(([name, type]) => `${quoteIdent(name)} ${type}`);
      return `CREATE TABLE IF NOT EXISTS ${spec.internal} (${columns.join(', ')}, _file_id INTEGER)`;
    });
    if (!this.cacheFile) {
      for (const sql of tables) await this.conn.run(sql);
      return;
    }
    const started = performance.now();
    await this.conn.run('CREATE TABLE IF NOT EXISTS _cache_meta (key VARCHAR PRIMARY KEY, value VARCHAR)');
    const meta = new Map((await this.rows('SELECT key, value FROM _cache_meta')).map(([k, v]) => [String(k), String(v)]));
    if (meta.get('schema') !== CACHE_SCHEMA || meta.get('folder') !== this.outputFolder) {
      if (meta.size > 0) this.log(`results: the cache ${this.cacheFile} was written for another version or folder; making it anew`);
      for (const spec of Object.values(SOURCES)) await this.conn.run(`DROP TABLE IF EXISTS ${spec.internal}`);
      await this.conn.run('DROP TABLE IF EXISTS _cache_files');
      await this.conn.run('DELETE FROM _cache_meta');
      await this.conn.run(`INSERT INTO _cache_meta VALUES ('schema', ${quoteString(CACHE_SCHEMA)}), ('folder', ${quoteString(this.outputFolder)})`);
    }
    for (const sql of tables) await this.conn.run(sql);
    await this.conn.run('CREATE TABLE IF NOT EXISTS _cache_files (id INTEGER PRIMARY KEY, path VARCHAR, rel VARCHAR, source VARCHAR, size BIGINT, mtime_ms DOUBLE, row_count BIGINT, messages VARCHAR)');
    // A file's rows are written before its line in _cache_files (and its line deleted before its rows): rows
    // without a line are what an interrupted session left, and go.
    for (const spec of Object.values(SOURCES)) await this.conn.run(`DELETE FROM ${spec.internal} WHERE _file_id NOT IN (SELECT id FROM _cache_files)`);
    const listed = await this.rows('SELECT id, path, rel, source, size, mtime_ms, row_count, messages FROM _cache_files');
    for (const [id, path, rel, source, size, mtime, rows, messages] of listed) {
      if (!(String(source) in SOURCES)) continue;
      const file: TrackedFile = { id: toNumber(id), path: String(path), rel: String(rel), source: String(source) as SourceKey, size: toNumber(size), mtimeMs: toNumber(mtime), loaded: true, rows: toNumber(rows), messages: [] };
      try {
        file.messages = JSON.parse(String(messages)) as FileMessage[];
      } catch {
        file.messages = [];
      }
      this.files.set(file.path, file);
      this.nextFileId = Math.max(this.nextFileId, file.id + 1);
    }
    if (listed.length > 0) this.log(`results: ${listed.length} file(s) known from the cache ${this.cacheFile} (${Math.round(performance.now() - started)} ms)`);
  }

  /**
   * Writes the listing of files whose rows are now in the tables (cache only). The modification time goes in as
   * text: a number literal would be read as a DECIMAL and could come back one bit off, so the file would look
   * changed and be read again on every open.
   */
  private async rememberFiles(files: TrackedFile[]): Promise<void> {
    if (!this.cacheFile || files.length === 0) return;
    for (let i = 0; i < files.length; i += 500) {
      const values = files
        .slice(i, i + 500)
        .map((f) => `(${f.id}, ${quoteString(f.path)}, ${quoteString(f.rel)}, ${quoteString(f.source)}, ${f.size}, CAST('${f.mtimeMs}' AS DOUBLE), ${f.rows}, ${quoteString(JSON.stringify(f.messages))})`);
      await this.conn.run(`INSERT OR REPLACE INTO _cache_files VALUES ${values.join(', ')}`);
    }
  }

  /** Deletes the listing of files whose rows are about to go (cache only). */
  private async forgetFiles(ids: number[]): Promise<void> {
    if (!this.cacheFile || ids.length === 0) return;
    await this.conn.run(`DELETE FROM _cache_files WHERE id IN (${ids.join(', ')})`);
  }

  get dataVersion(): number {
    return this.version;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.userConn.closeSync();
      this.conn.closeSync();
      this.instance.closeSync();
    } catch {
      // already closed
    }
    if (this.cacheFile) cachesInUse.delete(this.cacheFile);
    rmSync(this.spillDir, { recursive: true, force: true });
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.lock.then(() => {
      if (this.closed) throw new ResultsError('The results store is closed.');
      return work();
    });
    this.lock = run.catch(() => undefined);
    return run;
  }

  private log(line: string): void {
    this.options.log?.(line);
  }

  private async rows(sql: string, conn = this.conn): Promise<unknown[][]> {
    const reader = await conn.runAndReadAll(sql);
    return reader.getRowsJS() as unknown[][];
  }

  private async createViews(): Promise<void> {
    const cols = (table: ResultTable) => Object.keys(SQL_TYPES[table]).map(quoteIdent).join(', ');
    const aggBase = this.aggregatesSource === 'json' ? SOURCES.agg_json.internal : SOURCES.agg_csv.internal;
    await this.conn.run(`CREATE OR REPLACE VIEW aggregates AS SELECT ${cols('aggregates')} FROM ${aggBase}`);
    await this.conn.run(`CREATE OR REPLACE VIEW aggregates_csv AS SELECT ${cols('aggregates')} FROM ${SOURCES.agg_csv.internal}`);
    await this.conn.run(`CREATE OR REPLACE VIEW aggregates_json AS SELECT ${cols('aggregates')} FROM ${SOURCES.agg_json.internal}`);
    await this.conn.run(`CREATE OR REPLACE VIEW alerts AS SELECT ${cols('alerts')} FROM ${SOURCES.alerts.internal}`);
    await this.conn.run(`CREATE OR REPLACE VIEW dead_letter AS SELECT ${cols('dead_letter')} FROM ${SOURCES.dead_letter.internal}`);
  }

  /** The internal table behind a user-visible one (page and chart read it directly, for its rowid). */
  private baseTable(table: ResultTable): string {
    if (table === 'aggregates') return this.aggregatesSource === 'json' ? SOURCES.agg_json.internal : SOURCES.agg_csv.internal;
    return SOURCES[table].internal;
  }

  /**
   * Brings the tables in line with the committed files: loads new files, replaces rewritten ones, drops removed
   * ones. Cheap when nothing changed (one directory walk), so it is safe to call on every watcher event.
   */
  refresh(): Promise<RefreshResult> {
    return this.exclusive(async () => {
      const started = performance.now();
      const scan = await scanOutput(this.outputFolder);
      this.scan = scan;
      const seen = new Set<string>();
      const toDrop: TrackedFile[] = [];
      const toLoad: ScannedFile[] = [];
      let added = 0;
      let rewritten = 0;
      for (const file of scan.files) {
        seen.add(file.path);
        const known = this.files.get(file.path);
        if (!known) {
          added++;
          toLoad.push(file);
        } else if (known.size !== file.size || known.mtimeMs !== file.mtimeMs) {
          rewritten++;
          toDrop.push(known);
          toLoad.push(file);
        }
      }
      for (const known of this.files.values()) if (!seen.has(known.path)) toDrop.push(known);
      const removed = toDrop.length - rewritten;

      await this.forgetFiles(toDrop.filter((f) => f.loaded).map((f) => f.id));
      for (const [key, spec] of Object.entries(SOURCES) as [SourceKey, SourceSpec][]) {
        const ids = toDrop.filter((f) => f.source === key && f.loaded).map((f) => f.id);
        if (ids.length > 0) await this.conn.run(`DELETE FROM ${spec.internal} WHERE _file_id IN (${ids.join(', ')})`);
      }
      for (const file of toDrop) this.files.delete(file.path);
      for (const file of toLoad) this.files.set(file.path, { ...file, id: this.nextFileId++, loaded: false, rows: 0, messages: [] });

      const csvCount = scan.files.filter((f) => f.source === 'agg_csv').length;
      const jsonCount = scan.files.filter((f) => f.source === 'agg_json').length;
      const source = csvCount > 0 ? 'csv' : jsonCount > 0 ? 'json' : 'none';
      const sourceChanged = source !== this.aggregatesSource;
      this.aggregatesSource = source;

      for (const key of Object.keys(SOURCES) as SourceKey[]) {
        if (key === 'agg_json' && source !== 'json' && !this.jsonAggregatesWanted) continue;
        const pending = [...this.files.values()].filter((f) => f.source === key && !f.loaded);
        if (pending.length > 0) await this.loadFiles(key, pending);
      }
      if (sourceChanged) await this.createViews();

      const layout = JSON.stringify([scan.exists, scan.folders, scan.notes]);
      const changed = toLoad.length > 0 || toDrop.length > 0 || sourceChanged || layout !== this.layout;
      this.layout = layout;
      if (changed) {
        this.version++;
        this.countCache.clear();
        this.keyCache.clear();
        this.chartCache.clear();
        this.pageCache.clear();
        this.log(`results: ${added} new, ${rewritten} rewritten, ${removed} removed file(s) in ${Math.round(performance.now() - started)} ms`);
      }
      return { changed, added, removed, rewritten, elapsedMs: performance.now() - started };
    });
  }

  private async ensureJsonAggregates(): Promise<void> {
    if (this.jsonAggregatesWanted) return;
    await this.exclusive(async () => {
      this.jsonAggregatesWanted = true;
      const pending = [...this.files.values()].filter((f) => f.source === 'agg_json' && !f.loaded);
      if (pending.length > 0) await this.loadFiles('agg_json', pending);
      this.countCache.clear();
    });
  }

  private async loadFiles(key: SourceKey, files: TrackedFile[]): Promise<void> {
    const nonEmpty: TrackedFile[] = [];
    for (const file of files) {
      file.loaded = true;
      if (file.size === 0) file.messages.push(this.message(file, 'info', 'empty file (nothing committed in it yet); skipped.'));
      else nonEmpty.push(file);
    }
    if (nonEmpty.length > 0) {
      if (SOURCES[key].format === 'csv') await this.loadCsv(key, nonEmpty);
      else await this.loadJson(key, nonEmpty);
      const counts = await this.rows(`SELECT _file_id, count(*) FROM ${SOURCES[key].internal} WHERE _file_id IN (${nonEmpty.map((f) => f.id).join(', ')}) GROUP BY 1`);
      const byFile = new Map(counts.map(([id, n]) => [toNumber(id), toNumber(n)]));
      for (const file of nonEmpty) file.rows = byFile.get(file.id) ?? 0;
    }
    await this.rememberFiles(files);
  }

  private message(file: { rel: string; source: SourceKey }, level: FileMessage['level'], message: string): FileMessage {
    return { table: SOURCES[file.source].table, file: file.rel, level, message };
  }

  /** Runs `load` over all files, or file by file when the batch fails, so one broken file costs only itself. */
  private async loadInBatchOrAlone(files: TrackedFile[], load: (batch: TrackedFile[]) => Promise<void>): Promise<void> {
    try {
      await load(files);
      return;
    } catch (error) {
      if (files.length === 1) {
        files[0].messages.push(this.message(files[0], 'error', `could not be read: ${firstLine(error)}`));
        return;
      }
    }
    for (const file of files) {
      try {
        await load([file]);
      } catch (error) {
        file.messages.push(this.message(file, 'error', `could not be read: ${firstLine(error)}`));
      }
    }
  }

  private async loadCsv(key: SourceKey, files: TrackedFile[]): Promise<void> {
    const spec = SOURCES[key];
    const types = SQL_TYPES[spec.table];
    const expected = Object.keys(types);
    const groups = new Map<string, { header: string[]; files: TrackedFile[] }>();
    for (const file of files) {
      let header: string[] | undefined;
      try {
        header = await readCsvHeader(file.path);
      } catch (error) {
        file.messages.push(this.message(file, 'error', `could not be read: ${firstLine(error)}`));
        continue;
      }
      if (!header || header.every((h) => h === '')) {
        file.messages.push(this.message(file, 'info', 'empty file (no header yet); skipped.'));
        continue;
      }
      const lower = header.map((h) => h.toLowerCase());
      const missing = expected.filter((name) => !lower.includes(name));
      const duplicated = lower.filter((name, i) => lower.indexOf(name) !== i);
      if (missing.length > 0 || duplicated.length > 0) {
        const found = header.join(',').slice(0, 200);
        if (header.length === expected.length && /\d{4}-\d{2}-\d{2}/.test(found)) {
          file.messages.push(this.message(file, 'error', `no CSV header line (the first line is data: "${found.slice(0, 80)}"), file skipped: the job must write the header "${expected.join(',')}".`));
          continue;
        }
        file.messages.push(
          this.message(
            file,
            'error',
            `wrong CSV header, file skipped: expected "${expected.join(',')}", found "${found}"` +
              (duplicated.length ? ` (${duplicated[0]} twice).` : missing.length > 3 ? ` (${missing.length} expected columns missing).` : ` (missing ${missing.join(', ')}).`),
          ),
        );
        continue;
      }
      const signature = lower.join(',');
      const group = groups.get(signature) ?? { header: lower, files: [] };
      group.files.push(file);
      groups.set(signature, group);
    }

    for (const { header, files: groupFiles } of groups.values()) {
      // The header decides the column order; extra columns are read as text and not kept.
      const columns = header.map((name) => `${quoteString(name)}: ${quoteString(types[name] ?? 'VARCHAR')}`).join(', ');
      await this.loadInBatchOrAlone(groupFiles, async (batch) => {
        await this.conn.run('DROP TABLE IF EXISTS temp._csv_rejects; DROP TABLE IF EXISTS temp._csv_reject_scans');
        await this.conn.run(
          `INSERT INTO ${spec.internal} SELECT ${expected.map(quoteIdent).join(', ')}, ${fileIdOf(batch)} FROM read_csv(${sqlList(batch.map((f) => f.path))}, ` +
            `header = true, auto_detect = false, delim = ',', quote = '"', escape = '"', columns = {${columns}}, filename = true, ` +
            `ignore_errors = true, store_rejects = true, rejects_table = '_csv_rejects', rejects_scan = '_csv_reject_scans')`,
        );
        const rejects = await this.rows(
          `SELECT s.file_path, count(DISTINCT e.line), min(e.line), arg_min(e.error_message, e.line) FROM temp._csv_rejects e ` +
            `JOIN temp._csv_reject_scans s ON e.scan_id = s.scan_id AND e.file_id = s.file_id GROUP BY 1`,
        );
        const byPath = new Map(batch.map((f) => [f.path, f]));
        for (const [path, lines, firstBad, error] of rejects) {
          const file = byPath.get(String(path));
          if (!file) continue;
          const n = toNumber(lines);
          file.messages.push(this.message(file, 'warning', `${n} bad line${n > 1 ? 's' : ''} skipped (line ${toNumber(firstBad)}: ${String(error).split('\n')[0]}).`));
        }
      });
    }
  }

  private async loadJson(key: SourceKey, files: TrackedFile[]): Promise<void> {
    const spec = SOURCES[key];
    const types = SQL_TYPES[spec.table];
    const names = Object.keys(types);
    const columns = names.map((name) => `${quoteString(name)}: ${quoteString(types[name])}`).join(', ');
    const nullChecks = spec.required.map((name) => `${quoteIdent(name)} IS NULL`);
    const bad = spec.requireAny ? `(${nullChecks.join(' AND ')})` : `(${nullChecks.join(' OR ')})`;
    await this.loadInBatchOrAlone(files, async (batch) => {
      await this.conn.run(
        `CREATE OR REPLACE TEMP TABLE _json_stage AS SELECT ${names.map(quoteIdent).join(', ')}, filename AS _file FROM read_json(${sqlList(batch.map((f) => f.path))}, ` +
          `format = 'newline_delimited', columns = {${columns}}, filename = true, ignore_errors = true)`,
      );
      try {
        const counts = await this.rows(`SELECT _file, count(*) FROM temp._json_stage WHERE ${bad} GROUP BY 1`);
        await this.conn.run(`INSERT INTO ${spec.internal} SELECT ${names.map(quoteIdent).join(', ')}, ${fileIdOf(batch, '_file')} FROM temp._json_stage WHERE NOT ${bad}`);
        const byPath = new Map(batch.map((f) => [f.path, f]));
        for (const [path, count] of counts) {
          const file = byPath.get(String(path));
          if (!file) continue;
          const n = toNumber(count);
          let where = '';
          if (file.size <= 4 * 1024 * 1024) {
            const lines = await findBadJsonLines(file.path, spec, 3).catch(() => []);
            if (lines.length > 0) where = ` (line${lines.length > 1 ? 's' : ''} ${lines.join(', ')}${n > lines.length ? ', …' : ''})`;
          }
          const fields = spec.requireAny ? 'any of ' + spec.required.join(', ') : spec.required.join(', ');
          file.messages.push(this.message(file, 'warning', `${n} line${n > 1 ? 's' : ''} skipped${where}: not a JSON object with ${fields}.`));
        }
      } finally {
        await this.conn.run('DROP TABLE IF EXISTS temp._json_stage');
      }
    });
  }

  // ---- summary ----

  summary(): Promise<ResultsSummary> {
    return this.exclusive(async () => {
      if (this.summaryCache?.version === this.version) return this.summaryCache.summary;
      const [[rows, events, from, to, sensorCount, alerts, deadLetters]] = await this.rows(
        `SELECT count(*), coalesce(sum(event_count), 0), strftime(min(window_start), '%Y-%m-%dT%H:%M:%S.%gZ'), ` +
          `strftime(max(window_end), '%Y-%m-%dT%H:%M:%S.%gZ'), count(DISTINCT sensor_id), ` +
          `(SELECT count(*) FROM ${SOURCES.alerts.internal}), (SELECT count(*) FROM ${SOURCES.dead_letter.internal}) FROM ${this.baseTable('aggregates')}`,
      );
      const sensors = (await this.rows(`SELECT sensor_id FROM ${this.baseTable('aggregates')} WHERE sensor_id IS NOT NULL GROUP BY 1 ORDER BY 1 LIMIT 1000`)).map((r) => String(r[0]));

      const tracked = [...this.files.values()];
      const tables = {} as Record<ResultTable, TableSummary>;
      for (const table of RESULT_TABLES) {
        const folder = TABLE_FOLDERS[table];
        const tableFiles = tracked.filter((f) => SOURCES[f.source].table === table);
        const state: TableSummary['state'] = !this.scan.folders[table] ? 'missing' : tableFiles.length === 0 ? 'empty' : 'ok';
        const note =
          state === 'missing'
            ? `No ${folder}/ folder in the output folder yet.`
            : state === 'empty'
              ? `${folder}/ has no committed ${table === 'aggregates' ? '.csv or .jsonl' : '.jsonl'} files yet.`
              : undefined;
        const count = table === 'aggregates' ? toNumber(rows) : table === 'alerts' ? toNumber(alerts) : toNumber(deadLetters);
        tables[table] = { table, state, files: tableFiles.length, rows: count, note };
      }
      tables.aggregates.source = this.aggregatesSource;
      if (this.aggregatesSource === 'json') tables.aggregates.note = 'No CSV files: read from the JSON-lines files.';

      const messages: FileMessage[] = [];
      if (!this.scan.exists) {
        messages.push({ table: 'aggregates', file: '', level: 'info', message: `The output folder ${this.outputFolder} does not exist yet; the Flink job creates it when it commits its first files.` });
      } else {
        for (const table of RESULT_TABLES) {
          const note = tables[table].note;
          if (note && tables[table].state !== 'ok') messages.push({ table, file: '', level: 'info', message: note });
        }
      }
      messages.push(...this.scan.notes, ...tracked.flatMap((f) => f.messages));
      // Errors first, then warnings, then notes; by file within a level (sort is stable).
      messages.sort((a, b) => levelRank(a.level) - levelRank(b.level) || a.file.localeCompare(b.file));

      const newest = tracked.reduce<TrackedFile | undefined>((best, f) => (!best || f.mtimeMs > best.mtimeMs ? f : best), undefined);
      const summary: ResultsSummary = {
        outputFolder: this.outputFolder,
        outputExists: this.scan.exists,
        dataVersion: this.version,
        files: tracked.length,
        aggregateRows: toNumber(rows),
        eventCount: toNumber(events),
        timeRange: from && to ? { from: String(from), to: String(to) } : null,
        sensorCount: toNumber(sensorCount),
        sensors,
        lastCommittedFile: newest ? { file: newest.rel, time: new Date(newest.mtimeMs).toISOString() } : null,
        alertRows: toNumber(alerts),
        deadLetterRows: toNumber(deadLetters),
        tables,
        messages: messages.slice(0, MAX_LISTED_MESSAGES),
        moreMessages: Math.max(0, messages.length - MAX_LISTED_MESSAGES),
      };
      this.summaryCache = { version: this.version, summary };
      return summary;
    });
  }

  // ---- table pages ----

  private whereClause(table: ResultTable, filter: RowFilter | undefined): string {
    const parts: string[] = [];
    const spec = FILTER_COLUMNS[table];
    if (!filter) return 'TRUE';
    if (filter.sensors && filter.sensors.length > 0 && spec.sensor) {
      parts.push(`${quoteIdent(spec.sensor)} IN (SELECT unnest(${sqlList(filter.sensors)}))`);
    }
    if (spec.time) {
      const from = parseTime(filter.from, 'From');
      const to = parseTime(filter.to, 'To');
      const column = quoteIdent(spec.time.column);
      const bound = (ms: number) => (spec.time?.epochMs ? String(ms) : `epoch_ms(${ms})`);
      if (from !== undefined) parts.push(`${column} >= ${bound(from)}`);
      if (to !== undefined) parts.push(`${column} < ${bound(to)}`);
    }
    if (filter.search && filter.search.trim() !== '') {
      const needle = quoteString(filter.search.trim().toLowerCase());
      parts.push(`(${spec.text.map((c) => `contains(lower(${quoteIdent(c)}), ${needle})`).join(' OR ')})`);
    }
    return parts.length > 0 ? parts.join(' AND ') : 'TRUE';
  }

  private sortOf(table: ResultTable, sort: SortSpec | undefined): SortSpec {
    if (!sort) return DEFAULT_SORT[table];
    if (!TABLE_COLUMNS[table].some((c) => c.name === sort.column)) throw new ResultsError(`The ${table} table has no column "${sort.column}".`);
    return sort;
  }

  private async filteredCount(table: ResultTable, base: string, where: string): Promise<number> {
    const key = `${base}|${where}`;
    const cached = this.countCache.get(key);
    if (cached !== undefined) return cached;
    const [[n]] = await this.rows(`SELECT count(*) FROM ${base} WHERE ${where}`);
    const count = toNumber(n);
    this.countCache.set(key, count);
    void table;
    return count;
  }

  /**
   * One page of a table, sorted and filtered. The sort runs over (sort column, rowid) only and the page's full
   * rows are fetched afterwards; a page past the middle is read from the other end with the order reversed, so
   * the sort keeps at most half the rows.
   */
  page(request: PageRequest): Promise<PageResult> {
    return this.exclusive(() => cachedAnswer(this.pageCache, `${this.version}|${pageRequestKey(request)}`, () => this.computePage(request)));
  }

  /**
   * Computes what the view will ask for first, while its webview is still loading: the summary, then the given
   * page and chart. Their answers then also come from the caches.
   */
  async prefetch(requests: { page?: PageRequest; chart?: ChartRequest }): Promise<{ summary: ResultsSummary; page?: PageResult; chart?: ChartResult }> {
    const summary = await this.summary();
    const page = requests.page ? await this.page(requests.page) : undefined;
    const chart = requests.chart ? await this.chart(requests.chart) : undefined;
    return { summary, page, chart };
  }

  private async computePage(request: PageRequest): Promise<PageResult> {
    const started = performance.now();
    const { table } = request;
    const sort = this.sortOf(table, request.sort);
    const base = this.baseTable(table);
    const where = this.whereClause(table, request.filter);
    const limit = Math.max(1, Math.min(request.limit, 500));
    const total = await this.filteredCount(table, base, where);
    let offset = Math.max(0, request.offset);
    if (offset >= total) offset = total === 0 ? 0 : Math.floor((total - 1) / limit) * limit;
    const columns = TABLE_COLUMNS[table].map((c) => ({ ...c }));
    const select = columns.map((c) => quoteIdent(c.name)).join(', ');
    let rows: CellValue[][] = [];
    if (total > 0) {
      const count = Math.min(limit, total - offset);
      const keyedFrom = this.options.keyedPagingFrom ?? DEFAULT_KEYED_PAGING_FROM;
      const text = columns.find((c) => c.name === sort.column)?.kind === 'text';
      const deep = Math.min(offset, total - offset - count) >= keyedFrom;
      const raw = (text && deep ? await this.keyedRows(base, where, sort, offset, count, total, select) : undefined) ?? (await this.sortedRows(base, where, sort, offset, count, total, select));
      rows = raw.map((r) => r.map(toCell));
    }
    return { table, columns, rows, offset, total, sort, elapsedMs: performance.now() - started };
  }

  /** The rows of a page by one sort over (sort column, rowid), from the nearer end of the table. */
  private async sortedRows(base: string, where: string, sort: SortSpec, offset: number, count: number, total: number, select: string): Promise<unknown[][]> {
    const reverse = offset > total - offset - count;
    const dir = sort.direction === 'asc' ? 'ASC' : 'DESC';
    const flip = sort.direction === 'asc' ? 'DESC' : 'ASC';
    const order = reverse ? `${quoteIdent(sort.column)} ${flip} NULLS FIRST, rowid DESC` : `${quoteIdent(sort.column)} ${dir} NULLS LAST, rowid ASC`;
    const skip = reverse ? total - offset - count : offset;
    const raw = await this.rows(
      `SELECT ${select} FROM ${base} WHERE rowid IN (SELECT rowid FROM ${base} WHERE ${where} ORDER BY ${order} LIMIT ${count} OFFSET ${skip}) ORDER BY ${order}`,
    );
    if (reverse) raw.reverse();
    return raw;
  }

  /**
   * The rows of a page deep inside a text-sorted table, without sorting every row: the column's distinct values
   * and their counts (one GROUP BY, kept for the data version) say which values the page covers and where in
   * them it starts, and each value's rows are read in rowid order — the same order as the full sort. Undefined
   * when the column has too many distinct values or the page spans too many of them; the caller sorts instead.
   */
  private async keyedRows(base: string, where: string, sort: SortSpec, offset: number, count: number, total: number, select: string): Promise<unknown[][] | undefined> {
    const column = quoteIdent(sort.column);
    const dir = sort.direction === 'asc' ? 'ASC' : 'DESC';
    const cacheKey = `${base}|${where}|${column}|${dir}`;
    let groups = this.keyCache.get(cacheKey);
    if (groups === undefined) {
      const rows = await this.rows(`SELECT ${column}, count(*) FROM ${base} WHERE ${where} GROUP BY 1 ORDER BY 1 ${dir} NULLS LAST LIMIT ${MAX_KEY_GROUPS + 1}`);
      groups = rows.length > MAX_KEY_GROUPS ? null : rows.map(([value, n]) => ({ value: value === null ? null : String(value), count: toNumber(n) }));
      if (groups && groups.reduce((sum, g) => sum + g.count, 0) !== total) groups = null;
      if (this.keyCache.size >= 16) this.keyCache.clear();
      this.keyCache.set(cacheKey, groups);
    }
    if (!groups) return undefined;
    // Which rows of which values: [group, first row in it, rows].
    const segments: [KeyGroup, number, number][] = [];
    let start = 0;
    for (const group of groups) {
      const end = start + group.count;
      if (end > offset) {
        const from = Math.max(offset, start) - start;
        const to = Math.min(offset + count, end) - start;
        segments.push([group, from, to - from]);
        if (segments.length > MAX_KEY_SEGMENTS) return undefined;
      }
      if (end >= offset + count) break;
      start = end;
    }
    const rows: unknown[][] = [];
    for (const [group, from, n] of segments) {
      const match = group.value === null ? `${column} IS NULL` : `${column} = ${quoteString(group.value)}`;
      // Past the middle of the value's rows, read them from the end.
      const reverse = from > group.count - from - n;
      const part = await this.rows(
        `SELECT ${select} FROM ${base} WHERE (${where}) AND ${match} ORDER BY rowid ${reverse ? 'DESC' : 'ASC'} LIMIT ${n} OFFSET ${reverse ? group.count - from - n : from}`,
      );
      if (reverse) part.reverse();
      rows.push(...part);
    }
    return rows;
  }

  // ---- charts ----

  /**
   * Mean temperature per window and sensor, and events per window, aggregated in DuckDB: windows are merged into
   * buckets so that a line has at most `maxPoints` points, whatever the number of rows.
   */
  chart(request: ChartRequest = {}): Promise<ChartResult> {
    return this.exclusive(() => cachedAnswer(this.chartCache, `${this.version}|${chartRequestKey(request)}`, () => this.computeChart(request)));
  }

  private async computeChart(request: ChartRequest): Promise<ChartResult> {
    const started = performance.now();
    const maxPoints = Math.max(10, Math.min(request.maxPoints ?? 300, 5000));
    const maxSensors = Math.max(1, Math.min(request.maxSensors ?? 12, 50));
    const base = this.baseTable('aggregates');
    const allWhere = this.whereClause('aggregates', request.filter);
    // Without a filter the summary of this data version already knows the sensors.
    const known = allWhere === 'TRUE' && this.summaryCache?.version === this.version ? this.summaryCache.summary : undefined;
    const [[lo, hi, windowMs, rowCount, distinctSensors]] = await this.rows(
      `SELECT epoch_ms(min(window_start)), epoch_ms(max(window_start)), ` +
        `min(epoch_ms(window_end) - epoch_ms(window_start)) FILTER (WHERE window_end > window_start), count(*), ` +
        `${known ? 'NULL' : 'count(DISTINCT sensor_id)'} FROM ${base} WHERE ${allWhere}`,
    );
    const sensorTotal = known ? known.sensorCount : toNumber(distinctSensors);
    const empty: ChartResult = { windowMs: 0, bucketMs: 0, from: null, to: null, series: [], totalSensors: 0, events: [], elapsedMs: 0 };
    if (lo === null || lo === undefined) return { ...empty, elapsedMs: performance.now() - started };
    let from = toNumber(lo);
    const to = toNumber(hi);
    const window = Math.max(1, toNumber(windowMs) || 1000);
    // A long pause (an earlier run, an old test row) would squeeze the latest windows into a few points: without
    // a From filter, chart what follows the last pause longer than a fifth of the span, and say so.
    let earlierFrom: number | undefined;
    let where = allWhere;
    // Only worth a look when there are fewer rows per sensor than windows in the span (the data has holes).
    const sparse = toNumber(rowCount) / Math.max(1, sensorTotal) < 0.8 * ((to - from) / window + 1);
    if (!request.filter?.from && to - from > window * maxPoints && sparse) {
      const gap = await this.rows(
        `SELECT ws FROM (SELECT ws, ws - lag(ws) OVER (ORDER BY ws) AS gap FROM (SELECT DISTINCT epoch_ms(window_start) AS ws FROM ${base} WHERE ${allWhere})) ` +
          `WHERE gap > ${Math.floor((to - from) / 5)} ORDER BY ws DESC LIMIT 1`,
      );
      if (gap.length > 0) {
        earlierFrom = from;
        from = toNumber(gap[0][0]);
        where = `${allWhere} AND window_start >= epoch_ms(${from})`;
      }
    }
    const windowsInRange = Math.floor((to - from) / window) + 1;
    const bucketMs = window * Math.max(1, Math.ceil(windowsInRange / maxPoints));
    const bucket = `((epoch_ms(window_start) - ${from}) // ${bucketMs})`;

    let sensors: string[];
    if (request.filter?.sensors && request.filter.sensors.length > 0) sensors = [...request.filter.sensors].sort().slice(0, maxSensors);
    else if (known && earlierFrom === undefined) sensors = known.sensors.slice(0, maxSensors);
    else sensors = (await this.rows(`SELECT sensor_id FROM ${base} WHERE ${where} AND sensor_id IS NOT NULL GROUP BY 1 ORDER BY 1 LIMIT ${maxSensors}`)).map((r) => String(r[0]));

    const series = new Map<string, TemperaturePoint[]>(sensors.map((s) => [s, []]));
    if (sensors.length > 0) {
      const points = await this.rows(
        `SELECT sensor_id, ${bucket} AS k, coalesce(sum(avg_temperature * event_count) / nullif(sum(event_count), 0), avg(avg_temperature)), ` +
          `coalesce(sum(anomaly_count), 0), max(max_temperature) FROM ${base} WHERE ${where} AND sensor_id IN (SELECT unnest(${sqlList(sensors)})) ` +
          `GROUP BY ALL ORDER BY sensor_id, k`,
      );
      for (const [sensor, k, mean, anomalies, max] of points) {
        series.get(String(sensor))?.push([from + toNumber(k) * bucketMs, mean === null ? null : toNumber(mean), toNumber(anomalies), max === null ? null : toNumber(max)]);
      }
    }
    const events = (
      await this.rows(
        `SELECT ${bucket} AS k, sum(event_count) / count(DISTINCT window_start), coalesce(sum(anomaly_count), 0) FROM ${base} WHERE ${where} GROUP BY ALL ORDER BY k`,
      )
    ).map(([k, perWindow, anomalies]): EventsPoint => [from + toNumber(k) * bucketMs, toNumber(perWindow), toNumber(anomalies)]);
    return {
      windowMs: window,
      bucketMs,
      from,
      to: to + window,
      series: sensors.map((sensor) => ({ sensor, points: series.get(sensor) ?? [] })),
      totalSensors: sensorTotal,
      earlierFrom,
      events,
      elapsedMs: performance.now() - started,
    };
  }

  // ---- SQL ----

  private guard(sql: string): string {
    const checked = checkReadOnlySql(sql, { allowedRoot: this.outputFolder });
    if (!checked.ok) throw new QueryRefusedError(checked.reason);
    return checked.sql;
  }

  private userExclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.userLock.then(() => {
      if (this.closed) throw new ResultsError('The results store is closed.');
      return work();
    });
    this.userLock = run.catch(() => undefined);
    return run;
  }

  /** Runs `work` on the query connection, interrupting it after the timeout. */
  private async withQueryTimeout<T>(work: () => Promise<T>, timeoutMs = this.queryTimeoutMs): Promise<T> {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      this.userConn.interrupt();
    }, timeoutMs);
    try {
      return await work();
    } catch (error) {
      if (timedOut) throw new ResultsError(`The query ran longer than ${Math.round(timeoutMs / 1000)} s and was stopped.`);
      throw new ResultsError(firstLines(error));
    } finally {
      clearTimeout(timer);
    }
  }

  private async prepareQuery(sql: string): Promise<string> {
    const statement = this.guard(sql);
    if (/\b_?aggregates_json\b|\b_agg_json\b/i.test(statement)) await this.ensureJsonAggregates();
    // DuckDB's own parser must agree that this is exactly one statement.
    const extracted = await this.userConn.extractStatements(statement).catch((error: unknown) => {
      throw new ResultsError(firstLines(error));
    });
    if (extracted.count !== 1) throw new QueryRefusedError(`Refused: DuckDB reads ${extracted.count} statements here; run one at a time.`);
    return statement;
  }

  /**
   * A read-only query over the tables (refused with a reason otherwise). Keeps at most the row cap; `offset`,
   * `limit` and `sort` page through the kept rows without running the statement again until the files change.
   */
  query(request: QueryRequest | string): Promise<QueryResult> {
    const req: QueryRequest = typeof request === 'string' ? { sql: request, offset: 0, limit: this.rowCap } : request;
    return this.userExclusive(async () => {
      const started = performance.now();
      let cached = this.queryCache && this.queryCache.sql === req.sql && this.queryCache.version === this.version ? this.queryCache.result : undefined;
      if (!cached) {
        const statement = await this.prepareQuery(req.sql);
        cached = await this.withQueryTimeout(async () => {
          const result = await this.userConn.stream(statement);
          const columns: ColumnInfo[] = result.columnNames().map((name, i) => ({ name, kind: columnKind(result.columnTypeId(i)) }));
          const rows: CellValue[][] = [];
          let truncated = false;
          for await (const batch of result.yieldRowsJs()) {
            for (const row of batch) {
              if (rows.length >= this.rowCap) {
                truncated = true;
                break;
              }
              rows.push((row as unknown[]).map(toCell));
            }
            if (truncated) break;
          }
          return { sql: req.sql, columns, rows, total: rows.length, truncated, rowCap: this.rowCap };
        });
        this.queryCache = { sql: req.sql, version: this.version, result: cached };
      }
      let rows = cached.rows;
      if (req.sort) {
        const index = cached.columns.findIndex((c) => c.name === req.sort?.column);
        if (index < 0) throw new ResultsError(`The query result has no column "${req.sort.column}".`);
        rows = sortRows(rows, index, req.sort.direction);
      }
      const limit = Math.max(1, Math.min(req.limit, this.rowCap));
      const offset = Math.max(0, Math.min(req.offset, Math.max(0, rows.length - 1)));
      return { ...cached, rows: rows.slice(offset, offset + limit), offset, sort: req.sort, elapsedMs: performance.now() - started };
    });
  }

  // ---- export ----

  /**
   * Writes the rows of a table view (filter and sort applied, every matching row) or of a query (every row,
   * not only the capped ones) to `destination` as CSV or as a JSON array. Returns the number of rows written.
   */
  async exportRows(source: ExportSource, format: ExportFormat, destination: string, onProgress?: (rows: number) => void): Promise<{ rows: number; file: string }> {
    return this.userExclusive(async () => {
      let sql: string;
      if (source.kind === 'table') {
        const sort = this.sortOf(source.table, source.sort);
        const where = this.whereClause(source.table, source.filter);
        const select = TABLE_COLUMNS[source.table].map((c) => quoteIdent(c.name)).join(', ');
        sql = `SELECT ${select} FROM ${this.baseTable(source.table)} WHERE ${where} ORDER BY ${quoteIdent(sort.column)} ${sort.direction === 'asc' ? 'ASC' : 'DESC'} NULLS LAST, rowid ASC`;
      } else {
        sql = await this.prepareQuery(source.sql);
        const checked = checkReadOnlySql(source.sql, { allowedRoot: this.outputFolder });
        if (source.sort && checked.ok && checked.kind === 'select') {
          sql = `SELECT * FROM (${sql}) AS q ORDER BY ${quoteIdent(source.sort.column)} ${source.sort.direction === 'asc' ? 'ASC' : 'DESC'} NULLS LAST`;
        }
      }
      return this.withQueryTimeout(async () => {
        const result = await this.userConn.stream(sql);
        const names = result.columnNames();
        const out = createWriteStream(destination, { encoding: 'utf8' });
        const write = (text: string) => new Promise<void>((resolveWrite, reject) => (out.write(text, (error) => (error ? reject(error) : resolveWrite()))));
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
      }, EXPORT_TIMEOUT_MS);
    });
  }

  // ---- verification ----

  /**
   * The exactly-once check over the files: sum(event_count) == expected − dead letters (when `expected` is
   * given), no (sensor_id, window_start) twice, and the CSV and JSON aggregate files holding the same rows.
   */
  async verify(expected?: number): Promise<VerifyReport> {
    await this.ensureJsonAggregates();
    return this.exclusive(async () => {
      const started = performance.now();
      const agg = this.baseTable('aggregates');
      const [[aggregateRows, events, csvRows, jsonRows, alerts, deadLetters]] = await this.rows(
        `SELECT (SELECT count(*) FROM ${agg}), (SELECT coalesce(sum(event_count), 0) FROM ${agg}), (SELECT count(*) FROM _agg_csv), ` +
          `(SELECT count(*) FROM _agg_json), (SELECT count(*) FROM _alerts), (SELECT count(*) FROM _dead_letter)`,
      );
      const duplicates = await this.rows(
        `SELECT sensor_id, strftime(window_start, '%Y-%m-%dT%H:%M:%S.%gZ'), count(*) AS copies, count(*) OVER () FROM ${agg} ` +
          `GROUP BY sensor_id, window_start HAVING count(*) > 1 ORDER BY copies DESC, sensor_id, window_start LIMIT 50`,
      );
      // Multiset difference of the two formats by a hash of the row (doubles rounded: CSV and JSON print them differently).
      const rowHash = `hash(sensor_id, window_start, window_end, event_count, round(avg_temperature, 6), round(min_temperature, 6), round(max_temperature, 6), round(avg_humidity, 6), anomaly_count)`;
      const [[mismatch]] = await this.rows(
        `SELECT coalesce(sum(abs(n)), 0) FROM (SELECT h, sum(side) AS n FROM (SELECT ${rowHash} AS h, 1 AS side FROM _agg_csv UNION ALL SELECT ${rowHash}, -1 FROM _agg_json) GROUP BY h) WHERE n <> 0`,
      );
      const tracked = [...this.files.values()];
      const csvFiles = tracked.filter((f) => f.source === 'agg_csv').length;
      const jsonFiles = tracked.filter((f) => f.source === 'agg_json').length;
      const report: VerifyReport = {
        ok: false,
        outputFolder: this.outputFolder,
        aggregateRows: toNumber(aggregateRows),
        csvRows: toNumber(csvRows),
        jsonRows: toNumber(jsonRows),
        csvFiles,
        jsonFiles,
        eventCountSum: toNumber(events),
        alertRows: toNumber(alerts),
        deadLetterRows: toNumber(deadLetters),
        duplicateWindows: duplicates.map(([sensor, start, copies]) => ({ sensor_id: String(sensor), window_start: String(start), copies: toNumber(copies) })),
        duplicateWindowCount: duplicates.length > 0 ? toNumber(duplicates[0][3]) : 0,
        csvJsonMismatch: toNumber(mismatch),
        expected,
        problems: [],
        warnings: tracked.flatMap((f) => f.messages.filter((m) => m.level !== 'info').map((m) => `${m.file}: ${m.message}`)),
        elapsedMs: 0,
      };
      const p = report.problems;
      if (!this.scan.exists) p.push(`The output folder ${this.outputFolder} does not exist.`);
      if (expected !== undefined) {
        const want = expected - report.deadLetterRows;
        if (report.eventCountSum !== want) {
          const diff = report.eventCountSum - want;
          p.push(
            `sum(event_count) is ${fmt(report.eventCountSum)} but ${fmt(expected)} events − ${fmt(report.deadLetterRows)} dead letters = ${fmt(want)}: ` +
              `${fmt(Math.abs(diff))} event${Math.abs(diff) === 1 ? '' : 's'} ${diff < 0 ? 'missing' : 'counted twice or extra'}.`,
          );
        }
      } else if (report.aggregateRows === 0) {
        p.push('No aggregate rows in the output folder.');
      }
      if (report.duplicateWindowCount > 0) {
        const first = report.duplicateWindows[0];
        p.push(`${fmt(report.duplicateWindowCount)} (sensor_id, window_start) pair${report.duplicateWindowCount > 1 ? 's are' : ' is'} written more than once, e.g. ${first.sensor_id} at ${first.window_start} (${first.copies} copies).`);
      }
      if (csvFiles === 0 && jsonFiles > 0) p.push(`No CSV aggregate files (only ${fmt(jsonFiles)} JSON files): both formats are expected.`);
      else if (jsonFiles === 0 && csvFiles > 0) p.push(`No JSON aggregate files (only ${fmt(csvFiles)} CSV files): both formats are expected.`);
      else if (report.csvJsonMismatch > 0) {
        p.push(`The CSV and JSON aggregate files differ: ${fmt(report.csvJsonMismatch)} row${report.csvJsonMismatch > 1 ? 's are' : ' is'} in one format but not the other (CSV ${fmt(report.csvRows)} rows, JSON ${fmt(report.jsonRows)}).`);
      }
      report.ok = p.length === 0;
      report.elapsedMs = performance.now() - started;
      return report;
    });
  }
}

/** The cached answer for `key` (its elapsedMs 0: it cost nothing now), or a computed one kept with the newest eight. */
async function cachedAnswer<T extends { elapsedMs: number }>(cache: Map<string, T>, key: string, compute: () => Promise<T>): Promise<T> {
  const hit = cache.get(key);
  if (hit) return { ...hit, elapsedMs: 0 };
  const result = await compute();
  cache.set(key, result);
  if (cache.size > 8) cache.delete(cache.keys().next().value as string);
  return result;
}

function levelRank(level: FileMessage['level']): number {
  return level === 'error' ? 0 : level === 'warning' ? 1 : 2;
}

function parseTime(value: string | undefined, label: string): number | undefined {
  try {
    return parseFilterTime(value, label);
  } catch (error) {
    throw new ResultsError(error instanceof Error ? error.message : String(error));
  }
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0];
}

/** DuckDB's message without the echo of the whole statement that some errors append. */
function firstLines(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n').filter((line) => line.trim() !== '').slice(0, 3).join('\n');
}

function fmt(n: number): string {
  return n.toLocaleString('en-US');
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
