// Finds the committed result files of an output folder: which table, size, modification time.
import type { Dirent } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { RESULT_TABLES, TABLE_FOLDERS, type FileMessage, type ResultTable } from './resultsProtocol';
import type { ScannedFile, SourceKey } from './sources';

const JSON_EXTENSIONS = ['.jsonl', '.json', '.ndjson'];

export interface ScanResult {
  exists: boolean;
  folders: Record<ResultTable, boolean>;
  files: ScannedFile[];
  notes: FileMessage[];
}

export function emptyScan(): ScanResult {
  return { exists: false, folders: { aggregates: false, alerts: false, dead_letter: false }, files: [], notes: [] };
}

function relPath(root: string, path: string): string {
  return relative(root, path).split(sep).join('/');
}

/** Whether `outputFolder` holds any committed result file (one directory walk; no DuckDB). */
export async function hasResultFiles(outputFolder: string): Promise<boolean> {
  return (await scanOutput(resolve(outputFolder))).files.length > 0;
}

export async function scanOutput(root: string): Promise<ScanResult> {
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
        if (table === 'aggregates')
          source = lower.endsWith('.csv') ? 'agg_csv' : JSON_EXTENSIONS.some((e) => lower.endsWith(e)) ? 'agg_json' : undefined;
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
