// The summary the view opens with: counts, time range, sensors, each table's state and the files' messages, errors first.
import {
  RESULT_TABLES,
  TABLE_FOLDERS,
  type FileMessage,
  type ResultsSummary,
  type ResultTable,
  type TableSummary,
} from './resultsProtocol';
import type { ScanResult } from './outputScan';
import { SOURCES, type TrackedFile } from './sources';
import { toNumber, type RunSql } from './sql';

const MAX_LISTED_MESSAGES = 50;

/** What the summary is made of besides the tables: the folder, its last scan and the files as loaded. */
export interface SummaryInput {
  outputFolder: string;
  dataVersion: number;
  scan: ScanResult;
  tracked: TrackedFile[];
  aggregatesSource: 'csv' | 'json' | 'none';
  /** The internal table the `aggregates` view reads. */
  aggregatesBase: string;
}

function levelRank(level: FileMessage['level']): number {
  return level === 'error' ? 0 : level === 'warning' ? 1 : 2;
}

export async function readSummary(run: RunSql, input: SummaryInput): Promise<ResultsSummary> {
  const { scan, tracked, aggregatesBase } = input;
  const [[rows, events, from, to, sensorCount, alerts, deadLetters]] = await run(
    `SELECT count(*), coalesce(sum(event_count), 0), strftime(min(window_start), '%Y-%m-%dT%H:%M:%S.%gZ'), ` +
      `strftime(max(window_end), '%Y-%m-%dT%H:%M:%S.%gZ'), count(DISTINCT sensor_id), ` +
      `(SELECT count(*) FROM ${SOURCES.alerts.internal}), (SELECT count(*) FROM ${SOURCES.dead_letter.internal}) FROM ${aggregatesBase}`,
  );
  const sensors = (await run(`SELECT sensor_id FROM ${aggregatesBase} WHERE sensor_id IS NOT NULL GROUP BY 1 ORDER BY 1 LIMIT 1000`)).map(
    (r) => String(r[0]),
  );

  const tables = {} as Record<ResultTable, TableSummary>;
  for (const table of RESULT_TABLES) {
    const folder = TABLE_FOLDERS[table];
    const tableFiles = tracked.filter((f) => SOURCES[f.source].table === table);
    const state: TableSummary['state'] = !scan.folders[table] ? 'missing' : tableFiles.length === 0 ? 'empty' : 'ok';
    const note =
      state === 'missing'
        ? `No ${folder}/ folder in the output folder yet.`
        : state === 'empty'
          ? `${folder}/ has no committed ${table === 'aggregates' ? '.csv or .jsonl' : '.jsonl'} files yet.`
          : undefined;
    const count = table === 'aggregates' ? toNumber(rows) : table === 'alerts' ? toNumber(alerts) : toNumber(deadLetters);
    tables[table] = { table, state, files: tableFiles.length, rows: count, note };
  }
  tables.aggregates.source = input.aggregatesSource;
  if (input.aggregatesSource === 'json') tables.aggregates.note = 'No CSV files: read from the JSON-lines files.';

  const messages: FileMessage[] = [];
  if (!scan.exists) {
    messages.push({
      table: 'aggregates',
      file: '',
      level: 'info',
      message: `The output folder ${input.outputFolder} does not exist yet; the Flink job creates it when it commits its first files.`,
    });
  } else {
    for (const table of RESULT_TABLES) {
      const note = tables[table].note;
      if (note && tables[table].state !== 'ok') messages.push({ table, file: '', level: 'info', message: note });
    }
  }
  messages.push(...scan.notes, ...tracked.flatMap((f) => f.messages));
  // Errors first, then warnings, then notes; by file within a level (sort is stable).
  messages.sort((a, b) => levelRank(a.level) - levelRank(b.level) || a.file.localeCompare(b.file));

  const newest = tracked.reduce<TrackedFile | undefined>((best, f) => (!best || f.mtimeMs > best.mtimeMs ? f : best), undefined);
  return {
    outputFolder: input.outputFolder,
    outputExists: scan.exists,
    dataVersion: input.dataVersion,
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
}
