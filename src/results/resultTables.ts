// The DuckDB tables and views over one output folder, kept in line with its committed files, file by file.
import type { DuckDBConnection } from '@duckdb/node-api';
import type { ResultTable } from './resultsProtocol';
import { dropStaleCache, forgetFiles, readCacheListing, rememberFiles } from './cacheDb';
import { loadSourceFiles } from './fileLoads';
import { emptyScan, scanOutput, type ScanResult } from './outputScan';
import { SOURCES, SQL_TYPES, type ScannedFile, type SourceKey, type SourceSpec, type TrackedFile } from './sources';
import { quoteIdent } from './sql';

export interface RefreshResult {
  changed: boolean;
  added: number;
  removed: number;
  rewritten: number;
  elapsedMs: number;
}

/**
 * Committed files are loaded once and then kept up to date file by file: `sync()` loads new files and drops the
 * rows of removed or rewritten ones, so a live pipeline costs one small read per committed file instead of a rescan
 * of everything on each query. (A view straight over the globs would re-read and re-parse every CSV on every page,
 * sort and chart: about 0.5 s per query at a million rows.) Each row keeps the id of the file it came from
 * (`_file_id`, a number: a path per row would cost about 60 MB at a million rows), which is how a file's rows are
 * replaced and how bad files are reported.
 *
 * The user-visible tables are views: `aggregates` (from the CSV files, or the JSON files when there is no CSV),
 * `aggregates_csv`, `aggregates_json`, `alerts`, `dead_letter`. JSON aggregate files are only loaded when asked for
 * (verify, or a query naming aggregates_json) while CSV files exist, because they double the load time.
 *
 * Not safe for concurrent use: the store runs every call under its lock.
 */
export class ResultTables {
  private readonly files = new Map<string, TrackedFile>();
  private scan: ScanResult = emptyScan();
  private version = 0;
  private source: 'csv' | 'json' | 'none' = 'none';
  /** Folder existence and ignored-file notes of the last scan: a change there is news for the view too. */
  private layout = '';
  private jsonWanted = false;
  private nextFileId = 1;

  constructor(
    private readonly conn: DuckDBConnection,
    readonly outputFolder: string,
    /** The cache file the tables live in (undefined: in memory). */
    private readonly cacheFile: string | undefined,
    private readonly log: (line: string) => void,
  ) {}

  /** Goes up each time the rows, the aggregates' source or the folder's layout change. */
  get dataVersion(): number {
    return this.version;
  }

  get lastScan(): ScanResult {
    return this.scan;
  }

  /** Which files the `aggregates` view reads. */
  get aggregatesSource(): 'csv' | 'json' | 'none' {
    return this.source;
  }

  get jsonAggregatesWanted(): boolean {
    return this.jsonWanted;
  }

  trackedFiles(): TrackedFile[] {
    return [...this.files.values()];
  }

  /** The internal table behind a user-visible one (page and chart read it directly, for its rowid). */
  baseTable(table: ResultTable): string {
    if (table === 'aggregates') return this.source === 'json' ? SOURCES.agg_json.internal : SOURCES.agg_csv.internal;
    return SOURCES[table].internal;
  }

  /**
   * The tables and views, made anew in memory; in a cache file, kept when they were written for this output folder
   * and this schema (then the file list is read back, and rows of a file whose listing never got written are dropped).
   */
  async create(): Promise<void> {
    const tables = Object.values(SOURCES).map((spec) => {
      const columns = Object.entries(SQL_TYPES[spec.table]).map(([name, type]) => `${quoteIdent(name)} ${type}`);
      return `CREATE TABLE IF NOT EXISTS ${spec.internal} (${columns.join(', ')}, _file_id INTEGER)`;
    });
    if (!this.cacheFile) {
      for (const sql of tables) await this.conn.run(sql);
    } else {
      const started = performance.now();
      await dropStaleCache(this.conn, this.outputFolder, this.cacheFile, this.log);
      for (const sql of tables) await this.conn.run(sql);
      const { files, listed } = await readCacheListing(this.conn);
      for (const file of files) {
        this.files.set(file.path, file);
        this.nextFileId = Math.max(this.nextFileId, file.id + 1);
      }
      if (listed > 0)
        this.log(`results: ${listed} file(s) known from the cache ${this.cacheFile} (${Math.round(performance.now() - started)} ms)`);
    }
    await this.createViews();
  }

