// The job's committed output files with the moment each became visible, for linking checkpoints to files.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { CommittedFile } from './flinkCheckpointRows';
import { RESULT_TABLES, TABLE_FOLDERS } from '../results/resultsProtocol';

/**
 * Lists `<output>/{aggregates,alerts,dead-letter}` (the sink writes its part files straight into them) and keeps
 * the inode change time of every committed file it has seen: the file sink's commit is a rename, which sets it, and
 * a committed file is never touched again. So each refresh reads the folders and stats only the new names — a
 * folder of thousands of files costs one readdir, not thousands of stats.
 */
export class CommittedFileIndex {
  private readonly known = new Map<string, CommittedFile>();

  constructor(readonly outputFolder: string) {}

  /** Committed files that became visible at or after `sinceMs`, oldest first. */
  async filesSince(sinceMs: number): Promise<CommittedFile[]> {
    const seen = new Set<string>();
    const found: CommittedFile[] = [];
    for (const table of RESULT_TABLES) {
      const folder = TABLE_FOLDERS[table];
      const dir = join(this.outputFolder, folder);
      let names: string[];
      try {
        names = await readdir(dir);
      } catch {
        continue;
      }
      const fresh: string[] = [];
      for (const name of names) {
        if (name.startsWith('.')) continue; // in progress, not committed
        const path = join(dir, name);
        seen.add(path);
        const file = this.known.get(path);
        if (file) {
          if (file.changedAtMs >= sinceMs) found.push(file);
        } else fresh.push(name);
      }
      const stats = await Promise.all(
        fresh.map((name) =>
          stat(join(dir, name)).then(
            (s) => ({ name, s }),
            () => undefined,
          ),
        ),
      );
      for (const entry of stats) {
        if (!entry || !entry.s.isFile()) continue;
        const file: CommittedFile = {
          path: join(dir, entry.name),
          folder,
          name: entry.name,
          changedAtMs: entry.s.ctimeMs,
          bytes: entry.s.size,
        };
        this.known.set(file.path, file);
        if (file.changedAtMs >= sinceMs) found.push(file);
      }
    }
    for (const path of this.known.keys()) if (!seen.has(path)) this.known.delete(path);
    return found.sort((a, b) => a.changedAtMs - b.changedAtMs);
  }
}
