import * as assert from 'node:assert/strict';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { KafkaAdminClient } from '../../src/kafka/kafkaAdmin';
import { FilterError } from '../../src/kafka/scanFilter';
import { SCAN_GROUP_PREFIX, scanTopic } from '../../src/kafka/topicScan';
import type { ScanCursor, ScanPage, ScanRecord, ScanRequest } from '../../src/kafka/topicScanTypes';
import { UserError } from '../../src/shared/errors';
import { kcat, pipeline, requireEnv, tempWorkspace } from '../support/cli';

interface KcatRecord {
  partition: number;
  offset: number;
  ts: number;
  key: string | null;
  payload: string | null;
  headers?: string[];
}

/** What kcat reads, as the independent answer: one partition from `offset` (kcat's -o syntax) to its end. */
function kcatRead(bootstrap: string, topic: string, partition: number, offset: string): KcatRecord[] {
  const run = kcat(['-C', '-b', bootstrap, '-t', topic, '-p', String(partition), '-o', offset, '-e', '-J', '-q']);
  assert.equal(run.code, 0, run.stderr);
  return run.stdout
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as KcatRecord);
}

const essentials = (r: ScanRecord) => ({ partition: r.partition, offset: r.offset, timestamp: r.timestamp, key: r.key, value: r.value });
const fromKcat = (r: KcatRecord) => ({ partition: r.partition, offset: r.offset, timestamp: r.ts, key: r.key, value: r.payload });
const byPartition = (records: ScanRecord[], p: number) => records.filter((r) => r.partition === p).map(essentials);

/**
 * The message browser's engine on the real broker. Every expected answer comes from elsewhere: kcat (librdkafka)
 * for seeks, the test's own count of what it produced for filters, kafkajs' admin for the groups left behind.
 */
