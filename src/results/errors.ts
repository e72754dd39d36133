// The errors the results store throws, and DuckDB's messages cut down to what a user reads.

export class ResultsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ResultsError';
  }
}

/** A query refused by the read-only check (src/results/sqlGuard.ts, userSql.ts) or by DuckDB's lock on the output folder. */
export class QueryRefusedError extends ResultsError {}

/** `cacheOnly` was asked for and the cache file could not be used (see the log for why). */
export class CacheUnavailableError extends ResultsError {}

export function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0];
}

/** DuckDB's message without the echo of the whole statement that some errors append. */
export function firstLines(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .slice(0, 3)
    .join('\n');
}
