import * as assert from 'node:assert/strict';
import { UserError } from '../../src/shared/errors';
import { GapList, parseScanStart, planScan, scanFinished, TAIL_END, TimeHistogram } from '../../src/kafka/scanPlan';
import { BatchFilter, FilterError, type FilterRow } from '../../src/kafka/scanFilter';
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
});

describe('topic scan: the WHERE (real DuckDB)', () => {
  const rows: FilterRow[] = [
    {
      partition: 0,
      offset: 1,
      timestampMs: 1_764_064_800_000,
      key: 'sensor-007',
      value: '{"temperature": 31.5}',
      headersJson: '{"trace":"a"}',
      size: 10,
    },
    {
      partition: 0,
      offset: 2,
      timestampMs: 1_764_064_801_000,
      key: 'sensor-007',
      value: '{"temperature": 20}',
      headersJson: null,
      size: 10,
    },
    {
      partition: 0,
      offset: 3,
      timestampMs: 1_764_064_802_000,
      key: 'sensor-001',
      value: '{"temperature": 40}',
      headersJson: null,
      size: 10,
    },
    { partition: 1, offset: 4, timestampMs: 1_764_064_803_000, key: null, value: 'not json', headersJson: null, size: 8 },
  ];

  async function matches(where: string | undefined): Promise<number[]> {
    const filter = await BatchFilter.open(where);
    try {
      return await filter.match(rows);
    } finally {
      filter.close();
    }
  }

  it('runs an expression over the columns the browser names', async () => {
    assert.deepEqual(await matches("json.temperature::DOUBLE > 30 AND key = 'sensor-007'"), [0]);
    assert.deepEqual(await matches('json IS NULL'), [3]);
    assert.deepEqual(await matches("headers['trace'] = 'a'"), [0]);
    assert.deepEqual(await matches("kafka_timestamp >= TIMESTAMP '2025-11-25 10:00:02'"), [2, 3]);
    assert.deepEqual(await matches('kafka_partition = 1 AND kafka_offset = 4 AND size = 8'), [3]);
    assert.deepEqual(await matches(undefined), [0, 1, 2, 3]);
    assert.deepEqual(await matches('  '), [0, 1, 2, 3]);
  });

  it('the batch is dropped after each match: a second batch sees only its own rows', async () => {
    const filter = await BatchFilter.open('true');
    try {
      assert.deepEqual(await filter.match(rows), [0, 1, 2, 3]);
      assert.deepEqual(await filter.match(rows.slice(0, 1)), [0]);
    } finally {
      filter.close();
    }
  });

  it("an alert's Show the Source Event finds exactly its event (DuckDB binds ->> more loosely than AND)", async () => {
    const alert = parseRecordLink({ type: 'showAlertSource', eventId: "e'1", sensorId: 'sensor-007', ts: 1_000_000 });
    assert.ok(alert);
    const event = (id: string, key: string, offset: number): FilterRow => ({
      partition: 0,
      offset,
      timestampMs: 1_000_000,
      key,
      value: JSON.stringify({ event_id: id, sensor_id: key, temperature: 80 }),
      headersJson: null,
      size: 60,
    });
    const filter = await BatchFilter.open(browseAtOfLink(alert, 'sensor-data').where);
    try {
      const batch = [event('other', 'sensor-007', 0), event("e'1", 'sensor-001', 1), event("e'1", 'sensor-007', 2), event('x', 'y', 3)];
      assert.deepEqual(await filter.match(batch), [2]);
    } finally {
      filter.close();
    }
  });

  it('an expression that fails on a record says where, and is the filter’s error (shown under its box)', async () => {
    const filter = await BatchFilter.open('value::INTEGER > 0');
    try {
      await assert.rejects(
        filter.match(rows),
        (e: unknown) =>
          e instanceof FilterError && /^The filter failed on partition 0 near offset 1: .*TRY_CAST gives NULL/.test(e.message),
      );
    } finally {
      filter.close();
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