describe('message browser: scanTopic and pipeline messages (real broker)', function () {
  this.timeout(300_000);
  let bootstrap: string;
  let workspace: string;
  let kafka: Kafka;
  let client: KafkaAdminClient;
  const stamp = Date.now().toString(36);
  const sensors = `it-browse-${stamp}`;
  const txTopic = `it-browse-tx-${stamp}`;
  const openTopic = `it-browse-open-${stamp}`;
  const base = Date.UTC(2026, 0, 1, 12);
  /** What the test produced to `sensors`: key, temperature and timestamp of each record. */
  const produced: { key: string; temperature: number; timestamp: number }[] = [];
  const producers: Producer[] = [];

  const scan = (request: Partial<ScanRequest> & Pick<ScanRequest, 'topic' | 'start'>, cursor?: ScanPage['cursor']) =>
    scanTopic(client, { partitions: 'all', isolation: 'committed', limit: 10_000, ...request }, { cursor, timeoutMs: 60_000 });

  before(async () => {
    bootstrap = requireEnv('PIPELINE_BOOTSTRAP');
    workspace = tempWorkspace('browse');
    kafka = new Kafka({ brokers: bootstrap.split(','), clientId: 'it-browse', logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    // The records are stamped in January 2026, older than the broker's 7 days of retention: without retention.ms
    // -1, its next retention check (every 5 minutes) deletes them in the middle of the tests.
    const keep = [{ name: 'retention.ms', value: '-1' }];
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        { topic: sensors, numPartitions: 3, replicationFactor: 1, configEntries: keep },
        { topic: txTopic, numPartitions: 1, replicationFactor: 1, configEntries: keep },
        { topic: openTopic, numPartitions: 1, replicationFactor: 1, configEntries: keep },
      ],
    });
    await admin.disconnect();
    const producer = kafka.producer();
    producers.push(producer);
    await producer.connect();
    for (let i = 0; i < 300; i++)
      produced.push({
        key: `sensor-${String((i % 10) + 1).padStart(3, '0')}`,
        temperature: 15 + ((i * 7) % 30),
        timestamp: base + i * 1000,
      });
    await producer.send({
      topic: sensors,
      acks: -1,
      messages: produced.map((p, i) => ({
        key: p.key,
        value: JSON.stringify({ sensor_id: p.key, temperature: p.temperature }),
        timestamp: String(p.timestamp),
        partition: i % 3,
        headers: i % 50 === 0 ? { trace: `t-${i}`, 'pipeline-control': 'replay' } : undefined,
      })),
    });
    client = new KafkaAdminClient({ bootstrapServers: bootstrap.split(',') }, 15_000);
  });

  after(async () => {
    for (const p of producers) await p.disconnect().catch(() => undefined);
    await client?.close();
  });

  it('a timestamp seek returns exactly what kcat -o s@<ms> returns, per partition', async () => {
    const at = base + 150_500;
    const page = await scan({ topic: sensors, start: { kind: 'timestamp', timestampMs: at } });
    assert.equal(page.cursor, undefined);
    for (const p of [0, 1, 2]) {
      const expected = kcatRead(bootstrap, sensors, p, `s@${at}`).map(fromKcat);
      assert.equal(expected.length, 100 - Math.ceil((151 - p) / 3), `kcat's count for partition ${p}`);
      assert.deepEqual(byPartition(page.records, p), expected, `partition ${p}`);
    }
    // After the newest record: every partition starts at its end.
    const none = await scan({ topic: sensors, start: { kind: 'timestamp', timestampMs: base + 10_000_000 } });
    assert.deepEqual(none.records, []);
    assert.equal(none.cursor, undefined);
  });

  it('an offset seek and newest-N are exact', async () => {
    const page = await scan({ topic: sensors, partitions: [0, 2], start: { kind: 'offsets', offsets: { 0: 5, 2: 97 } } });
    assert.deepEqual(byPartition(page.records, 0), kcatRead(bootstrap, sensors, 0, '5').map(fromKcat));
    assert.deepEqual(byPartition(page.records, 2), kcatRead(bootstrap, sensors, 2, '97').map(fromKcat));
    assert.equal(byPartition(page.records, 1).length, 0, 'a partition not chosen is not read');
    assert.equal(page.records.length, 95 + 3);

    const newest = await scan({ topic: sensors, start: { kind: 'newest', count: 4 } });
    assert.equal(newest.records.length, 12);
    for (const p of [0, 1, 2]) assert.deepEqual(byPartition(newest.records, p), kcatRead(bootstrap, sensors, p, '-4').map(fromKcat));
  });

  it("a filter's count equals the count of what was produced", async () => {
    const where = "json.temperature::DOUBLE > 30 AND key = 'sensor-007'";
    const expected = produced.filter((p) => p.temperature > 30 && p.key === 'sensor-007').length;
    assert.ok(expected > 0 && expected < 30, `a filter that keeps some: ${expected}`);
    const page = await scan({ topic: sensors, start: { kind: 'earliest' }, where });
    assert.equal(page.records.length, expected);
    assert.equal(page.progress.scannedMessages, 300);
    assert.equal(page.progress.matched, expected);
    for (const r of page.records)
      assert.ok(r.key === 'sensor-007' && (JSON.parse(r.value ?? '{}') as { temperature: number }).temperature > 30);
    const histogram = page.histogram.buckets;
    assert.equal(
      histogram.reduce((n, b) => n + b.all, 0),
      300,
    );
    assert.equal(
      histogram.reduce((n, b) => n + b.matched, 0),
      expected,
    );
    assert.ok(histogram.length <= 120);
    // The time range narrows it further: the first 100 s only.
    const early = await scan({ topic: sensors, start: { kind: 'earliest' }, where, untilMs: base + 100_000 });
    assert.equal(
      early.records.length,
      produced.filter((p) => p.temperature > 30 && p.key === 'sensor-007' && p.timestamp < base + 100_000).length,
    );
  });

  it('headers come back as text, with their bytes in the size', async () => {
    const page = await scan({ topic: sensors, start: { kind: 'earliest' }, where: "headers['trace'] IS NOT NULL" });
    assert.deepEqual(
      page.records.map((r) => r.headers).sort((a, b) => String(a.trace).localeCompare(String(b.trace))),
      [0, 100, 150, 200, 250, 50].map((i) => ({ trace: `t-${i}`, 'pipeline-control': 'replay' })),
    );
    const r = page.records[0];
    assert.equal(
      r.size,
      r.keySize + r.valueSize + 'trace'.length + String(r.headers.trace).length + 'pipeline-control'.length + 'replay'.length,
    );
  });

  it('an aborted transaction is hidden under read_committed, shown under read_uncommitted, and its offsets are a gap', async () => {
    const producer = kafka.producer({ transactionalId: `it-browse-tx-${stamp}`, idempotent: true, maxInFlightRequests: 1 });
    producers.push(producer);
    await producer.connect();
    const batch = async (values: string[], outcome: 'commit' | 'abort') => {
      const tx = await producer.transaction();
      await tx.send({ topic: txTopic, messages: values.map((value) => ({ key: 'k', value })) });
      await (outcome === 'commit' ? tx.commit() : tx.abort());
    };
    await batch(['c0', 'c1', 'c2'], 'commit'); // offsets 0–2, marker 3
    await batch(['a4', 'a5'], 'abort'); // 4–5, marker 6
    await batch(['c7', 'c8'], 'commit'); // 7–8, marker 9
    const committed = await scan({ topic: txTopic, start: { kind: 'earliest' } });
    assert.deepEqual(
      committed.records.map((r) => `${r.offset}:${r.value}`),
      ['0:c0', '1:c1', '2:c2', '7:c7', '8:c8'],
    );
    assert.deepEqual(committed.gaps, [
      { partition: 0, from: 3, to: 6 },
      { partition: 0, from: 9, to: 9 },
    ]);
    assert.equal(committed.cursor, undefined);
    // A page that fills at offset 2 reports no gap past its cursor; the next page reports them.
    const first = await scan({ topic: txTopic, start: { kind: 'earliest' }, limit: 3 });
    assert.deepEqual(
      first.records.map((r) => r.offset),
      [0, 1, 2],
    );
    assert.deepEqual(first.gaps, []);
    assert.deepEqual(first.cursor?.positions, [{ partition: 0, position: 3, end: 10 }]);
    const second = await scan({ topic: txTopic, start: { kind: 'earliest' } }, first.cursor);
    assert.deepEqual(
      second.records.map((r) => r.offset),
      [7, 8],
    );
    assert.deepEqual(second.gaps, committed.gaps);
    assert.equal(second.cursor, undefined);
    const uncommitted = await scan({ topic: txTopic, start: { kind: 'earliest' }, isolation: 'uncommitted' });
    assert.deepEqual(
      uncommitted.records.map((r) => `${r.offset}:${r.value}`),
      ['0:c0', '1:c1', '2:c2', '4:a4', '5:a5', '7:c7', '8:c8'],
    );
    assert.deepEqual(uncommitted.gaps, [
      { partition: 0, from: 3, to: 3 },
      { partition: 0, from: 6, to: 6 },
      { partition: 0, from: 9, to: 9 },
    ]);
  });

  it('an open transaction does not stall a read_committed scan', async () => {
    const producer = kafka.producer({ transactionalId: `it-browse-open-${stamp}`, idempotent: true, maxInFlightRequests: 1 });
    producers.push(producer);
    await producer.connect();
    const done = await producer.transaction();
    await done.send({ topic: openTopic, messages: ['c0', 'c1', 'c2'].map((value) => ({ value })) });
    await done.commit();
    const open = await producer.transaction();
    await open.send({ topic: openTopic, messages: ['o4', 'o5'].map((value) => ({ value })) });
    try {
      const started = Date.now();
      const page = await scan({ topic: openTopic, start: { kind: 'earliest' } });
      assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
      assert.deepEqual(
        page.records.map((r) => `${r.offset}:${r.value}`),
        ['0:c0', '1:c1', '2:c2'],
      );
      assert.equal(page.cursor, undefined, 'it ended at the last stable offset');
      assert.deepEqual(page.gaps, [{ partition: 0, from: 3, to: 3 }]);
      // Read uncommitted, the open transaction's records show.
      const dirty = await scan({ topic: openTopic, start: { kind: 'earliest' }, isolation: 'uncommitted' });
      assert.deepEqual(
        dirty.records.map((r) => r.value),
        ['c0', 'c1', 'c2', 'o4', 'o5'],
      );
    } finally {
      await open.abort();
    }
  });

  it('a live tail of a busy topic shows its matches page after page: a page ends without waiting for a quiet moment', async () => {
    const topic = `it-browse-busy-${stamp}`;
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 1, replicationFactor: 1 }] });
    await admin.disconnect();
    const producer = kafka.producer();
    producers.push(producer);
    await producer.connect();
    // Twenty records a second that the WHERE does not match, for as long as the test reads (at most a minute).
    let noisy = true;
    const noise = (async () => {
      for (let i = 0; noisy && i < 1200; i++) {
        await producer.send({ topic, messages: [{ key: 'noise', value: `n${i}` }] });
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const key = `match-${stamp}`;
    try {
      const request: ScanRequest = {
        topic,
        start: { kind: 'tail' },
        partitions: 'all',
        isolation: 'committed',
        limit: 100,
        where: `key = '${key}'`,
      };
      let cursor: ScanCursor | undefined;
      const found: (string | null)[] = [];
      for (let n = 1; n <= 10 && found.length === 0; n++) {
        const pending = scanTopic(client, request, { cursor, tailWaitMs: 1500, timeoutMs: 20_000 });
        // The match arrives once the tail reads (it starts at the ends of the moment it began).
        if (n === 1) {
          await new Promise((r) => setTimeout(r, 3000));
          await producer.send({ topic, messages: [{ key, value: 'the one' }] });
        }
        const page = await pending;
        assert.equal(page.stopped, undefined, `page ${n} ended by its ${page.stopped}, not by the tail's wait`);
        found.push(...page.records.map((r) => r.value));
        cursor = page.cursor;
        assert.ok(cursor, 'a tail always has a next page');
      }
      assert.deepEqual(found, ['the one']);
    } finally {
      noisy = false;
      await noise;
    }
  });

  it('a WHERE that fails on a record ends the scan with its error, where it failed (kafkajs would retry the batch for ever)', async () => {
    await assert.rejects(
      scanTopic(
        client,
        { topic: sensors, start: { kind: 'earliest' }, partitions: 'all', isolation: 'committed', limit: 10, where: 'value::INTEGER > 0' },
        { timeoutMs: 20_000 },
      ),
      (e: unknown) => e instanceof FilterError && /^The filter failed on partition \d+ near offset \d+: Conversion Error/.test(e.message),
    );
  });

  it('a bad WHERE is a clear error, whether the range holds records or none; the CLI says it in one line, as for an unknown topic', async () => {
    await assert.rejects(
      scan({ topic: sensors, start: { kind: 'earliest' }, where: 'temprature > 30' }),
      (e: unknown) => e instanceof UserError && /does not run: .*temprature/.test(e.message),
    );
    // A range with no record in it (everything is older than an hour from now) never asks the filter: still refused.
    await assert.rejects(
      scan({ topic: sensors, start: { kind: 'timestamp', timestampMs: Date.now() + 3_600_000 }, where: 'temprature > 30' }),
      (e: unknown) => e instanceof UserError && /does not run: .*temprature/.test(e.message),
    );
    const bad = await pipeline([
      'messages',
      sensors,
      '--where',
      'json.temperature >',
      '--bootstrap-servers',
      bootstrap,
      '--workspace',
      workspace,
    ]);
    assert.equal(bad.code, 1);
    assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
    assert.match(bad.stderr, /^pipeline messages: DuckDB cannot read the filter: syntax error/);
    assert.equal(bad.stdout, '');
    const unknown = await pipeline(['messages', `no-such-${stamp}`, '--bootstrap-servers', bootstrap, '--workspace', workspace]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr.trim(), /^pipeline messages: Topic no-such-\S+ does not exist on Kafka at 127\.0\.0\.1:9092\.$/);
    const from = await pipeline(['messages', sensors, '--from', 'yesterday', '--bootstrap-servers', bootstrap, '--workspace', workspace]);
    assert.equal(from.code, 1);
    assert.equal(from.stderr.trim().split('\n').length, 1, from.stderr);
  });

  it('pipeline messages --json prints one kcat-named object per record', async () => {
    const run = await pipeline([
      'messages',
      sensors,
      '--from',
      'newest-2',
      '--partitions',
      '1',
      '--json',
      '--bootstrap-servers',
      bootstrap,
      '--workspace',
      workspace,
    ]);
    assert.equal(run.code, 0, run.stderr);
    const lines = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const expected = kcatRead(bootstrap, sensors, 1, '-2');
    assert.deepEqual(
      lines.map((l) => [l.partition, l.offset, l.timestamp, l.key, l.value]),
      expected.map((r) => [r.partition, r.offset, r.ts, r.key, r.payload]),
    );
    assert.deepEqual(Object.keys(lines[0]), ['partition', 'offset', 'timestamp', 'key', 'value', 'headers', 'size']);
    assert.match(run.stderr, /Scanned 2 messages .* matched 2/);
  });

  it('pages with a cursor together equal one big page, and no throw-away group is left', async () => {
    const whole = await scan({ topic: sensors, start: { kind: 'earliest' }, where: 'json.temperature::DOUBLE > 20' });
    assert.equal(whole.cursor, undefined);
    const expected = produced.filter((p) => p.temperature > 20).length;
    // What the scan saw, should it ever miss records: its counts, positions and the first gaps it noted.
    const seen = JSON.stringify({ progress: whole.progress, gaps: whole.gaps.slice(0, 6), stopped: whole.stopped });
    assert.equal(whole.records.length, expected, seen);
    const paged: ScanRecord[] = [];
    let cursor: ScanPage['cursor'];
    let pages = 0;
    do {
      const page = await scan({ topic: sensors, start: { kind: 'earliest' }, where: 'json.temperature::DOUBLE > 20', limit: 70 }, cursor);
      assert.ok(page.records.length <= 70);
      paged.push(...page.records);
      cursor = page.cursor;
      pages++;
    } while (cursor && pages < 20);
    assert.ok(pages >= Math.ceil(expected / 70), `${pages} pages`);
    const key = (r: ScanRecord) => `${r.partition}:${String(r.offset).padStart(6, '0')}`;
    assert.deepEqual(paged.map(key).sort(), whole.records.map(key).sort());
    assert.equal(new Set(paged.map(key)).size, paged.length, 'no record twice');

    const admin = kafka.admin();
    await admin.connect();
    try {
      const { groups } = await admin.listGroups();
      assert.deepEqual(
        groups.map((g) => g.groupId).filter((g) => g.startsWith(SCAN_GROUP_PREFIX)),
        [],
      );
    } finally {
      await admin.disconnect();
    }
  });
});
