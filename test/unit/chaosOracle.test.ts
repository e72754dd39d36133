import * as assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatChaosTable } from '../../src/cli/chaos/chaosCli';
import { compare, csvFields, expectationFrom, parseEvent, windowKey, type TopicRecord } from '../../src/cli/chaos/oracle';
import { judge, readCommitted } from '../../src/cli/chaos/oracleSources';

const WINDOW = 10_000;
const T0 = Date.UTC(2026, 0, 1, 10, 0, 0); // 10:00:00.000, a window start
const iso = (ms: number) => new Date(ms).toISOString();

function event(sensor: string, seq: number, ts: number, id = `run-${sensor}-${seq}`): string {
  return JSON.stringify({ event_id: id, sensor_id: sensor, ts, temperature: 21.5, humidity: 40.1, pressure: 1012, battery: 0.9, seq });
}
const data = (value: string | null): TopicRecord => ({ value: value === null ? null : Buffer.from(value) });
const sentinel = (p: number): TopicRecord => ({
  value: Buffer.from(event('__watermark__', 0, T0 + 60_000, `__watermark__-run-${p}`)),
  headers: { 'pipeline-control': Buffer.from('watermark') },
});

/** Four events of sensor-001 in 10:00:00–10:00:10, two in 10:00:10–10:00:20, one of sensor-002; a malformed record; the sentinels. */
function topic(): TopicRecord[] {
  return [
    ...[0, 1, 2, 3].map((i) => data(event('sensor-001', i, T0 + i * 2000))),
    ...[4, 5].map((i) => data(event('sensor-001', i, T0 + 10_000 + i))),
    data(event('sensor-002', 0, T0 + 9_999)),
    data('{"event_id":"x","sensor_id":"sensor-002","ts":'),
    sentinel(0),
    sentinel(1),
  ];
}

interface Row {
  sensor: string;
  start: number;
  count: number;
}
const HEADER = 'sensor_id,window_start,window_end,event_count,avg_temperature,min_temperature,max_temperature,avg_humidity,anomaly_count';
const csv = (rows: Row[]) =>
  [HEADER, ...rows.map((r) => `${r.sensor},${iso(r.start)},${iso(r.start + WINDOW)},${r.count},21.5,21.5,21.5,40.1,0`)].join('\n') + '\n';
const jsonl = (rows: Row[]) =>
  rows
    .map((r) =>
      JSON.stringify({
        sensor_id: r.sensor,
        window_start: iso(r.start),
        window_end: iso(r.start + WINDOW),
        event_count: r.count,
        avg_temperature: 21.5,
        min_temperature: 21.5,
        max_temperature: 21.5,
        avg_humidity: 40.1,
        anomaly_count: 0,
      }),
    )
    .join('\n') + '\n';
const deadLetter = (raws: string[], error = 'late') =>
  raws.map((raw, i) => JSON.stringify({ raw, raw_base64: null, error, partition: 0, offset: i })).join('\n') + '\n';

const ALL: Row[] = [
  { sensor: 'sensor-001', start: T0, count: 4 },
  { sensor: 'sensor-001', start: T0 + 10_000, count: 2 },
  { sensor: 'sensor-002', start: T0, count: 1 },
];
const MALFORMED = deadLetter(['{"event_id":"x","sensor_id":"sensor-002","ts":'], 'invalid JSON');

