// The chaos suite's own oracle, as plain data: what the input topic asks for per (sensor, window), what the committed files hold, the difference.

/**
 * Why this file exists: `ResultsStore.verify` is a product feature, so it cannot also be the judge of the product.
 * Nothing here imports `results/`; the events are parsed, the windows cut and the files read by code of its own.
 */

/** The header that marks the generator's control records (data_generator.py CONTROL_HEADER): never data. */
export const CONTROL_HEADER = 'pipeline-control';

/** One line that says under the chaos table what its lost/duplicated columns were measured against. */
export const ORACLE_LINE = 'lost/duplicated: committed files vs. the input topic, per sensor and window (not `pipeline verify`)';

export interface TopicRecord {
  value: Buffer | string | null;
  headers?: Record<string, unknown>;
}

export interface ValidEvent {
  eventId: string;
  sensorId: string;
  ts: number;
}

/** What the input topic asks of the job: every data record once, in its (sensor, window) or among the malformed. */
export interface Expectation {
  windowMs: number;
  /** Data records read (control records left out). */
  records: number;
  controlRecords: number;
  perKey: Map<string, number>;
  malformed: number;
  /** Extra copies of an event_id already seen in the topic: a producer's doubling, not the job's. */
  topicDuplicates: number;
}

/** What the committed files hold, one aggregate format at a time. */
export interface Committed {
  csv: Map<string, number>;
  json: Map<string, number>;
  csvFiles: number;
  jsonFiles: number;
  /** Dead-letter rows whose `raw` is a valid event, by its window. */
  deadLetter: Map<string, number>;
  deadLetterMalformed: number;
  deadLetterRows: number;
  /** Lines that could not be read (a file cut short, a header that is not ours). */
  problems: string[];
}

export interface Difference {
  lost: number;
  duplicated: number;
  /** Keys that differ, a few, for the note. */
  examples: string[];
}

export interface OracleReport {
  events: number;
  lost: number;
  duplicated: number;
  csv: Difference;
  json: Difference;
  /** Events committed: the worse format's aggregated events plus every dead-letter row. */
  committed: number;
  notes: string[];
}

const REQUIRED = ['event_id', 'sensor_id', 'ts', 'temperature', 'humidity', 'pressure', 'battery', 'seq'] as const;

function numeric(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string' && /^\s*-?\d+(\.\d+)?([eE][-+]?\d+)?\s*$/.test(v)) return Number(v);
  return undefined;
}

/**
 * A sensor event as the contract (data_generator.py, DESIGN.md) describes it: a JSON object with every field, ids as
 * non-empty text, `ts` a positive integer (epoch ms), `seq` a non-negative integer, the measures finite numbers
 * (numbers may come as numeric text). Anything else is malformed.
 */
