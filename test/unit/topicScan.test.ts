import * as assert from 'node:assert/strict';
import { UserError } from '../../src/shared/errors';
import { GapList, parseScanStart, planScan, scanFinished, TAIL_END, TimeHistogram } from '../../src/kafka/scanPlan';
import { BatchFilter, FilterError, filterWorkerPath, type FilterInput } from '../../src/kafka/scanFilter';
import { filterColumns } from '../../src/kafka/scanFilterDb';
import { browseAtOfLink, parseRecordLink } from '../../src/views/messageBrowserProtocol';
import { SCAN_GROUP_PREFIX } from '../../src/kafka/topicScan';

const offsets = [
  { partition: 0, low: 0, high: 100 },
  { partition: 1, low: 40, high: 45 },
  { partition: 2, low: 7, high: 7 },
];
const req = (start: Parameters<typeof planScan>[1]['start'], partitions: number[] | 'all' = 'all') => ({ topic: 't', partitions, start });

describe('topic scan: where each partition starts and ends', () => {
  it('earliest reads [low, end) of every partition', () => {
    assert.deepEqual(planScan(offsets, req({ kind: 'earliest' })), [
      { partition: 0, position: 0, end: 100 },
      { partition: 1, position: 40, end: 45 },
      { partition: 2, position: 7, end: 7 },
    ]);
  });

  it('newest-N is the last N offsets of each chosen partition, never before low', () => {
    assert.deepEqual(planScan(offsets, req({ kind: 'newest', count: 10 }, [1, 0])), [
      { partition: 0, position: 90, end: 100 },
      { partition: 1, position: 40, end: 45 },
    ]);
    assert.throws(() => planScan(offsets, req({ kind: 'newest', count: 0 })), UserError);
  });

  it('offsets are clamped into [low, end]; a partition not named starts at its low', () => {
    assert.deepEqual(planScan(offsets, req({ kind: 'offsets', offsets: { 0: 500, 1: 3 } })), [
      { partition: 0, position: 100, end: 100 },
      { partition: 1, position: 40, end: 45 },
      { partition: 2, position: 7, end: 7 },
    ]);
    assert.deepEqual(planScan(offsets, req({ kind: 'offsets', offsets: { 0: 42 } }, [0])), [{ partition: 0, position: 42, end: 100 }]);
  });

  it('a timestamp starts at the offset Kafka found; nothing newer (-1 or none) starts at the end', () => {
    const found = new Map([
      [0, 60],
      [1, -1],
    ]);
    assert.deepEqual(planScan(offsets, req({ kind: 'timestamp', timestampMs: 1 }), { timestampOffsets: found }), [
      { partition: 0, position: 60, end: 100 },
      { partition: 1, position: 45, end: 45 },
      { partition: 2, position: 7, end: 7 },
    ]);
  });

  it('a tail starts at the end and has none', () => {
    assert.deepEqual(planScan(offsets, req({ kind: 'tail' }, [0])), [{ partition: 0, position: 100, end: TAIL_END }]);
    assert.equal(scanFinished([{ partition: 0, position: 100, end: TAIL_END }]), false);
  });

  it('a cursor carries its positions and the ends fixed at the first page, whatever the offsets say now', () => {
    const cursor = {
      positions: [
        { partition: 1, position: 43, end: 45 },
        { partition: 0, position: 10, end: 50 },
      ],
    };
    assert.deepEqual(planScan(offsets, req({ kind: 'earliest' }), { cursor }), [
      { partition: 0, position: 10, end: 50 },
      { partition: 1, position: 43, end: 45 },
    ]);
    assert.equal(scanFinished(cursor.positions), false);
    assert.equal(scanFinished([{ partition: 0, position: 50, end: 50 }]), true);
  });

  it('refuses partitions the topic does not have, naming them', () => {
    assert.throws(() => planScan(offsets, req({ kind: 'earliest' }, [0, 7, 9])), /no partition 7, 9 \(it has 3/);
  });
});

describe('topic scan: --from', () => {
  it('reads earliest, beginning, newest-N, tail, a time and offsets as job replay does', () => {
    assert.deepEqual(parseScanStart('beginning'), { kind: 'earliest' });
    assert.deepEqual(parseScanStart('earliest'), { kind: 'earliest' });
    assert.deepEqual(parseScanStart('newest-25'), { kind: 'newest', count: 25 });
    assert.deepEqual(parseScanStart('tail'), { kind: 'tail' });
    assert.deepEqual(parseScanStart('2026-01-01T12:00:00.000Z'), { kind: 'timestamp', timestampMs: Date.UTC(2026, 0, 1, 12) });
    assert.deepEqual(parseScanStart('1764064800123'), { kind: 'timestamp', timestampMs: 1764064800123 });
    assert.deepEqual(parseScanStart('0:120,1:98'), { kind: 'offsets', offsets: { 0: 120, 1: 98 } });
    assert.throws(() => parseScanStart('newest-0'), UserError);
    assert.throws(() => parseScanStart('yesterday'), /not earliest, newest-N, tail/);
    assert.throws(() => parseScanStart('0:1,x'), UserError);
  });
});

describe('topic scan: gaps', () => {
  it('merges gaps that touch or overlap in one partition, keeps partitions apart, sorts', () => {
    const gaps = new GapList();
    gaps.add(1, 10, 10);
    gaps.add(1, 11, 12);
    gaps.add(0, 5, 5);
    gaps.add(1, 14, 14);
    gaps.add(0, 6, 6);
    gaps.add(1, 3, 2); // empty: ignored
    assert.deepEqual(gaps.sorted(), [
      { partition: 0, from: 5, to: 6 },
      { partition: 1, from: 10, to: 12 },
      { partition: 1, from: 14, to: 14 },
    ]);
  });

  it('holds at most its cap and counts the rest', () => {
    const gaps = new GapList(3);
    for (let i = 0; i < 10; i++) gaps.add(0, i * 10, i * 10);
    assert.equal(gaps.gaps.length, 3);
    assert.equal(gaps.omitted, 7);
  });
});

describe('topic scan: the time histogram', () => {
  it('counts scanned and matched per bucket, empty buckets in between included', () => {
    const h = new TimeHistogram(1000, 120);
    h.add(10_500, true);
    h.add(10_900, false);
    h.add(13_000, true);
    assert.deepEqual(h.snapshot(), {
      widthMs: 1000,
      buckets: [
        { startMs: 10_000, all: 2, matched: 1 },
        { startMs: 11_000, all: 0, matched: 0 },
        { startMs: 12_000, all: 0, matched: 0 },
        { startMs: 13_000, all: 1, matched: 1 },
      ],
    });
  });

  it('widens by doubling when the span outgrows its buckets, keeping every count', () => {
    const h = new TimeHistogram(1000, 10);
    for (let s = 0; s < 100; s++) h.add(s * 1000 + 1, s % 3 === 0);
    const { widthMs, buckets } = h.snapshot();
    assert.equal(widthMs, 16_000);
    assert.ok(buckets.length <= 10);
    assert.equal(
      buckets.reduce((n, b) => n + b.all, 0),
      100,
    );
    assert.equal(
      buckets.reduce((n, b) => n + b.matched, 0),
      34,
    );
    assert.deepEqual(buckets[0], { startMs: 0, all: 16, matched: 6 });
    for (const b of buckets) assert.equal(b.startMs % widthMs, 0);
  });

  it('a batch added at once counts as its records added one by one, out of order and widening on the way', () => {
    const timestamps = Float64Array.from([500, 900, 1200, 40_000, 40_100, 300, NaN, -5, 40_100, 90_000, 90_500, 1_000]);
    const matched = Uint8Array.from([1, 0, 1, 1, 1, 0, 1, 1, 0, 0, 1, 1]);
    for (const count of [timestamps.length, 9, 0]) {
      const one = new TimeHistogram(1000, 30);
      for (let i = 0; i < count; i++) one.add(timestamps[i], matched[i] === 1);
      const all = new TimeHistogram(1000, 30);
      all.addAll(timestamps, matched, count);
      assert.deepEqual(all.snapshot(), one.snapshot(), `first ${count}`);
    }
  });
});

describe('topic scan: the WHERE (real DuckDB)', () => {
  const input = (
    offset: number,
    timestampMs: number,
    key: string | null,
    value: string | Buffer | null,
    headersJson: string | null,
    size: number,
  ): FilterInput => ({
    offset,
    timestampMs,
    key: key === null ? null : Buffer.from(key),
    value: value === null ? null : Buffer.from(value),
    headersJson: () => headersJson,
    size,
  });
  const rows: FilterInput[] = [
    input(1, 1_764_064_800_000, 'sensor-007', '{"temperature": 31.5}', '{"trace":"a"}', 10),
    input(2, 1_764_064_801_000, 'sensor-007', '{"temperature": 20}', null, 10),
    input(3, 1_764_064_802_000, 'sensor-001', '{"temperature": 40}', null, 10),
    input(4, 1_764_064_803_000, null, 'not json', null, 8),
    input(5, 1_764_064_804_000, null, Buffer.from([0xff, 0xfe]), null, 2),
  ];

  async function matches(where: string | undefined, partition = 0): Promise<number[]> {
    const filter = await BatchFilter.open(where);
    try {
      return await filter.match(partition, rows);
    } finally {
      await filter.close();
    }
  }

  it('runs an expression over the columns the browser names', async () => {
    assert.deepEqual(await matches("json.temperature::DOUBLE > 30 AND key = 'sensor-007'"), [0]);
    assert.deepEqual(await matches('json IS NULL'), [3, 4]);
    assert.deepEqual(await matches("headers['trace'] = 'a'"), [0]);
    assert.deepEqual(await matches("kafka_timestamp >= TIMESTAMP '2025-11-25 10:00:02'"), [2, 3, 4]);
    assert.deepEqual(await matches('kafka_partition = 1 AND kafka_offset = 4 AND size = 8', 1), [3]);
    assert.deepEqual(await matches('kafka_partition = 1 AND kafka_offset = 4 AND size = 8', 0), []);
    assert.deepEqual(await matches(undefined), [0, 1, 2, 3, 4]);
    assert.deepEqual(await matches('  '), [0, 1, 2, 3, 4]);
  });

  it('a value that is not UTF-8 is its base64 text, as the browser shows it; empty, null and non-ASCII text as they are', async () => {
    assert.deepEqual(await matches("value = '//4='"), [4]);
    const filter = await BatchFilter.open(
      "(key = '' AND value = '') OR (key IS NULL AND value IS NULL) OR (key = 'é' AND (json->>'a') = 'ü')",
    );
    try {
      const odd = [
        input(1, 0, '', '', null, 0),
        input(2, 0, null, null, null, 0),
        input(3, 0, 'é', '{"a":"ü"}', null, 11),
        input(4, 0, 'e', '', null, 1),
      ];
      assert.deepEqual(await filter.match(0, odd), [0, 1, 2]);
    } finally {
      await filter.close();
    }
  });

  it('builds only the columns the WHERE names, and every one for *, COLUMNS, #n or the row itself', async () => {
    const named = async (where: string) => {
      const filter = await BatchFilter.open(where);
      await filter.close();
      return filter.columns;
    };
    assert.deepEqual(await named('json.temperature::DOUBLE > 35'), { key: false, value: true, headers: false });
    assert.deepEqual(await named("batch.KEY = 'x' AND kafka_offset > 3"), { key: true, value: false, headers: false });
    assert.deepEqual(await named("headers['a'] IS NULL"), { key: false, value: false, headers: true });
    for (const all of ["COLUMNS('k.*') = 'x'", "#6 = 'x'", 'to_json(batch) IS NOT NULL'])
      assert.deepEqual(await named(all), { key: true, value: true, headers: true }, all);
    assert.deepEqual(filterColumns([]), { key: false, value: false, headers: false });
    // What they read is really there: COLUMNS over key and value (ANDed in a WHERE) finds the records with both.
    assert.deepEqual(await matches("COLUMNS('^(key|value)$') IS NOT NULL"), [0, 1, 2]);
    assert.deepEqual(await matches("#6 = 'not json'"), [3]);
  });

  it('batches handed over before the last answer come back in order, each with its own rows only', async () => {
    const filter = await BatchFilter.open('true');
    try {
      const answers = await Promise.all([filter.match(0, rows), filter.match(0, rows.slice(0, 1)), filter.match(0, rows.slice(2))]);
      assert.deepEqual(answers, [[0, 1, 2, 3, 4], [0], [0, 1, 2]]);
    } finally {
      await filter.close();
    }
  });

  it('a batch larger than a DuckDB chunk keeps each row’s own key, value and nulls across chunks', async () => {
    const many = Array.from({ length: 5000 }, (_, i) => input(1000 + i, i, i % 7 === 0 ? null : `k${i}`, `{"i":${i}}`, null, 9));
    const filter = await BatchFilter.open("key IS NULL OR (json.i::INTEGER = 4500 AND key = 'k4500' AND kafka_offset = 5500)");
    try {
      const expected = many.map((_, i) => i).filter((i) => i % 7 === 0 || i === 4500);
      assert.deepEqual(await filter.match(3, many), expected);
    } finally {
      await filter.close();
    }
  });

  it('a filter whose thread is missing says what to build', () => {
    assert.throws(() => filterWorkerPath('/nonexistent/dir'), /scanFilterWorker\.js\) is missing .*npm run build/);
  });

  it("an alert's Show the Source Event finds exactly its event (DuckDB binds ->> more loosely than AND)", async () => {
    const alert = parseRecordLink({ type: 'showAlertSource', eventId: "e'1", sensorId: 'sensor-007', ts: 1_000_000 });
    assert.ok(alert);
    const event = (id: string, key: string, offset: number): FilterInput =>
      input(offset, 1_000_000, key, JSON.stringify({ event_id: id, sensor_id: key, temperature: 80 }), null, 60);
    const filter = await BatchFilter.open(browseAtOfLink(alert, 'sensor-data').where);
    try {
      const batch = [event('other', 'sensor-007', 0), event("e'1", 'sensor-001', 1), event("e'1", 'sensor-007', 2), event('x', 'y', 3)];
      assert.deepEqual(await filter.match(0, batch), [2]);
    } finally {
      await filter.close();
    }
  });

  it('an expression that fails on a record says where, and is the filter’s error (shown under its box)', async () => {
    const filter = await BatchFilter.open('value::INTEGER > 0');
    try {
      await assert.rejects(
        filter.match(0, rows),
        (e: unknown) =>
          e instanceof FilterError && /^The filter failed on partition 0 near offset 1: .*TRY_CAST gives NULL/.test(e.message),
      );
    } finally {
      await filter.close();
    }
  });

  const refused: [string, RegExp][] = [
    ["key IN (SELECT column0 FROM read_csv('/etc/passwd'))", /read_csv\(\) reads files/],
    ["EXISTS (SELECT * FROM glob('*'))", /glob\(\) reads files/],
    ["EXISTS (FROM '/etc/passwd')", /not "\/etc\/passwd"/],
    ["true; COPY raw TO '/tmp/x.csv'", /cannot read the filter: syntax error at or near ";"/],
    ["true); COPY raw TO '/tmp/x.csv'; SELECT (1", /may not add statements of its own/],
    ['true); SELECT (1', /2 statements here/],
    ["true) UNION ALL SELECT 1 FROM read_csv('x') WHERE (true", /may not close the WHERE/],
    ['true) LIMIT (1', /may not close the WHERE/],
    ['EXISTS (WITH x AS (SELECT 1) SELECT * FROM x)', /(no WITH|not "x")/],
    ["EXISTS (SELECT * FROM query('SELECT 1'))", /query\(\) reads files/],
  ];
  for (const [where, why] of refused)
    it(`refuses ${where}`, async () => {
      await assert.rejects(BatchFilter.open(where), (e: unknown) => e instanceof FilterError && why.test(e.message));
    });

  it('a COPY statement is not an expression: DuckDB cannot read it', async () => {
    await assert.rejects(
      BatchFilter.open("COPY raw TO '/tmp/x.csv'"),
      (e: unknown) => e instanceof FilterError && /cannot read the filter/.test(e.message),
    );
  });

  it('a bad expression is refused with DuckDB’s words before anything is read', async () => {
    await assert.rejects(
      BatchFilter.open('temperature > 30'),
      (e: unknown) => e instanceof FilterError && /does not run: .*temperature/.test(e.message),
    );
    await assert.rejects(
      BatchFilter.open('key = '),
      (e: unknown) => e instanceof FilterError && /cannot read the filter: .*syntax error/i.test(e.message),
    );
  });

  it('the throw-away groups are recognisable', () => {
    assert.match(SCAN_GROUP_PREFIX, /^kafka-flink-lab-scan-$/);
  });
});
