// The message browser's messages between its panel (views/messageBrowserPanel.ts) and its page (webview-ui/messageBrowser.ts), the form as the page sends it, and the checks the host runs on both. No vscode, no Node: the page bundles it too.
import type { PartitionOffsets } from '../kafka/kafkaModels';
import type {
  HistogramBucket,
  Isolation,
  OffsetGap,
  ScanPage,
  ScanProgress,
  ScanRecord,
  ScanRequest,
  ScanStart,
} from '../kafka/topicScanTypes';

export type StartChoice = 'earliest' | 'newest' | 'offsets' | 'timestamp' | 'tail';
export const START_CHOICES: readonly StartChoice[] = ['earliest', 'newest', 'offsets', 'timestamp', 'tail'];

export const DEFAULT_LIMIT = 200;
export const MAX_LIMIT = 10_000;
export const MAX_NEWEST = 1_000_000;
const MAX_WHERE_LENGTH = 10_000;

/** What the page's form holds, as the page sends it; the host turns it into a ScanRequest (`buildScanRequest`). */
export interface BrowserForm {
  start: StartChoice;
  /** For `newest`: that many records of each chosen partition. */
  newestCount: number;
  /** For `offsets`: partition → offset; a chosen partition not named starts at its earliest. */
  offsets: Record<string, number>;
  /** For `timestamp`: `YYYY-MM-DDTHH:MM[:SS]` in UTC, as the datetime-local box gives it. */
  time: string;
  partitions: number[];
  limit: number;
  isolation: Isolation;
  where: string;
  /** The histogram's drag: records at or after `sinceMs` and before `untilMs` only. */
  sinceMs?: number;
  untilMs?: number;
}

/** The columns a WHERE can use, as the page lists them under the box. */
export const WHERE_COLUMNS: readonly { name: string; about: string }[] = [
  { name: 'kafka_partition', about: 'INTEGER' },
  { name: 'kafka_offset', about: 'BIGINT' },
  { name: 'kafka_timestamp', about: 'TIMESTAMP (UTC)' },
  { name: 'key', about: 'VARCHAR' },
  { name: 'value', about: 'VARCHAR' },
  { name: 'json', about: 'the value parsed, when it is JSON: json.temperature' },
  { name: 'headers', about: "MAP(VARCHAR, VARCHAR): headers['pipeline-control']" },
  { name: 'size', about: 'key + value + header bytes' },
];
export const WHERE_EXAMPLE = "json.temperature::DOUBLE > 30 AND key = 'sensor-007'";

/** A row of the table: a record, or offsets the scan passed that delivered none. */
export type BrowserRow = { kind: 'record'; record: ScanRecord } | ({ kind: 'gap' } & OffsetGap);

export interface MergedHistogram {
  widthMs: number;
  buckets: HistogramBucket[];
}

// ---- page → host ----

export type ExportFormat = 'jsonl' | 'csv';

export type BrowserToHost =
  { type: 'ready' } | { type: 'run'; form: BrowserForm } | { type: 'next' } | { type: 'cancel' } | { type: 'export'; format: ExportFormat };

// ---- host → page ----

export type ErrorField = 'where' | 'start' | 'partitions' | 'limit' | 'scan';

export type HostToBrowser =
  | {
      type: 'init';
      topic: string;
      partitions: PartitionOffsets[];
      form: BrowserForm;
      /** Why the form is filled in this way (a link's "the dead letter's record"), shown above it. */
      note?: string;
      /** Run the form at once (a link opened the browser). */
      run: boolean;
    }
  | { type: 'scanning'; pageNumber: number }
  | { type: 'progress'; progress: ScanProgress }
  | {
      type: 'page';
      pageNumber: number;
      rows: BrowserRow[];
      progress: ScanProgress;
      /** Merged over every page of this scan. */
      histogram: MergedHistogram;
      hasNext: boolean;
      cancelled: boolean;
      /** The page ended early without a Cancel: the scan's time limit, or no batch for a while. */
      stopped?: ScanPage['stopped'];
      /** Gaps only counted, past the most a page lists. */
      gapsOmitted?: number;
      elapsedMs: number;
      tail: boolean;
    }
  | { type: 'failed'; field: ErrorField; message: string }
  | { type: 'exportStatus'; text: string };

// ---- checks of what the page sends (the host trusts nothing it did not check) ----

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isWhole(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max;
}

function optionalTime(value: unknown): boolean {
  return value === undefined || (typeof value === 'number' && Number.isFinite(value) && value >= 0);
}

