// The results store: one output folder as DuckDB tables, answering the view's and the CLI's questions under one lock.
import { resolve } from 'node:path';
import {
  chartRequestKey,
  pageRequestKey,
  type ChartRequest,
  type ChartResult,
  type ExportFormat,
  type ExportSource,
  type PageRequest,
  type PageResult,
  type QueryRequest,
  type QueryResult,
  type ResultsSummary,
} from './resultsProtocol';
import { cacheFileFor, closeDatabase, openDatabase, type ResultsDatabase } from './cacheDb';
import { readChart } from './chartQuery';
import { ResultsError } from './errors';
import { DEFAULT_KEYED_PAGING_FROM, readPage, tableExportSql, type KeyGroup, type PageContext } from './queries';
import { ResultTables, type RefreshResult } from './resultTables';
import { readRows, type RunSql } from './sql';
import { readSummary } from './summary';
import {
  DEFAULT_QUERY_TIMEOUT_MS,
  DEFAULT_ROW_CAP,
  pageOfQuery,
  queryExportSql,
  runCappedQuery,
  writeRows,
  type CappedResult,
  type UserSqlContext,
} from './userSql';
import { verifyOutput, type VerifyReport } from './verify';

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

/** The cached answer for `key` (its elapsedMs 0: it cost nothing now), or a computed one kept with the newest eight. */
async function cachedAnswer<T extends { elapsedMs: number }>(cache: Map<string, T>, key: string, compute: () => Promise<T>): Promise<T> {
  const hit = cache.get(key);
  if (hit) return { ...hit, elapsedMs: 0 };
  const result = await compute();
  cache.set(key, result);
  if (cache.size > 8) cache.delete(cache.keys().next().value as string);
  return result;
}

/**
 * The pipeline's output files (aggregates/, alerts/, dead-letter/) as DuckDB tables (resultTables.ts), for the
 * results view and the `pipeline verify` / `pipeline query` commands. The store's own work (refresh, summary, pages,
 * charts, verify) runs one call at a time on one connection; the user's SQL and exports on a second one.
 */
export class ResultsStore {
  /** The store's own work and the user's SQL each run one call at a time, on their own connection. */
  private readonly lanes: Record<'store' | 'user', Promise<unknown>> = { store: Promise.resolve(), user: Promise.resolve() };
  private summaryCache?: { version: number; summary: ResultsSummary };
  private countCache = new Map<string, number>();
  /** Distinct values of a text sort column with their row counts, in sort order (null: too many to use). */
  private keyCache = new Map<string, KeyGroup[] | null>();
  /** The last few charts of this data version (the same chart is asked for again after a hide/show). */
  private chartCache = new Map<string, ChartResult>();
  /** The last few pages of this data version: the view's first page is often asked for ahead (`prefetch`). */
  private pageCache = new Map<string, PageResult>();
  private queryCache?: { sql: string; version: number; result: CappedResult };
  private closed = false;
  private readonly rowCap: number;
  private readonly queryTimeoutMs: number;
  private readonly run: RunSql;
  private readonly userSql: UserSqlContext;

  private constructor(
    readonly outputFolder: string,
    private readonly db: ResultsDatabase,
    private readonly tables: ResultTables,
    private readonly options: ResultsStoreOptions,
  ) {
    this.rowCap = options.rowCap ?? DEFAULT_ROW_CAP;
    this.queryTimeoutMs = options.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS;
    this.run = (sql) => readRows(db.conn, sql);
    this.userSql = { conn: db.userConn, outputFolder, ensureJsonAggregates: () => this.ensureJsonAggregates() };
  }

  /** The cache file of `outputFolder` in `cacheDir` (the extension's workspace storage): one per output folder. */
  static cacheFileFor(cacheDir: string, outputFolder: string): string {
    return cacheFileFor(cacheDir, outputFolder);
  }

  /**
   * Opens a DuckDB that can read only `outputFolder` and loads what is committed there: in memory, or through
   * `options.cacheFile`, where the rows of an earlier session are reused for every file that has not changed.
   */
  static async open(outputFolder: string, options: ResultsStoreOptions = {}): Promise<ResultsStore> {
    const root = resolve(outputFolder);
    const log = options.log ?? (() => undefined);
    const db = await openDatabase(root, { cacheFile: options.cacheFile, cacheOnly: options.cacheOnly, log });
    let store: ResultsStore | undefined;
    try {
      const tables = new ResultTables(db.conn, root, db.cacheFile, log);
      store = new ResultsStore(root, db, tables, options);
      await tables.create();
      await store.refresh();
      return store;
    } catch (error) {
      if (store) store.close();
      else closeDatabase(db);
      throw error;
    }
  }

  get dataVersion(): number {
    return this.tables.dataVersion;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeDatabase(this.db);
  }

  /** Runs `work` after what is queued in `lane`; refused once the store is closed. */
  private inLane<T>(lane: 'store' | 'user', work: () => Promise<T>): Promise<T> {
    const run = this.lanes[lane].then(() => {
      if (this.closed) throw new ResultsError('The results store is closed.');
      return work();
    });
    this.lanes[lane] = run.catch(() => undefined);
    return run;
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    return this.inLane('store', work);
  }

  private userExclusive<T>(work: () => Promise<T>): Promise<T> {
    return this.inLane('user', work);
  }

