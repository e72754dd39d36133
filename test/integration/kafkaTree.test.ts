import * as assert from 'node:assert/strict';
import { parseBootstrapServers } from '../../src/kafka/kafkaClient';
import type { PartitionDetail } from '../../src/kafka/kafkaModels';
import { resetRefusal } from '../../src/kafka/offsetReset';
import { brokerDescription, groupPartitionDescription, partitionDescription, topicDescription } from '../../src/kafka/treeModel';
import { KafkaAdminClient } from '../../src/kafka/kafkaAdmin';
import { kcat, requireEnv } from '../support/cli';
import { isThrowAwayGroup } from '../../src/kafka/kafkaGroups';

/**
 * What the Kafka explorer's model layer returns (brokers, topics, partitions with leader/replicas/ISR/low/high,
 * group lag) against what kcat — librdkafka, a different client — says about the same broker.
 */

interface KcatMetadata {
  controllerid: number;
  brokers: { id: number; name: string }[];
  topics: {
    topic: string;
    error?: string;
    partitions: { partition: number; leader: number; replicas: { id: number }[]; isrs: { id: number }[] }[];
  }[];
}

function kcatMetadata(bootstrap: string, topic?: string): KcatMetadata {
  const r = kcat(['-L', '-J', '-b', bootstrap, ...(topic ? ['-t', topic] : [])], undefined, 30_000);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as KcatMetadata;
}

/** kcat -Q with the special times -2 (earliest) and -1 (latest): the low and high offsets per partition. */
function kcatOffsets(bootstrap: string, topic: string, partitions: number): { partition: number; low: number; high: number }[] {
  const query = (time: number) => {
    const r = kcat(
      ['-Q', '-b', bootstrap, ...Array.from({ length: partitions }, (_, p) => ['-t', `${topic}:${p}:${time}`]).flat()],
      undefined,
      30_000,
    );
    assert.equal(r.code, 0, r.stderr);
    const found = new Map<number, number>();
    for (const m of r.stdout.matchAll(/\[(\d+)\] offset (-?\d+)/g)) found.set(Number(m[1]), Number(m[2]));
    return found;
  };
  const low = query(-2);
  const high = query(-1);
  return Array.from({ length: partitions }, (_, partition) => ({ partition, low: low.get(partition)!, high: high.get(partition)! }));
}

/** Produces with kcat (not kafkajs), keyed, so partitions fill unevenly. */
function kcatProduce(bootstrap: string, topic: string, lines: string[]): void {
  const r = kcat(['-P', '-b', bootstrap, '-t', topic, '-K', '\t'], lines.join('\n') + '\n', 60_000);
  assert.equal(r.code, 0, r.stderr);
}

