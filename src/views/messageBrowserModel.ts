// The message browser's pure parts: the table's rows with their offset gaps, the histogram merged over pages, the record's text, and the export lines. No vscode, no Node: the page bundles it too.
import { toCsv } from '../shared/csv';
import { MAX_LISTED_GAPS, SCAN_STALL_MS, type HistogramBucket, type OffsetGap, type ScanRecord } from '../kafka/topicScanTypes';
import type { BrowserRow, MergedHistogram } from './messageBrowserProtocol';

/**
 * The page's records with a row for each gap before the record it precedes, so a reader sees which offsets
 * delivered nothing (a transaction's marker, or an aborted record under read_committed). Gaps after a partition's
 * last record on the page come last.
 */
export function rowsWithGaps(records: ScanRecord[], gaps: OffsetGap[]): BrowserRow[] {
  const pending = new Map<number, OffsetGap[]>();
  for (const gap of [...gaps].sort((a, b) => a.partition - b.partition || a.from - b.from)) {
    const list = pending.get(gap.partition) ?? [];
    list.push(gap);
    pending.set(gap.partition, list);
  }
  const rows: BrowserRow[] = [];
  for (const record of records) {
    const list = pending.get(record.partition);
    while (list && list.length && list[0].to < record.offset) rows.push({ kind: 'gap', ...list.shift()! });
    rows.push({ kind: 'record', record });
  }
  for (const list of pending.values()) for (const gap of list) rows.push({ kind: 'gap', ...gap });
  return rows;
}

export function gapText(gap: OffsetGap): string {
  const offsets = gap.from === gap.to ? `offset ${gap.from}` : `offsets ${gap.from}–${gap.to}`;
  return `${offsets}: transaction marker or aborted record`;
}

/** What the line under the table says of a page: how it ended, and what it left out. */
export function pageEndNote(page: {
  tail: boolean;
  cancelled: boolean;
  hasNext: boolean;
  stopped?: 'timeout' | 'stalled';
  gapsOmitted?: number;
}): string {
  const end = page.tail
    ? page.cancelled
      ? 'The tail stopped.'
      : 'Following the topic: new records appear below. Cancel stops.'
    : page.stopped === 'stalled'
      ? `Stopped early: the broker sent nothing for ${SCAN_STALL_MS / 1000} s. Next page tries again from here.`
      : page.stopped === 'timeout'
        ? 'Stopped early: the scan reached its time limit. Next page continues from here.'
        : page.hasNext
          ? 'More to scan: Next page continues where this page stopped.'
          : 'End of the partitions as of the scan start.';
  const omitted = page.gapsOmitted
    ? ` ${page.gapsOmitted.toLocaleString('en-US')} more gap${page.gapsOmitted === 1 ? '' : 's'} (transaction markers or aborted records) not listed: a page lists at most ${MAX_LISTED_GAPS.toLocaleString('en-US')}.`
    : '';
  return end + omitted;
}

/** Enough bars to drag on, few enough to draw as one SVG. */
export const MAX_BUCKETS = 240;

/**
 * One histogram for every page of a scan: buckets of the same start add up. Pages with another bucket width are
 * folded into the wider one, and the width doubles until at most MAX_BUCKETS remain.
 */
export function mergeHistograms(a: MergedHistogram | undefined, b: MergedHistogram | undefined): MergedHistogram {
  const parts = [a, b].filter((h): h is MergedHistogram => h !== undefined && h.buckets.length > 0 && h.widthMs > 0);
  if (parts.length === 0) return { widthMs: a?.widthMs || b?.widthMs || 0, buckets: [] };
  let width = Math.max(...parts.map((h) => h.widthMs));
  const all = parts.flatMap((h) => h.buckets);
  for (;;) {
    const byStart = new Map<number, HistogramBucket>();
    for (const bucket of all) {
      const startMs = Math.floor(bucket.startMs / width) * width;
      const sum = byStart.get(startMs);
      if (sum) {
        sum.all += bucket.all;
        sum.matched += bucket.matched;
      } else byStart.set(startMs, { startMs, all: bucket.all, matched: bucket.matched });
    }
    const buckets = [...byStart.values()].sort((x, y) => x.startMs - y.startMs);
    const span = buckets.length ? (buckets[buckets.length - 1].startMs - buckets[0].startMs) / width + 1 : 0;
    if (span <= MAX_BUCKETS) return { widthMs: width, buckets };
    width *= 2;
  }
}

/** One line of at most `max` characters: line breaks as ⏎, the rest cut with an ellipsis. */
export function preview(text: string | null, max = 120): string {
  if (text === null) return 'NULL';
  const line = text.replace(/\r?\n/g, ' ⏎ ');
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

export function valuePreview(record: ScanRecord, max = 120): string {
  return record.valueEncoding === 'base64' ? `base64: ${preview(record.value, max - 8)}` : preview(record.value, max);
}

/** The value as the record view shows it: JSON indented when it is JSON, otherwise as it came. */
export function prettyValue(record: ScanRecord): { text: string; json: boolean } {
  if (record.value === null) return { text: 'NULL', json: false };
  if (record.valueEncoding !== 'base64' && /^\s*[[{]/.test(record.value)) {
    try {
      return { text: JSON.stringify(JSON.parse(record.value), null, 2), json: true };
    } catch {
      // Not JSON after all: shown as it is.
    }
  }
  return { text: record.value, json: false };
}

/** `2026-01-31T12:00:00.000Z`: the table's time, always UTC. */
export function isoTime(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? String(ms) : date.toISOString();
}

// ---- export ----

/** One JSON object per record, with the names `pipeline messages --json` prints (kcat's). */
export function exportJsonLine(record: ScanRecord): string {
  return (
    JSON.stringify({
      partition: record.partition,
      offset: record.offset,
      timestamp: record.timestamp,
      key: record.key,
      value: record.value,
      ...(record.valueEncoding ? { valueEncoding: record.valueEncoding } : {}),
      headers: record.headers,
      size: record.size,
    }) + '\n'
  );
}

export const CSV_COLUMNS = ['partition', 'offset', 'timestamp', 'time', 'key', 'value', 'headers', 'size'];

/** The CSV header line, once at the top of an export. */
export function csvHeader(): string {
  return toCsv(CSV_COLUMNS, []);
}

/** The records as CSV lines without the header: an export writes them page by page. */
export function csvLines(records: ScanRecord[]): string {
  if (records.length === 0) return '';
  const rows = records.map((r) => [r.partition, r.offset, r.timestamp, isoTime(r.timestamp), r.key, r.value, r.headers, r.size]);
  return toCsv(CSV_COLUMNS, rows).slice(csvHeader().length);
}