/** The form if every field has its type and a sane size; the values themselves are judged by `buildScanRequest`. */
export function parseForm(raw: unknown): BrowserForm | undefined {
  if (!isObject(raw)) return undefined;
  const { start, newestCount, offsets, time, partitions, limit, isolation, where, sinceMs, untilMs } = raw;
  if (typeof start !== 'string' || !(START_CHOICES as readonly string[]).includes(start)) return undefined;
  if (typeof newestCount !== 'number' || typeof limit !== 'number') return undefined;
  if (!isObject(offsets) || Object.keys(offsets).length > 10_000) return undefined;
  if (!Object.entries(offsets).every(([p, o]) => /^\d{1,6}$/.test(p) && typeof o === 'number')) return undefined;
  if (typeof time !== 'string' || time.length > 40) return undefined;
  if (!Array.isArray(partitions) || partitions.length > 10_000 || !partitions.every((p) => isWhole(p, 0, 999_999))) return undefined;
  if (isolation !== 'committed' && isolation !== 'uncommitted') return undefined;
  if (typeof where !== 'string' || where.length > MAX_WHERE_LENGTH) return undefined;
  if (!optionalTime(sinceMs) || !optionalTime(untilMs)) return undefined;
  return {
    start: start as StartChoice,
    newestCount,
    offsets: offsets as Record<string, number>,
    time,
    partitions: partitions as number[],
    limit,
    isolation,
    where,
    sinceMs: sinceMs as number | undefined,
    untilMs: untilMs as number | undefined,
  };
}

/** The message if it is a well-formed `BrowserToHost`, otherwise undefined. */
export function parseBrowserMessage(raw: unknown): BrowserToHost | undefined {
  if (!isObject(raw) || typeof raw.type !== 'string') return undefined;
  switch (raw.type) {
    case 'ready':
    case 'next':
    case 'cancel':
      return { type: raw.type };
    case 'run': {
      const form = parseForm(raw.form);
      return form ? { type: 'run', form } : undefined;
    }
    case 'export':
      return raw.format === 'jsonl' || raw.format === 'csv' ? { type: 'export', format: raw.format } : undefined;
    default:
      return undefined;
  }
}

// ---- the form ↔ a scan request ----

/** `2026-01-31T12:00`, `…:05` or `…:05.250` read as UTC; undefined for anything else. */
export function parseUtcInput(text: string): number | undefined {
  const t = text.trim();
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?$/.test(t)) return undefined;
  const ms = Date.parse(`${t}Z`);
  return Number.isNaN(ms) ? undefined : ms;
}

/** The datetime-local box's value for a time, in UTC, to the second. */
export function formatUtcInput(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19);
}

export function defaultForm(partitions: number[], preselect?: number[]): BrowserForm {
  return {
    start: 'earliest',
    newestCount: 100,
    offsets: {},
    time: formatUtcInput(Date.now() - 10 * 60_000),
    partitions: preselect && preselect.length ? [...preselect] : [...partitions],
    limit: DEFAULT_LIMIT,
    isolation: 'committed',
    where: '',
  };
}

/** The form's values as a scan request, or the first thing wrong with them and which field it is. */
export function buildScanRequest(
  topic: string,
  form: BrowserForm,
  known: number[],
): { request: ScanRequest; error?: undefined } | { request?: undefined; error: string; field: ErrorField } {
  const chosen = [...new Set(form.partitions)].sort((a, b) => a - b);
  if (chosen.length === 0) return { error: 'Choose at least one partition.', field: 'partitions' };
  const unknown = chosen.filter((p) => !known.includes(p));
  if (unknown.length) return { error: `${topic} has no partition ${unknown.join(', ')} (it has ${known.length}).`, field: 'partitions' };
  if (!isWhole(form.limit, 1, MAX_LIMIT))
    return { error: `The maximum results must be a whole number from 1 to ${MAX_LIMIT}.`, field: 'limit' };
  let start: ScanStart;
  switch (form.start) {
    case 'earliest':
    case 'tail':
      start = { kind: form.start };
      break;
    case 'newest':
      if (!isWhole(form.newestCount, 1, MAX_NEWEST))
        return { error: `Newest − N: N must be a whole number from 1 to ${MAX_NEWEST}.`, field: 'start' };
      start = { kind: 'newest', count: form.newestCount };
      break;
    case 'offsets': {
      const offsets: Record<number, number> = {};
      for (const p of chosen) {
        const o = form.offsets[String(p)];
        if (o === undefined) continue;
        if (!isWhole(o, 0, Number.MAX_SAFE_INTEGER))
          return { error: `The offset of partition ${p} must be a whole number of at least 0.`, field: 'start' };
        offsets[p] = o;
      }
      start = { kind: 'offsets', offsets };
      break;
    }
    case 'timestamp': {
      const ms = parseUtcInput(form.time);
      if (ms === undefined) return { error: 'Give a date and time (UTC), e.g. 2026-01-31T12:00:00.', field: 'start' };
      start = { kind: 'timestamp', timestampMs: ms };
      break;
    }
  }
  if (form.sinceMs !== undefined && form.untilMs !== undefined && form.untilMs <= form.sinceMs)
    return { error: 'The time range is empty: its end is not after its start.', field: 'start' };
  const where = form.where.trim();
  return {
    request: {
      topic,
      partitions: chosen.length === known.length ? 'all' : chosen,
      start,
      isolation: form.isolation,
      where: where || undefined,
      limit: form.limit,
      sinceMs: form.sinceMs,
      untilMs: form.untilMs,
    },
  };
}

// ---- a link into the browser ----

/** What `kafkaFlinkLab.messages.browseAt` takes: a link opens the browser with this filled in and runs it. */
export interface BrowseAt {
  topic: string;
  start: ScanStart;
  partitions?: number[];
  where?: string;
  limit?: number;
  sinceMs?: number;
  untilMs?: number;
  /** One line above the form: why the browser opened here. */
  note?: string;
}

