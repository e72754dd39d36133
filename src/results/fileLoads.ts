// Reads result files into their DuckDB tables: CSV by its header, JSON lines field by field, each problem a message on its file.
import type { DuckDBConnection } from '@duckdb/node-api';
import { open as openFile, readFile } from 'node:fs/promises';
import { firstLine } from './errors';
import { fileMessage, SOURCES, SQL_TYPES, type SourceKey, type SourceSpec, type TrackedFile } from './sources';
import { quoteIdent, quoteString, readRows, sqlList, toNumber } from './sql';

/**
 * Loads `files` (all of source `key`) into the source's table, each row keeping its file's id, and counts each
 * file's rows. An empty file, a bad header, bad lines or a file that cannot be read become messages on the file.
 */
export async function loadSourceFiles(conn: DuckDBConnection, key: SourceKey, files: TrackedFile[]): Promise<void> {
  const nonEmpty: TrackedFile[] = [];
  for (const file of files) {
    file.loaded = true;
    if (file.size === 0) file.messages.push(fileMessage(file, 'info', 'empty file (nothing committed in it yet); skipped.'));
    else nonEmpty.push(file);
  }
  if (nonEmpty.length === 0) return;
  if (SOURCES[key].format === 'csv') await loadCsv(conn, key, nonEmpty);
  else await loadJson(conn, key, nonEmpty);
  const counts = await readRows(
    conn,
    `SELECT _file_id, count(*) FROM ${SOURCES[key].internal} WHERE _file_id IN (${nonEmpty.map((f) => f.id).join(', ')}) GROUP BY 1`,
  );
  const byFile = new Map(counts.map(([id, n]) => [toNumber(id), toNumber(n)]));
  for (const file of nonEmpty) file.rows = byFile.get(file.id) ?? 0;
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
    return line.split(',').map((name) =>
      name
        .trim()
        .replace(/^"(.*)"$/, '$1')
        .trim(),
    );
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

/** Runs `load` over all files, or file by file when the batch fails, so one broken file costs only itself. */
async function loadInBatchOrAlone(files: TrackedFile[], load: (batch: TrackedFile[]) => Promise<void>): Promise<void> {
  try {
    await load(files);
    return;
  } catch (error) {
    if (files.length === 1) {
      files[0].messages.push(fileMessage(files[0], 'error', `could not be read: ${firstLine(error)}`));
      return;
    }
  }
  for (const file of files) {
    try {
      await load([file]);
    } catch (error) {
      file.messages.push(fileMessage(file, 'error', `could not be read: ${firstLine(error)}`));
    }
  }
}

async function loadCsv(conn: DuckDBConnection, key: SourceKey, files: TrackedFile[]): Promise<void> {
  const spec = SOURCES[key];
  const types = SQL_TYPES[spec.table];
  const expected = Object.keys(types);
  const groups = new Map<string, { header: string[]; files: TrackedFile[] }>();
  for (const file of files) {
    let header: string[] | undefined;
    try {
      header = await readCsvHeader(file.path);
    } catch (error) {
      file.messages.push(fileMessage(file, 'error', `could not be read: ${firstLine(error)}`));
      continue;
    }
    if (!header || header.every((h) => h === '')) {
      file.messages.push(fileMessage(file, 'info', 'empty file (no header yet); skipped.'));
      continue;
    }
    const lower = header.map((h) => h.toLowerCase());
    const missing = expected.filter((name) => !lower.includes(name));
    const duplicated = lower.filter((name, i) => lower.indexOf(name) !== i);
    if (missing.length > 0 || duplicated.length > 0) {
      const found = header.join(',').slice(0, 200);
      if (header.length === expected.length && /\d{4}-\d{2}-\d{2}/.test(found)) {
        file.messages.push(
          fileMessage(
            file,
            'error',
            `no CSV header line (the first line is data: "${found.slice(0, 80)}"), file skipped: the job must write the header "${expected.join(',')}".`,
          ),
        );
        continue;
      }
      file.messages.push(
        fileMessage(
          file,
          'error',
          `wrong CSV header, file skipped: expected "${expected.join(',')}", found "${found}"` +
            (duplicated.length
              ? ` (${duplicated[0]} twice).`
              : missing.length > 3
                ? ` (${missing.length} expected columns missing).`
                : ` (missing ${missing.join(', ')}).`),
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
    await loadInBatchOrAlone(groupFiles, async (batch) => {
      await conn.run('DROP TABLE IF EXISTS temp._csv_rejects; DROP TABLE IF EXISTS temp._csv_reject_scans');
      await conn.run(
        `INSERT INTO ${spec.internal} SELECT ${expected.map(quoteIdent).join(', ')}, ${fileIdOf(batch)} FROM read_csv(${sqlList(batch.map((f) => f.path))}, ` +
          `header = true, auto_detect = false, delim = ',', quote = '"', escape = '"', columns = {${columns}}, filename = true, ` +
          `ignore_errors = true, store_rejects = true, rejects_table = '_csv_rejects', rejects_scan = '_csv_reject_scans')`,
      );
      const rejects = await readRows(
        conn,
        `SELECT s.file_path, count(DISTINCT e.line), min(e.line), arg_min(e.error_message, e.line) FROM temp._csv_rejects e ` +
          `JOIN temp._csv_reject_scans s ON e.scan_id = s.scan_id AND e.file_id = s.file_id GROUP BY 1`,
      );
      const byPath = new Map(batch.map((f) => [f.path, f]));
      for (const [path, lines, firstBad, error] of rejects) {
        const file = byPath.get(String(path));
        if (!file) continue;
        const n = toNumber(lines);
        file.messages.push(
          fileMessage(
            file,
            'warning',
            `${n} bad line${n > 1 ? 's' : ''} skipped (line ${toNumber(firstBad)}: ${String(error).split('\n')[0]}).`,
          ),
        );
      }
    });
  }
}

async function loadJson(conn: DuckDBConnection, key: SourceKey, files: TrackedFile[]): Promise<void> {
  const spec = SOURCES[key];
  const types = SQL_TYPES[spec.table];
  const names = Object.keys(types);
  const columns = names.map((name) => `${quoteString(name)}: ${quoteString(types[name])}`).join(', ');
  const nullChecks = spec.required.map((name) => `${quoteIdent(name)} IS NULL`);
  const bad = spec.requireAny ? `(${nullChecks.join(' AND ')})` : `(${nullChecks.join(' OR ')})`;
  await loadInBatchOrAlone(files, async (batch) => {
    await conn.run(
      `CREATE OR REPLACE TEMP TABLE _json_stage AS SELECT ${names.map(quoteIdent).join(', ')}, filename AS _file FROM read_json(${sqlList(batch.map((f) => f.path))}, ` +
        `format = 'newline_delimited', columns = {${columns}}, filename = true, ignore_errors = true)`,
    );
    try {
      const counts = await readRows(conn, `SELECT _file, count(*) FROM temp._json_stage WHERE ${bad} GROUP BY 1`);
      await conn.run(
        `INSERT INTO ${spec.internal} SELECT ${names.map(quoteIdent).join(', ')}, ${fileIdOf(batch, '_file')} FROM temp._json_stage WHERE NOT ${bad}`,
      );
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
        file.messages.push(fileMessage(file, 'warning', `${n} line${n > 1 ? 's' : ''} skipped${where}: not a JSON object with ${fields}.`));
      }
    } finally {
      await conn.run('DROP TABLE IF EXISTS temp._json_stage');
    }
  });
}