export function parseEvent(value: Buffer | string | null | undefined): ValidEvent | undefined {
  if (value === null || value === undefined) return undefined;
  let o: unknown;
  try {
    o = JSON.parse(typeof value === 'string' ? value : value.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return undefined;
  const r = o as Record<string, unknown>;
  for (const f of REQUIRED) if (r[f] === null || r[f] === undefined || typeof r[f] === 'object') return undefined;
  const id = (v: unknown) => (typeof v === 'string' ? v : String(v));
  const eventId = id(r.event_id);
  const sensorId = id(r.sensor_id);
  if (!eventId.trim() || !sensorId.trim()) return undefined;
  const ts = numeric(r.ts);
  const seq = numeric(r.seq);
  if (ts === undefined || !Number.isInteger(ts) || ts <= 0) return undefined;
  if (seq === undefined || !Number.isInteger(seq) || seq < 0) return undefined;
  for (const f of ['temperature', 'humidity', 'pressure', 'battery'] as const) if (numeric(r[f]) === undefined) return undefined;
  return { eventId, sensorId, ts };
}

/** The key of a tumbling window aligned to the epoch (the job runs in UTC). */
export function windowKey(sensorId: string, ts: number, windowMs: number): string {
  return `${sensorId}@${new Date(Math.floor(ts / windowMs) * windowMs).toISOString()}`;
}

function isControl(record: TopicRecord): boolean {
  return record.headers !== undefined && record.headers[CONTROL_HEADER] !== undefined;
}

function add(map: Map<string, number>, key: string, n = 1): void {
  map.set(key, (map.get(key) ?? 0) + n);
}

/** Counts the topic's records per (sensor, window); `records` is every record from the earliest offset to the end. */
export async function expectationFrom(records: AsyncIterable<TopicRecord> | Iterable<TopicRecord>, windowMs: number): Promise<Expectation> {
  const e: Expectation = { windowMs, records: 0, controlRecords: 0, perKey: new Map(), malformed: 0, topicDuplicates: 0 };
  const seen = new Set<string>();
  for await (const record of records) {
    if (isControl(record)) {
      e.controlRecords++;
      continue;
    }
    e.records++;
    const event = parseEvent(record.value);
    if (!event) {
      e.malformed++;
      continue;
    }
    if (seen.has(event.eventId)) e.topicDuplicates++;
    else seen.add(event.eventId);
    add(e.perKey, windowKey(event.sensorId, event.ts, windowMs));
  }
  return e;
}

export function emptyCommitted(): Committed {
  return {
    csv: new Map(),
    json: new Map(),
    csvFiles: 0,
    jsonFiles: 0,
    deadLetter: new Map(),
    deadLetterMalformed: 0,
    deadLetterRows: 0,
    problems: [],
  };
}

/** The fields of one CSV line (RFC 4180: quotes around a field with a comma, a quote or a line break; "" for a quote). */
export function csvFields(line: string): string[] {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (line[i] === '"') {
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q < 0) throw new Error('unterminated quote');
        field += line.slice(i, q);
        i = q + 1;
        if (line[i] === '"') {
          field += '"';
          i++;
        } else break;
      }
    } else {
      const c = line.indexOf(',', i);
      field = line.slice(i, c < 0 ? line.length : c);
      i = c < 0 ? line.length : c;
    }
    fields.push(field);
    if (i >= line.length) return fields;
    if (line[i] !== ',') throw new Error(`unexpected character after a quoted field at ${i}`);
    i++;
  }
}

/** Splits into logical CSV records: a line break inside quotes belongs to the field. */
function csvRecords(text: string): string[] {
  const records: string[] = [];
  let current = '';
  for (const line of text.split('\n')) {
    current = current ? `${current}\n${line}` : line;
    if ((current.match(/"/g)?.length ?? 0) % 2 === 0) {
      records.push(current.replace(/\r$/, ''));
      current = '';
    }
  }
  if (current) records.push(current);
  return records.filter((r) => r.length > 0);
}

function windowStartIso(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const ms = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(value) ? value : `${value.replace(' ', 'T')}Z`);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

function addAggregate(into: Map<string, number>, sensor: unknown, start: unknown, count: unknown, where: string, problems: string[]): void {
  const iso = windowStartIso(start);
  const n = numeric(count);
  if (typeof sensor !== 'string' || !iso || n === undefined || !Number.isInteger(n)) {
    problems.push(`${where}: not an aggregate row`);
    return;
  }
  add(into, `${sensor}@${iso}`, n);
}

/** Adds one committed aggregate CSV file (a header, then one row per sensor and window). */
export function addAggregateCsv(c: Committed, name: string, text: string): void {
  const [header, ...rows] = csvRecords(text);
  c.csvFiles++;
  if (header === undefined) return;
  const cols = csvFields(header);
  const [s, w, n] = ['sensor_id', 'window_start', 'event_count'].map((h) => cols.indexOf(h));
  if (s < 0 || w < 0 || n < 0) {
    c.problems.push(`${name}: the header has no sensor_id, window_start and event_count`);
    return;
  }
  rows.forEach((row, i) => {
    let f: string[];
    try {
      f = csvFields(row);
    } catch (error) {
      c.problems.push(`${name}:${i + 2}: ${(error as Error).message}`);
      return;
    }
    addAggregate(c.csv, f[s], f[w], f[n], `${name}:${i + 2}`, c.problems);
  });
}

function jsonLines(c: Committed, name: string, text: string, each: (o: Record<string, unknown>, where: string) => void): void {
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let o: unknown;
    try {
      o = JSON.parse(line);
    } catch {
      c.problems.push(`${name}:${i + 1}: not JSON`);
      return;
    }
    if (typeof o !== 'object' || o === null || Array.isArray(o)) c.problems.push(`${name}:${i + 1}: not a JSON object`);
    else each(o as Record<string, unknown>, `${name}:${i + 1}`);
  });
}

