// The DuckDB database of a store: in memory, or a cache file kept between sessions (locked, versioned, listed, pruned).
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';
import type { FileMessage } from './resultsProtocol';
import { CacheUnavailableError, firstLine } from './errors';
import { SOURCES, SQL_TYPES, type SourceKey, type TrackedFile } from './sources';
import { quoteString, readRows, sqlList, toNumber } from './sql';

/** What the cache's tables hold: a change here (a column, a type) makes every existing cache be rebuilt. */
const CACHE_SCHEMA = JSON.stringify({
  version: 1,
  types: SQL_TYPES,
  sources: Object.fromEntries(Object.entries(SOURCES).map(([k, v]) => [k, v.internal])),
});
/** Cache files of output folders not opened for this long are deleted when another one is opened. */
const CACHE_MAX_AGE_MS = 30 * 24 * 3600_000;
/** Cache files open in this process: DuckDB's file lock is per process, so two instances here could both write. */
const cachesInUse = new Set<string>();

type DuckDBConfig = Record<string, string>;

/** The cache file of `outputFolder` in `cacheDir` (the extension's workspace storage): one per output folder. */
export function cacheFileFor(cacheDir: string, outputFolder: string): string {
  return join(cacheDir, `results-${createHash('sha256').update(resolve(outputFolder)).digest('hex').slice(0, 16)}.duckdb`);
}

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

/** An open database: the store's connection, the user's query connection, and what to clean up on close. */
export interface ResultsDatabase {
  instance: DuckDBInstance;
  conn: DuckDBConnection;
  userConn: DuckDBConnection;
  /** DuckDB's own spill folder (only used beyond the memory limit), removed on close. */
  spillDir: string;
  /** The cache file this database writes through (undefined: the rows live in memory only). */
  cacheFile?: string;
}

/**
 * A DuckDB that can read only `root`: through `cacheFile` when it can be used (else in memory, or
 * `CacheUnavailableError` when `cacheOnly`), its configuration locked.
 */
export async function openDatabase(
  root: string,
  options: { cacheFile?: string; cacheOnly?: boolean; log: (line: string) => void },
): Promise<ResultsDatabase> {
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
  const cached = cacheFile ? await openCacheInstance(cacheFile, config, options.log) : undefined;
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
  try {
    const conn = await instance.connect();
    // The second lock after the SQL check: nothing outside the output folder, no settings changes afterwards.
    await conn.run(`SET allowed_directories = ${sqlList([root.endsWith(sep) ? root : root + sep])}`);
    await conn.run('SET enable_external_access = false');
    await conn.run('SET lock_configuration = true');
    return { instance, conn, userConn: await instance.connect(), spillDir: spill, cacheFile: usedCache };
  } catch (error) {
    if (usedCache) cachesInUse.delete(usedCache);
    instance.closeSync();
    rmSync(spill, { recursive: true, force: true });
    throw error;
  }
}

export function closeDatabase(db: ResultsDatabase): void {
  try {
    db.userConn.closeSync();
    db.conn.closeSync();
    db.instance.closeSync();
  } catch {
    // already closed
  }
  if (db.cacheFile) cachesInUse.delete(db.cacheFile);
  rmSync(db.spillDir, { recursive: true, force: true });
}

/**
 * Before the tables are made in a cache file: keeps them when they were written for this output folder and this
 * schema, else drops them and writes down the new folder and schema.
 */
export async function dropStaleCache(
  conn: DuckDBConnection,
  outputFolder: string,
  cacheFile: string,
  log: (line: string) => void,
): Promise<void> {
  await conn.run('CREATE TABLE IF NOT EXISTS _cache_meta (key VARCHAR PRIMARY KEY, value VARCHAR)');
  const meta = new Map((await readRows(conn, 'SELECT key, value FROM _cache_meta')).map(([k, v]) => [String(k), String(v)]));
  if (meta.get('schema') !== CACHE_SCHEMA || meta.get('folder') !== outputFolder) {
    if (meta.size > 0) log(`results: the cache ${cacheFile} was written for another version or folder; making it anew`);
    for (const spec of Object.values(SOURCES)) await conn.run(`DROP TABLE IF EXISTS ${spec.internal}`);
    await conn.run('DROP TABLE IF EXISTS _cache_files');
    await conn.run('DELETE FROM _cache_meta');
    await conn.run(`INSERT INTO _cache_meta VALUES ('schema', ${quoteString(CACHE_SCHEMA)}), ('folder', ${quoteString(outputFolder)})`);
  }
}

/**
 * After the tables are made in a cache file: the files whose rows they hold, and how many lines the listing has. Rows
 * of a file whose listing never got written are dropped.
 */
export async function readCacheListing(conn: DuckDBConnection): Promise<{ files: TrackedFile[]; listed: number }> {
  await conn.run(
    'CREATE TABLE IF NOT EXISTS _cache_files (id INTEGER PRIMARY KEY, path VARCHAR, rel VARCHAR, source VARCHAR, size BIGINT, mtime_ms DOUBLE, row_count BIGINT, messages VARCHAR)',
  );
  // A file's rows are written before its line in _cache_files (and its line deleted before its rows): rows
  // without a line are what an interrupted session left, and go.
  for (const spec of Object.values(SOURCES))
    await conn.run(`DELETE FROM ${spec.internal} WHERE _file_id NOT IN (SELECT id FROM _cache_files)`);
  const listed = await readRows(conn, 'SELECT id, path, rel, source, size, mtime_ms, row_count, messages FROM _cache_files');
  const files: TrackedFile[] = [];
  for (const [id, path, rel, source, size, mtime, rows, messages] of listed) {
    if (!(String(source) in SOURCES)) continue;
    const file: TrackedFile = {
      id: toNumber(id),
      path: String(path),
      rel: String(rel),
      source: String(source) as SourceKey,
      size: toNumber(size),
      mtimeMs: toNumber(mtime),
      loaded: true,
      rows: toNumber(rows),
      messages: [],
    };
    try {
      file.messages = JSON.parse(String(messages)) as FileMessage[];
    } catch {
      file.messages = [];
    }
    files.push(file);
  }
  return { files, listed: listed.length };
}

/**
 * Writes the listing of files whose rows are now in the tables. The modification time goes in as text: a number
 * literal would be read as a DECIMAL and could come back one bit off, so the file would look changed and be read
 * again on every open.
 */
export async function rememberFiles(conn: DuckDBConnection, files: TrackedFile[]): Promise<void> {
  for (let i = 0; i < files.length; i += 500) {
    const values = files
      .slice(i, i + 500)
      .map(
        (f) =>
          `(${f.id}, ${quoteString(f.path)}, ${quoteString(f.rel)}, ${quoteString(f.source)}, ${f.size}, CAST('${f.mtimeMs}' AS DOUBLE), ${f.rows}, ${quoteString(JSON.stringify(f.messages))})`,
      );
    await conn.run(`INSERT OR REPLACE INTO _cache_files VALUES ${values.join(', ')}`);
  }
}

/** Deletes the listing of files whose rows are about to go. */
export async function forgetFiles(conn: DuckDBConnection, ids: number[]): Promise<void> {
  if (ids.length === 0) return;
  await conn.run(`DELETE FROM _cache_files WHERE id IN (${ids.join(', ')})`);
}