function isStart(value: unknown): value is ScanStart {
  if (!isObject(value)) return false;
  switch (value.kind) {
    case 'earliest':
    case 'tail':
      return true;
    case 'newest':
      return isWhole(value.count, 1, MAX_NEWEST);
    case 'timestamp':
      return typeof value.timestampMs === 'number' && Number.isFinite(value.timestampMs);
    case 'offsets':
      return (
        isObject(value.offsets) &&
        Object.entries(value.offsets).every(([p, o]) => /^\d+$/.test(p) && isWhole(o, 0, Number.MAX_SAFE_INTEGER))
      );
    default:
      return false;
  }
}

export function parseBrowseAt(raw: unknown): BrowseAt | undefined {
  if (!isObject(raw) || typeof raw.topic !== 'string' || raw.topic.length === 0 || !isStart(raw.start)) return undefined;
  if (raw.partitions !== undefined && !(Array.isArray(raw.partitions) && raw.partitions.every((p) => isWhole(p, 0, 999_999))))
    return undefined;
  if (raw.where !== undefined && (typeof raw.where !== 'string' || raw.where.length > MAX_WHERE_LENGTH)) return undefined;
  if (raw.limit !== undefined && !isWhole(raw.limit, 1, MAX_LIMIT)) return undefined;
  if (!optionalTime(raw.sinceMs) || !optionalTime(raw.untilMs)) return undefined;
  if (raw.note !== undefined && typeof raw.note !== 'string') return undefined;
  return raw as unknown as BrowseAt;
}

/** The form a link fills in: its start, partitions and filter over the defaults. */
export function formOfBrowseAt(at: BrowseAt, known: number[]): BrowserForm {
  const form = defaultForm(known, at.partitions);
  form.where = at.where ?? '';
  form.limit = at.limit ?? form.limit;
  form.sinceMs = at.sinceMs;
  form.untilMs = at.untilMs;
  const start = at.start;
  form.start = start.kind === 'timestamp' ? 'timestamp' : start.kind;
  if (start.kind === 'newest') form.newestCount = start.count;
  if (start.kind === 'timestamp') form.time = formatUtcInput(start.timestampMs);
  if (start.kind === 'offsets') form.offsets = Object.fromEntries(Object.entries(start.offsets).map(([p, o]) => [String(p), o]));
  return form;
}

/**
 * What a results-view row posts to open the browser: a dead letter's record (its partition and offset), or an
 * alert's source event (its id and sensor, the event's time).
 */
export type RecordLinkMessage =
  { type: 'showRecord'; partition: number; offset: number } | { type: 'showAlertSource'; eventId: string; sensorId: string; ts: number };

export function parseRecordLink(raw: unknown): RecordLinkMessage | undefined {
  if (!isObject(raw)) return undefined;
  if (raw.type === 'showRecord')
    return isWhole(raw.partition, 0, 999_999) && isWhole(raw.offset, 0, Number.MAX_SAFE_INTEGER)
      ? { type: 'showRecord', partition: raw.partition, offset: raw.offset }
      : undefined;
  if (raw.type === 'showAlertSource')
    return typeof raw.eventId === 'string' &&
      raw.eventId.length <= 1000 &&
      typeof raw.sensorId === 'string' &&
      raw.sensorId.length <= 1000 &&
      typeof raw.ts === 'number' &&
      Number.isFinite(raw.ts)
      ? { type: 'showAlertSource', eventId: raw.eventId, sensorId: raw.sensorId, ts: raw.ts }
      : undefined;
  return undefined;
}

/** How far before an alert's event time its record is looked for: the generator's late events arrive after their `ts`. */
export const ALERT_LOOKBACK_MS = 5 * 60_000;

/** Where a results-view link opens the browser on the pipeline's topic. */
export function browseAtOfLink(link: RecordLinkMessage, topic: string): BrowseAt {
  if (link.type === 'showRecord')
    return {
      topic,
      start: { kind: 'offsets', offsets: { [link.partition]: link.offset } },
      partitions: [link.partition],
      limit: 5,
      note: `The dead letter's record: partition ${link.partition}, offset ${link.offset} (the first row), and the records after it.`,
    };
  return {
    topic,
    start: { kind: 'timestamp', timestampMs: Math.max(0, link.ts - ALERT_LOOKBACK_MS) },
    // ->> gives the text (json.event_id is JSON, and a JSON string does not equal a VARCHAR literal). In brackets:
    // DuckDB binds ->> more loosely than AND and =, so `k = 'a' AND json->>'e' = 'x'` reads ((k = 'a' AND json) ->> 'e') = 'x'.
    where: `key = ${sqlString(link.sensorId)} AND (json->>'event_id') = ${sqlString(link.eventId)}`,
    limit: 1,
    note: `The alert's source event: ${link.eventId} of ${link.sensorId}, looked for from 5 minutes before its time.`,
  };
}

/** A SQL string literal: the text between single quotes, its quotes doubled. */
export function sqlString(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}