/** Adds one committed aggregate JSON-lines file. */
export function addAggregateJson(c: Committed, name: string, text: string): void {
  c.jsonFiles++;
  jsonLines(c, name, text, (o, where) => addAggregate(c.json, o.sensor_id, o.window_start, o.event_count, where, c.problems));
}

/** Adds one committed dead-letter file: a row whose `raw` is a valid event counts in that event's window. */
export function addDeadLetter(c: Committed, name: string, text: string, windowMs: number): void {
  jsonLines(c, name, text, (o) => {
    c.deadLetterRows++;
    const event = typeof o.raw === 'string' && !o.raw_base64 ? parseEvent(o.raw) : undefined;
    if (event) add(c.deadLetter, windowKey(event.sensorId, event.ts, windowMs));
    else c.deadLetterMalformed++;
  });
}

function difference(expected: Map<string, number>, got: Map<string, number>): Difference {
  const d: Difference = { lost: 0, duplicated: 0, examples: [] };
  for (const key of new Set([...expected.keys(), ...got.keys()])) {
    const want = expected.get(key) ?? 0;
    const have = got.get(key) ?? 0;
    d.lost += Math.max(0, want - have);
    d.duplicated += Math.max(0, have - want);
    if (want !== have && d.examples.length < 3) d.examples.push(`${key} ${have} of ${want}`);
  }
  return d;
}

function sum(map: Map<string, number>): number {
  let n = 0;
  for (const v of map.values()) n += v;
  return n;
}

/** Events committed so far: the aggregated events of the format that has fewer, plus every dead-letter row. */
export function committedTotal(committed: Committed): number {
  return Math.min(sum(committed.csv), sum(committed.json)) + committed.deadLetterRows;
}

/**
 * Per (sensor, window): lost = expected − committed where short, duplicated = committed − expected where over; the
 * dead-letter rows count with each aggregate format, the malformed as one more key. The worse of CSV and JSON decides.
 */
export function compare(expected: Expectation, committed: Committed, generatorSent?: number): OracleReport {
  const want = new Map(expected.perKey);
  want.set('(malformed)', expected.malformed);
  const withDeadLetter = (agg: Map<string, number>) => {
    const m = new Map(agg);
    for (const [k, v] of committed.deadLetter) add(m, k, v);
    add(m, '(malformed)', committed.deadLetterMalformed);
    return m;
  };
  const csv = difference(want, withDeadLetter(committed.csv));
  const json = difference(want, withDeadLetter(committed.json));
  const notes: string[] = [];
  if (committed.csvFiles === 0 || committed.jsonFiles === 0)
    notes.push(`committed aggregate files: ${committed.csvFiles} CSV, ${committed.jsonFiles} JSON`);
  for (const [name, d] of [
    ['CSV', csv],
    ['JSON', json],
  ] as const)
    if (d.examples.length) notes.push(`${name} differs from the topic, e.g. ${d.examples.join(', ')}`);
  if (expected.topicDuplicates)
    notes.push(`the topic holds ${expected.topicDuplicates} extra copies of an event_id (the producer's, not the job's)`);
  if (generatorSent !== undefined && generatorSent !== expected.records)
    notes.push(`the generator's manifest says ${generatorSent} sent, the topic holds ${expected.records}`);
  if (committed.problems.length) notes.push(`${committed.problems.length} unreadable lines, e.g. ${committed.problems[0]}`);
  return {
    events: expected.records,
    lost: Math.max(csv.lost, json.lost),
    duplicated: Math.max(csv.duplicated, json.duplicated),
    csv,
    json,
    committed: committedTotal(committed),
    notes,
  };
}