describe('Kafka explorer model layer = what kcat says (real broker)', function () {
  this.timeout(180_000);
  const bootstrap = requireEnv('PIPELINE_BOOTSTRAP');
  const topic = `it-tree-${Date.now()}`;
  const group = `it-tree-group-${Date.now()}`;
  const client = new KafkaAdminClient({ bootstrapServers: parseBootstrapServers(bootstrap) }, 10_000);

  before(async () => {
    await client.createTopic({ name: topic, partitions: 3, retentionMs: 3_600_000 });
    kcatProduce(
      bootstrap,
      topic,
      Array.from(
        { length: 500 },
        (_, i) => `sensor-${String(i % 7).padStart(3, '0')}\t{"seq": ${i}, "temperature": ${(20 + (i % 10) / 10).toFixed(1)}}`,
      ),
    );
  });

  after(async () => {
    await client.deleteTopic(topic).catch(() => undefined);
    await client.deleteTopic(`${topic}-gone`).catch(() => undefined);
    await client.deleteTopic(`${topic}-purge`).catch(() => undefined);
    await client.deleteTopic(`${topic}-lz4`).catch(() => undefined);
    await client.close();
  });

  it('brokers: ids, addresses and the controller', async () => {
    const expected = kcatMetadata(bootstrap);
    const cluster = await client.describeCluster();
    assert.deepEqual(
      cluster.brokers.map((b) => [b.nodeId, `${b.host}:${b.port}`]),
      expected.brokers.map((b) => [b.id, b.name]).sort((a, b) => Number(a[0]) - Number(b[0])),
    );
    assert.equal(cluster.controller, expected.controllerid);
    const controller = cluster.brokers.find((b) => b.isController)!;
    assert.equal(brokerDescription(controller), `${expected.brokers.find((b) => b.id === expected.controllerid)!.name} · controller`);
  });

  it('topics: the same names, partition counts and replication as kcat -L', async () => {
    const expected = kcatMetadata(bootstrap).topics.filter((t) => !t.topic.startsWith('__'));
    const topics = await client.listTopicDetails();
    assert.deepEqual(
      topics.map((t) => [t.name, t.partitions.length, t.replicationFactor]),
      expected
        .map((t) => [t.topic, t.partitions.length, t.partitions[0].replicas.length])
        .sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    );
    const ours = topics.find((t) => t.name === topic)!;
    assert.equal(ours.messages, 500);
    assert.equal(ours.retentionMs, 3_600_000);
    assert.equal(topicDescription(ours), '3 partitions · 500 msgs · retention 1 h');
  });

  it('partitions: leader, replicas, ISR, low and high offsets equal kcat -L and kcat -Q', async () => {
    const meta = kcatMetadata(bootstrap, topic).topics[0];
    const offsets = kcatOffsets(bootstrap, topic, 3);
    const expected: PartitionDetail[] = meta.partitions
      .map((p) => ({
        partition: p.partition,
        leader: p.leader,
        replicas: p.replicas.map((r) => r.id).sort((a, b) => a - b),
        isr: p.isrs.map((r) => r.id).sort((a, b) => a - b),
        offlineReplicas: [],
        low: offsets[p.partition].low,
        high: offsets[p.partition].high,
      }))
      .sort((a, b) => a.partition - b.partition);
    const partitions = await client.describeTopicPartitions(topic);
    assert.deepEqual(partitions, expected);
    assert.equal(
      partitions.reduce((sum, p) => sum + p.high - p.low, 0),
      500,
    );
    // The rows the tree shows are drawn from these numbers only.
    assert.deepEqual(partitions.map(partitionDescription), expected.map(partitionDescription));
    assert.ok(
      partitions.some((p) => p.high > 0) && new Set(partitions.map((p) => p.high)).size > 1,
      'keys spread records unevenly over partitions',
    );
  });

  it('a group with committed offsets and no members (like Flink’s) shows lag = kcat end offset − committed', async () => {
    const offsets = kcatOffsets(bootstrap, topic, 3);
    const committed = [Math.floor(offsets[0].high / 2), offsets[1].high];
    const kafka = client.kafka.admin();
    await kafka.connect();
    try {
      await kafka.setOffsets({
        groupId: group,
        topic,
        partitions: committed.map((offset, partition) => ({ partition, offset: String(offset) })),
      });
    } finally {
      await kafka.disconnect();
    }
    const groups = await client.listGroups();
    const model = groups.find((g) => g.groupId === group);
    assert.ok(model, `${group} is listed`);
    assert.equal(model.members, 0);
    const lag = await client.describeGroupLag(group);
    assert.deepEqual(
      lag.map((r) => [r.topic, r.partition, r.committed, r.end, r.lag]),
      [
        [topic, 0, committed[0], offsets[0].high, offsets[0].high - committed[0]],
        [topic, 1, committed[1], offsets[1].high, 0],
        [topic, 2, undefined, offsets[2].high, undefined],
      ],
    );
    assert.equal(groupPartitionDescription(lag[2]), `no committed offset yet · end ${offsets[2].high}`);
  });

  it('a group with an active member is refused a reset; once it leaves, the reset moves the offsets kcat sees', async () => {
    const consumer = client.kafka.consumer({ groupId: group, sessionTimeout: 10_000, heartbeatInterval: 1000 });
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await consumer.run({ autoCommit: false, eachMessage: async () => undefined });
      let described = await client.describeGroup(group);
      for (let i = 0; i < 40 && described.members === 0; i++) {
        await new Promise((r) => setTimeout(r, 250));
        described = await client.describeGroup(group);
      }
      assert.equal(described.members, 1);
      assert.match(resetRefusal(described, { isFlinkGroup: false, jobRunning: false }) ?? '', /1 active member/);
      // Even past our own check, the broker refuses a commit from outside an active group.
      await assert.rejects(client.resetGroupOffsets(group, topic, 'all', { kind: 'earliest' }));
    } finally {
      await consumer.disconnect();
    }
    const after = await client.describeGroup(group);
    assert.equal(after.members, 0);
    assert.equal(resetRefusal(after, { isFlinkGroup: false, jobRunning: false }), undefined);
    const plan = await client.resetGroupOffsets(group, topic, 'all', { kind: 'earliest' });
    assert.deepEqual(
      plan,
      kcatOffsets(bootstrap, topic, 3).map((o) => ({ partition: o.partition, offset: o.low })),
    );
    const lag = await client.describeGroupLag(group);
    assert.equal(
      lag.reduce((s, r) => s + (r.lag ?? 0), 0),
      500,
    );
  });

  it('peek reads the same records kcat reads (earliest and latest)', async () => {
    const partition = kcatOffsets(bootstrap, topic, 3).find((o) => o.high - o.low >= 5)!.partition;
    const expected = kcat(
      ['-C', '-b', bootstrap, '-t', topic, '-p', String(partition), '-o', 'beginning', '-c', '5', '-e', '-f', '%o\t%k\t%s\n'],
      undefined,
      30_000,
    )
      .stdout.trim()
      .split('\n');
    const earliest = await client.peek({ topic, partition, start: { kind: 'earliest' }, count: 5 });
    assert.ok(earliest.complete);
    assert.deepEqual(
      earliest.records.map((r) => `${r.offset}\t${r.key?.toString()}\t${r.value?.toString()}`),
      expected,
    );
    const fullest = kcatOffsets(bootstrap, topic, 3).sort((a, b) => b.high - a.high)[0];
    const high = fullest.high;
    const latest = await client.peek({ topic, partition: fullest.partition, start: { kind: 'latest' }, count: 3 });
    assert.deepEqual(
      latest.records.map((r) => Number(r.offset)),
      [high - 3, high - 2, high - 1],
    );
    const groups = await client.listGroups();
    assert.ok(!groups.some((g) => isThrowAwayGroup(g.groupId)), 'the throw-away peek group is deleted');
  });

  it('peek reads lz4-compressed batches, as the generator writes them', async () => {
    const own = `${topic}-lz4`;
    await client.createTopic({ name: own, partitions: 1 });
    const lines = Array.from({ length: 50 }, (_, i) => `sensor-${i % 5}\t{"seq": ${i}, "note": "${'compressible '.repeat(8)}"}`);
    const produced = kcat(['-P', '-b', bootstrap, '-t', own, '-K', '\t', '-z', 'lz4'], lines.join('\n') + '\n', 60_000);
    assert.equal(produced.code, 0, produced.stderr);
    const peeked = await client.peek({ topic: own, partition: 0, start: { kind: 'earliest' }, count: 50 });
    assert.deepEqual(
      peeked.records.map((r) => `${r.key?.toString()}\t${r.value?.toString()}`),
      lines,
    );
  });

  it('produce, add partitions and purge: kcat sees each change', async () => {
    // On a topic of its own, so that the other tests' records stay whatever order the tests run in.
    const own = `${topic}-purge`;
    await client.createTopic({ name: own, partitions: 3 });
    kcatProduce(
      bootstrap,
      own,
      Array.from({ length: 40 }, (_, i) => `sensor-${i % 5}\t{"seq": ${i}}`),
    );
    const written = await client.produce({ topic: own, key: 'manual', value: '{"hello": 1}', partition: 0 });
    const tail = kcat(
      ['-C', '-b', bootstrap, '-t', own, '-p', '0', '-o', String(written.offset), '-c', '1', '-e', '-f', '%k\t%s'],
      undefined,
      30_000,
    ).stdout;
    assert.equal(tail, 'manual\t{"hello": 1}');

    await client.addPartitions(own, 4);
    assert.equal(kcatMetadata(bootstrap, own).topics[0].partitions.length, 4);
    await assert.rejects(client.addPartitions(own, 2), /already has 4 partitions/);

    const before = kcatOffsets(bootstrap, own, 4).reduce((n, o) => n + o.high - o.low, 0);
    assert.equal(before, 41, 'kcat counts the 40 records it wrote and the one produced here');
    const deleted = await client.purgeTopic(own);
    assert.equal(deleted, before);
    for (const o of kcatOffsets(bootstrap, own, 4)) assert.equal(o.low, o.high, `partition ${o.partition} is empty`);
    assert.equal((await client.listTopicDetails()).find((t) => t.name === own)?.messages, 0);
  });

  it('delete topic: gone from kcat -L; bad names never reach the broker', async () => {
    await client.createTopic({ name: `${topic}-gone`, partitions: 1 });
    await client.deleteTopic(`${topic}-gone`);
    let names: string[] = [];
    for (let i = 0; i < 20; i++) {
      names = kcatMetadata(bootstrap).topics.map((t) => t.topic);
      if (!names.includes(`${topic}-gone`)) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.ok(!names.includes(`${topic}-gone`));
    await assert.rejects(client.createTopic({ name: 'bad name; rm -rf', partitions: 1 }), /found space, ";"/);
  });

  it('an unreachable cluster fails within the timeout with a clear message (the error node)', async () => {
    const nowhere = new KafkaAdminClient({ bootstrapServers: ['127.0.0.1:1'], connectionTimeoutMs: 500, retries: 0 }, 2000);
    const started = Date.now();
    await assert.rejects(nowhere.describeCluster(), /127\.0\.0\.1:1/);
    await assert.rejects(nowhere.listTopicDetails(), /Cannot reach Kafka at 127\.0\.0\.1:1/);
    assert.ok(Date.now() - started < 10_000, `gave up after ${Date.now() - started} ms`);
    await nowhere.close();
  });
});
