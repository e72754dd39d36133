// The exactly-once check over the output files: the counts it reads from DuckDB and the verdict they make.
import type { TrackedFile } from './sources';
import { toNumber, type RunSql } from './sql';

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

function fmt(n: number): string {
  return n.toLocaleString('en-US');
}

/**
 * sum(event_count) == expected − dead letters (when `expected` is given), no (sensor_id, window_start) twice, and
 * the CSV and JSON aggregate files holding the same rows. `aggregatesBase` is the table the `aggregates` view reads;
 * both aggregate tables must be loaded.
 */
export async function verifyOutput(
  run: RunSql,
  input: { outputFolder: string; outputExists: boolean; tracked: TrackedFile[]; aggregatesBase: string },
  expected: number | undefined,
): Promise<VerifyReport> {
  const started = performance.now();
  const agg = input.aggregatesBase;
  const [[aggregateRows, events, csvRows, jsonRows, alerts, deadLetters]] = await run(
    `SELECT (SELECT count(*) FROM ${agg}), (SELECT coalesce(sum(event_count), 0) FROM ${agg}), (SELECT count(*) FROM _agg_csv), ` +
      `(SELECT count(*) FROM _agg_json), (SELECT count(*) FROM _alerts), (SELECT count(*) FROM _dead_letter)`,
  );
  const duplicates = await run(
    `SELECT sensor_id, strftime(window_start, '%Y-%m-%dT%H:%M:%S.%gZ'), count(*) AS copies, count(*) OVER () FROM ${agg} ` +
      `GROUP BY sensor_id, window_start HAVING count(*) > 1 ORDER BY copies DESC, sensor_id, window_start LIMIT 50`,
  );
  // Multiset difference of the two formats by a hash of the row (doubles rounded: CSV and JSON print them differently).
  const rowHash = `hash(sensor_id, window_start, window_end, event_count, round(avg_temperature, 6), round(min_temperature, 6), round(max_temperature, 6), round(avg_humidity, 6), anomaly_count)`;
  const [[mismatch]] = await run(
    `SELECT coalesce(sum(abs(n)), 0) FROM (SELECT h, sum(side) AS n FROM (SELECT ${rowHash} AS h, 1 AS side FROM _agg_csv UNION ALL SELECT ${rowHash}, -1 FROM _agg_json) GROUP BY h) WHERE n <> 0`,
  );
  const tracked = input.tracked;
  const csvFiles = tracked.filter((f) => f.source === 'agg_csv').length;
  const jsonFiles = tracked.filter((f) => f.source === 'agg_json').length;
  const report: VerifyReport = {
    ok: false,
    outputFolder: input.outputFolder,
    aggregateRows: toNumber(aggregateRows),
    csvRows: toNumber(csvRows),
    jsonRows: toNumber(jsonRows),
    csvFiles,
    jsonFiles,
    eventCountSum: toNumber(events),
    alertRows: toNumber(alerts),
    deadLetterRows: toNumber(deadLetters),
    duplicateWindows: duplicates.map(([sensor, start, copies]) => ({
      sensor_id: String(sensor),
      window_start: String(start),
      copies: toNumber(copies),
    })),
    duplicateWindowCount: duplicates.length > 0 ? toNumber(duplicates[0][3]) : 0,
    csvJsonMismatch: toNumber(mismatch),
    expected,
    problems: [],
    warnings: tracked.flatMap((f) => f.messages.filter((m) => m.level !== 'info').map((m) => `${m.file}: ${m.message}`)),
    elapsedMs: 0,
  };
  const p = report.problems;
  if (!input.outputExists) p.push(`The output folder ${input.outputFolder} does not exist.`);
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
    p.push(
      `${fmt(report.duplicateWindowCount)} (sensor_id, window_start) pair${report.duplicateWindowCount > 1 ? 's are' : ' is'} written more than once, e.g. ${first.sensor_id} at ${first.window_start} (${first.copies} copies).`,
    );
  }
  if (csvFiles === 0 && jsonFiles > 0) p.push(`No CSV aggregate files (only ${fmt(jsonFiles)} JSON files): both formats are expected.`);
  else if (jsonFiles === 0 && csvFiles > 0) p.push(`No JSON aggregate files (only ${fmt(csvFiles)} CSV files): both formats are expected.`);
  else if (report.csvJsonMismatch > 0) {
    p.push(
      `The CSV and JSON aggregate files differ: ${fmt(report.csvJsonMismatch)} row${report.csvJsonMismatch > 1 ? 's are' : ' is'} in one format but not the other (CSV ${fmt(report.csvRows)} rows, JSON ${fmt(report.jsonRows)}).`,
    );
  }
  report.ok = p.length === 0;
  report.elapsedMs = performance.now() - started;
  return report;
}