  /**
   * Brings the tables in line with the committed files: loads new files, replaces rewritten ones, drops removed
   * ones. Cheap when nothing changed (one directory walk), so it is safe to call on every watcher event.
   */
  refresh(): Promise<RefreshResult> {
    return this.exclusive(async () => {
      const result = await this.tables.sync();
      if (result.changed) {
        this.countCache.clear();
        this.keyCache.clear();
        this.chartCache.clear();
        this.pageCache.clear();
      }
      return result;
    });
  }

  private async ensureJsonAggregates(): Promise<void> {
    if (this.tables.jsonAggregatesWanted) return;
    await this.exclusive(async () => {
      await this.tables.loadJsonAggregates();
      this.countCache.clear();
    });
  }

  summary(): Promise<ResultsSummary> {
    return this.exclusive(async () => {
      const version = this.tables.dataVersion;
      if (this.summaryCache?.version === version) return this.summaryCache.summary;
      const summary = await readSummary(this.run, {
        outputFolder: this.outputFolder,
        dataVersion: version,
        scan: this.tables.lastScan,
        tracked: this.tables.trackedFiles(),
        aggregatesSource: this.tables.aggregatesSource,
        aggregatesBase: this.tables.baseTable('aggregates'),
      });
      this.summaryCache = { version, summary };
      return summary;
    });
  }

  /**
   * One page of a table, sorted and filtered (queries.ts says how it is read), kept with the last few pages of
   * this data version.
   */
  page(request: PageRequest): Promise<PageResult> {
    const context: PageContext = {
      run: this.run,
      countCache: this.countCache,
      keyCache: this.keyCache,
      keyedPagingFrom: this.options.keyedPagingFrom ?? DEFAULT_KEYED_PAGING_FROM,
    };
    return this.exclusive(() =>
      cachedAnswer(this.pageCache, `${this.tables.dataVersion}|${pageRequestKey(request)}`, () =>
        readPage(context, request, this.tables.baseTable(request.table)),
      ),
    );
  }

  /**
   * Computes what the view will ask for first, while its webview is still loading: the summary, then the given
   * page and chart. Their answers then also come from the caches.
   */
  async prefetch(requests: {
    page?: PageRequest;
    chart?: ChartRequest;
  }): Promise<{ summary: ResultsSummary; page?: PageResult; chart?: ChartResult }> {
    const summary = await this.summary();
    const page = requests.page ? await this.page(requests.page) : undefined;
    const chart = requests.chart ? await this.chart(requests.chart) : undefined;
    return { summary, page, chart };
  }

  /**
   * Mean temperature per window and sensor, and events per window, aggregated in DuckDB: windows are merged into
   * buckets so that a line has at most `maxPoints` points, whatever the number of rows.
   */
  chart(request: ChartRequest = {}): Promise<ChartResult> {
    return this.exclusive(() =>
      cachedAnswer(this.chartCache, `${this.tables.dataVersion}|${chartRequestKey(request)}`, () => {
        const summary = this.summaryCache?.version === this.tables.dataVersion ? this.summaryCache.summary : undefined;
        return readChart(this.run, request, this.tables.baseTable('aggregates'), summary);
      }),
    );
  }

  /**
   * A read-only query over the tables (refused with a reason otherwise). Keeps at most the row cap; `offset`,
   * `limit` and `sort` page through the kept rows without running the statement again until the files change.
   */
  query(request: QueryRequest | string): Promise<QueryResult> {
    const req: QueryRequest = typeof request === 'string' ? { sql: request, offset: 0, limit: this.rowCap } : request;
    return this.userExclusive(async () => {
      const started = performance.now();
      let cached =
        this.queryCache && this.queryCache.sql === req.sql && this.queryCache.version === this.tables.dataVersion
          ? this.queryCache.result
          : undefined;
      if (!cached) {
        cached = await runCappedQuery(this.userSql, req.sql, this.rowCap, this.queryTimeoutMs);
        this.queryCache = { sql: req.sql, version: this.tables.dataVersion, result: cached };
      }
      return pageOfQuery(cached, req, this.rowCap, started);
    });
  }

  /**
   * Writes the rows of a table view (filter and sort applied, every matching row) or of a query (every row,
   * not only the capped ones) to `destination` as CSV or as a JSON array. Returns the number of rows written.
   */
  async exportRows(
    source: ExportSource,
    format: ExportFormat,
    destination: string,
    onProgress?: (rows: number) => void,
  ): Promise<{ rows: number; file: string }> {
    return this.userExclusive(async () => {
      const sql =
        source.kind === 'table'
          ? tableExportSql(source.table, this.tables.baseTable(source.table), source.filter, source.sort)
          : await queryExportSql(this.userSql, source.sql, source.sort);
      return writeRows(this.db.userConn, sql, format, destination, onProgress);
    });
  }

  /**
   * The exactly-once check over the files: sum(event_count) == expected − dead letters (when `expected` is
   * given), no (sensor_id, window_start) twice, and the CSV and JSON aggregate files holding the same rows.
   */
  async verify(expected?: number): Promise<VerifyReport> {
    await this.ensureJsonAggregates();
    return this.exclusive(() =>
      verifyOutput(
        this.run,
        {
          outputFolder: this.outputFolder,
          outputExists: this.tables.lastScan.exists,
          tracked: this.tables.trackedFiles(),
          aggregatesBase: this.tables.baseTable('aggregates'),
        },
        expected,
      ),
    );
  }
}