describe('the chaos oracle: the input topic against the committed files, per sensor and window', () => {
  let out: string;
  const write = (path: string, text: string) => {
    mkdirSync(join(out, path, '..'), { recursive: true });
    writeFileSync(join(out, path), text);
  };
  /** The job's layout: one bucket folder, a CSV and a JSON-lines part per checkpoint, dead-letter apart. */
  const committedRun = (first: Row[], second: Row[] = []) => {
    write('aggregates/2026-01-01--10/part-a1-0.csv', csv(first));
    write('aggregates/2026-01-01--10/part-b1-0.jsonl', jsonl(first));
    if (second.length) {
      write('aggregates/2026-01-01--10/part-a1-1.csv', csv(second));
      write('aggregates/2026-01-01--10/part-b1-1.jsonl', jsonl(second));
    }
    write('dead-letter/2026-01-01--10/part-c1-0.jsonl', MALFORMED);
  };
  const expected = () => expectationFrom(topic(), WINDOW);

  beforeEach(() => (out = mkdtempSync(join(tmpdir(), 'kfl-oracle-'))));
  afterEach(() => rmSync(out, { recursive: true, force: true }));

  it('reads the topic: data records counted, control records left out, windows cut at epoch multiples', async () => {
    const e = await expectationFrom(
      (async function* () {
        yield* topic();
      })(),
      WINDOW,
    );
    assert.equal(e.records, 8);
    assert.equal(e.controlRecords, 2);
    assert.equal(e.malformed, 1);
    assert.deepEqual(
      [...e.perKey],
      [
        [`sensor-001@${iso(T0)}`, 4],
        [`sensor-001@${iso(T0 + 10_000)}`, 2],
        [`sensor-002@${iso(T0)}`, 1],
      ],
    );
    assert.equal(windowKey('s', T0 + 9_999, WINDOW), `s@${iso(T0)}`);
    assert.equal(windowKey('s', T0 + 10_000, WINDOW), `s@${iso(T0 + 10_000)}`);
  });

  it('everything committed once: 0 lost, 0 duplicated, the events the topic holds', async () => {
    committedRun(ALL.slice(0, 1), ALL.slice(1));
    const r = judge(await expected(), out, 8);
    assert.deepEqual([r.events, r.lost, r.duplicated, r.notes], [8, 0, 0, []]);
    assert.equal(r.committed, 8);
  });

  it('a lost window: its events are lost', async () => {
    committedRun(ALL.slice(0, 1), ALL.slice(2)); // sensor-001's second window (2 events) never committed
    const r = judge(await expected(), out);
    assert.deepEqual([r.lost, r.duplicated], [2, 0]);
    assert.match(r.notes.join(), /sensor-001@2026-01-01T10:00:10.000Z 0 of 2/);
  });

  it('a doubled committed file: duplicated in that format, and the worse format decides', async () => {
    committedRun(ALL.slice(0, 1), ALL.slice(1));
    copyFileSync(join(out, 'aggregates/2026-01-01--10/part-a1-1.csv'), join(out, 'aggregates/2026-01-01--10/part-a1-1-copy.csv'));
    const r = judge(await expected(), out);
    assert.deepEqual([r.csv.duplicated, r.json.duplicated], [3, 0]);
    assert.deepEqual([r.lost, r.duplicated], [0, 3]);
  });

  it('a doubled row inside one file: duplicated', async () => {
    committedRun([...ALL, ALL[2]]);
    const r = judge(await expected(), out);
    assert.deepEqual([r.lost, r.duplicated], [0, 1]);
  });

  it('a window split over two rows (two partial counts) is not a duplicate', async () => {
    committedRun([ALL[0], { ...ALL[1], count: 1 }, ALL[2]], [{ ...ALL[1], count: 1 }]);
    assert.deepEqual([judge(await expected(), out).lost, judge(await expected(), out).duplicated], [0, 0]);
  });

  it('an in-progress dot-file is not committed: its rows count neither as found nor as doubled', async () => {
    committedRun(ALL.slice(0, 1));
    write('aggregates/2026-01-01--10/.part-a1-1.csv.inprogress.0d3f', csv(ALL)); // every row, and more
    write('aggregates/2026-01-01--10/.part-b1-1.jsonl.inprogress.77aa', jsonl(ALL));
    write('aggregates/.hidden-bucket/part-x.csv', csv(ALL));
    const r = judge(await expected(), out);
    assert.deepEqual([r.lost, r.duplicated], [3, 0]);
    assert.equal(readCommitted(out, WINDOW).csvFiles, 1);
  });

  it('a late event in dead-letter counts in its own window; in another window it is lost there and doubled here', async () => {
    committedRun([{ ...ALL[0], count: 3 }, ...ALL.slice(1)]);
    write('dead-letter/2026-01-01--10/part-c1-1.jsonl', deadLetter([event('sensor-001', 3, T0 + 6000)]));
    assert.deepEqual([judge(await expected(), out).lost, judge(await expected(), out).duplicated], [0, 0]);
    write('dead-letter/2026-01-01--10/part-c1-1.jsonl', deadLetter([event('sensor-001', 3, T0 + 16_000)]));
    assert.deepEqual([judge(await expected(), out).lost, judge(await expected(), out).duplicated], [1, 1]);
  });

  it('a malformed record missing from dead-letter is lost; one more there is doubled', async () => {
    committedRun(ALL);
    write('dead-letter/2026-01-01--10/part-c1-0.jsonl', '');
    assert.deepEqual([judge(await expected(), out).lost, judge(await expected(), out).duplicated], [1, 0]);
    write('dead-letter/2026-01-01--10/part-c1-0.jsonl', MALFORMED + MALFORMED);
    assert.deepEqual([judge(await expected(), out).lost, judge(await expected(), out).duplicated], [0, 1]);
  });

  it("notes a producer's duplicate in the topic and a manifest that disagrees, without blaming the job", async () => {
    const records = [...topic(), data(event('sensor-002', 0, T0 + 9_999))];
    const e = await expectationFrom(records, WINDOW);
    assert.equal(e.topicDuplicates, 1);
    committedRun([...ALL.slice(0, 2), { ...ALL[2], count: 2 }]);
    const r = compare(e, readCommitted(out, WINDOW), 8);
    assert.deepEqual([r.events, r.lost, r.duplicated], [9, 0, 0]);
    assert.match(r.notes.join('; '), /1 extra copies of an event_id/);
    assert.match(r.notes.join('; '), /manifest says 8 sent, the topic holds 9/);
  });

  it('parses CSV fields with quotes, commas and doubled quotes', () => {
    assert.deepEqual(csvFields('a,"b,c","say ""hi""",,x'), ['a', 'b,c', 'say "hi"', '', 'x']);
    assert.deepEqual(csvFields(''), ['']);
    assert.throws(() => csvFields('"open'));
    // A sensor id with a comma in a quoted field still lands in its window.
    writeFileSync(join(out, 'x'), '');
    mkdirSync(join(out, 'aggregates'));
    writeFileSync(join(out, 'aggregates/part-0.csv'), `${HEADER}\n"sensor,1",${iso(T0)},${iso(T0 + WINDOW)},5,1,1,1,1,0\n`);
    assert.deepEqual([...readCommitted(out, WINDOW).csv], [[`sensor,1@${iso(T0)}`, 5]]);
  });

  it('tells a valid event from each kind of malformed record the generator makes', () => {
    assert.deepEqual(parseEvent(event('s', 1, T0)), { eventId: 'run-s-1', sensorId: 's', ts: T0 });
    const good = JSON.parse(event('s', 1, T0)) as Record<string, unknown>;
    const variant = (patch: Record<string, unknown>) => JSON.stringify({ ...good, ...patch });
    for (const bad of [
      '',
      '{"event_id":"a","sensor_id":"s","ts":17',
      JSON.stringify({ ...good, humidity: undefined }),
      variant({ temperature: 'n/a' }),
      variant({ ts: '12abc' }),
      variant({ ts: -5 }),
      variant({ seq: 1.5 }),
      variant({ sensor_id: ' ' }),
      variant({ battery: null }),
      '[1,2]',
    ])
      assert.equal(parseEvent(bad), undefined, bad);
    assert.equal(parseEvent(null), undefined);
    assert.deepEqual(parseEvent(variant({ ts: String(T0), temperature: '21.5' }))?.ts, T0, 'numbers as numeric text, as the job accepts');
  });

  it('the chaos table prints what the oracle read, a dash where a fault did not get that far, and names its oracle', () => {
    const lines = formatChaosTable([
      { fault: 'broker-restart', events: 20_000, lost: 0, duplicated: 0, recoverySeconds: 17.46 },
      { fault: 'job-kill-x3', events: NaN, lost: NaN, duplicated: NaN, note: 'did not complete: no broker' },
    ]);
    assert.deepEqual(
      lines.map((l) => l.split(/\s{2,}/).slice(0, 5)),
      [
        ['fault', 'events', 'lost', 'duplicated', 'recovery s'],
        ['broker-restart', '20000', '0', '0', '17.5'],
        ['job-kill-x3', '-', '-', '-', '-'],
        ['lost/duplicated: committed files vs. the input topic, per sensor and window (not `pipeline verify`)'],
      ],
    );
  });
});