  private async createViews(): Promise<void> {
    const cols = (table: ResultTable) => Object.keys(SQL_TYPES[table]).map(quoteIdent).join(', ');
    const aggBase = this.source === 'json' ? SOURCES.agg_json.internal : SOURCES.agg_csv.internal;
    await this.conn.run(`CREATE OR REPLACE VIEW aggregates AS SELECT ${cols('aggregates')} FROM ${aggBase}`);
    await this.conn.run(`CREATE OR REPLACE VIEW aggregates_csv AS SELECT ${cols('aggregates')} FROM ${SOURCES.agg_csv.internal}`);
    await this.conn.run(`CREATE OR REPLACE VIEW aggregates_json AS SELECT ${cols('aggregates')} FROM ${SOURCES.agg_json.internal}`);
    await this.conn.run(`CREATE OR REPLACE VIEW alerts AS SELECT ${cols('alerts')} FROM ${SOURCES.alerts.internal}`);
    await this.conn.run(`CREATE OR REPLACE VIEW dead_letter AS SELECT ${cols('dead_letter')} FROM ${SOURCES.dead_letter.internal}`);
  }

  /**
   * Brings the tables in line with the committed files: loads new files, replaces rewritten ones, drops removed
   * ones. Cheap when nothing changed (one directory walk).
   */
  async sync(): Promise<RefreshResult> {
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

    if (this.cacheFile)
      await forgetFiles(
        this.conn,
        toDrop.filter((f) => f.loaded).map((f) => f.id),
      );
    for (const [key, spec] of Object.entries(SOURCES) as [SourceKey, SourceSpec][]) {
      const ids = toDrop.filter((f) => f.source === key && f.loaded).map((f) => f.id);
      if (ids.length > 0) await this.conn.run(`DELETE FROM ${spec.internal} WHERE _file_id IN (${ids.join(', ')})`);
    }
    for (const file of toDrop) this.files.delete(file.path);
    for (const file of toLoad) this.files.set(file.path, { ...file, id: this.nextFileId++, loaded: false, rows: 0, messages: [] });

    const csvCount = scan.files.filter((f) => f.source === 'agg_csv').length;
    const jsonCount = scan.files.filter((f) => f.source === 'agg_json').length;
    const source = csvCount > 0 ? 'csv' : jsonCount > 0 ? 'json' : 'none';
    const sourceChanged = source !== this.source;
    this.source = source;

    for (const key of Object.keys(SOURCES) as SourceKey[]) {
      if (key === 'agg_json' && source !== 'json' && !this.jsonWanted) continue;
      const pending = [...this.files.values()].filter((f) => f.source === key && !f.loaded);
      if (pending.length > 0) await this.loadFiles(key, pending);
    }
    if (sourceChanged) await this.createViews();

    const layout = JSON.stringify([scan.exists, scan.folders, scan.notes]);
    const changed = toLoad.length > 0 || toDrop.length > 0 || sourceChanged || layout !== this.layout;
    this.layout = layout;
    if (changed) {
      this.version++;
      this.log(
        `results: ${added} new, ${rewritten} rewritten, ${removed} removed file(s) in ${Math.round(performance.now() - started)} ms`,
      );
    }
    return { changed, added, removed, rewritten, elapsedMs: performance.now() - started };
  }

  /** Loads the JSON aggregate files too from now on (verify and queries naming aggregates_json read them). */
  async loadJsonAggregates(): Promise<void> {
    this.jsonWanted = true;
    const pending = [...this.files.values()].filter((f) => f.source === 'agg_json' && !f.loaded);
    if (pending.length > 0) await this.loadFiles('agg_json', pending);
  }

  private async loadFiles(key: SourceKey, files: TrackedFile[]): Promise<void> {
    await loadSourceFiles(this.conn, key, files);
    if (this.cacheFile) await rememberFiles(this.conn, files);
  }
}
