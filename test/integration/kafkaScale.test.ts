import * as assert from 'node:assert/strict';
import { parseBootstrapServers } from '../../src/kafka/kafkaClient';
import { KafkaAdminClient } from '../../src/kafka/kafkaAdmin';
import { requireEnv } from '../support/cli';

/**
 * The explorer on a cluster with 1,000 topics × 3 partitions: how long the topic list (what the Topics folder
 * fetches: metadata, configs, message counts) and one topic's expansion (partitions with offsets) take. The
 * figures are printed; there is no time assertion (2 shared cores make timings noisy), only correctness ones.
 */
const TOPICS = 1000;
const PARTITIONS = 3;

const ms = (started: bigint) => Number(process.hrtime.bigint() - started) / 1e6;

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = process.hrtime.bigint();
  const value = await fn();
  return { value, ms: ms(started) };
}

describe(`Kafka explorer at scale: ${TOPICS} topics × ${PARTITIONS} partitions (real broker)`, function () {
  this.timeout(600_000);
  const bootstrap = requireEnv('PIPELINE_BOOTSTRAP');
  const prefix = `it-scale-${Date.now()}-`;
  const names = Array.from({ length: TOPICS }, (_, i) => `${prefix}${String(i).padStart(4, '0')}`);
  const setup = new KafkaAdminClient({ bootstrapServers: parseBootstrapServers(bootstrap), requestTimeoutMs: 60_000 }, 120_000);
  const figures: string[] = [];

  before(async () => {
    const started = process.hrtime.bigint();
    await setup.createTopicsInBulk(names, PARTITIONS);
    figures.push(`create ${TOPICS} topics × ${PARTITIONS} partitions: ${(ms(started) / 1000).toFixed(1)} s`);
    const producer = setup.kafka.producer();
    await producer.connect();
    await producer.send({ topic: names[500], messages: Array.from({ length: 300 }, (_, i) => ({ key: `k${i % 9}`, value: String(i) })) });
    await producer.disconnect();
  });

  after(async () => {
    try {
      // Suites after this one compare whole topic lists: this waits until the deletions are visible.
      await setup.deleteTopicsInBulk(names);
    } finally {
      await setup.close();
    }
    console.log(
      `\n      scale figures (${TOPICS} topics × ${PARTITIONS} partitions, model layer, this machine):\n${figures.map((f) => `        ${f}`).join('\n')}\n`,
    );
  });

  it('the topic list: every topic with partitions, retention and message count, from a new connection', async () => {
    // A fresh client per run: the first view of a cluster includes connecting.
    const runs: number[] = [];
    let topics: Awaited<ReturnType<KafkaAdminClient['listTopicDetails']>> = [];
    for (let i = 0; i < 3; i++) {
      const client = new KafkaAdminClient({ bootstrapServers: parseBootstrapServers(bootstrap) }, 10_000);
      const run = await timed(() => client.listTopicDetails());
      runs.push(run.ms);
      topics = run.value;
      await client.close();
    }
    figures.push(
      `topic list (connect + metadata + configs + message counts of all topics): ${runs.map((r) => `${r.toFixed(0)} ms`).join(', ')}`,
    );
    const ours = topics.filter((t) => t.name.startsWith(prefix));
    assert.equal(ours.length, TOPICS);
    const incomplete = ours.filter((t) => t.partitions.length !== PARTITIONS || t.retentionMs === undefined || t.messages === undefined);
    assert.deepEqual(
      incomplete
        .slice(0, 3)
        .map((t) => ({ name: t.name, partitions: t.partitions.length, retentionMs: t.retentionMs, messages: t.messages })),
      [],
      `${incomplete.length} topics lack partitions, retention or a message count`,
    );
    assert.equal(ours.find((t) => t.name === names[500])?.messages, 300);
  });

  it('expanding one topic: its partitions with leader, ISR and low/high offsets', async () => {
    const client = new KafkaAdminClient({ bootstrapServers: parseBootstrapServers(bootstrap) }, 10_000);
    try {
      await client.listTopicDetails(); // the list is shown before a topic can be expanded
      const runs: number[] = [];
      let partitions = await client.describeTopicPartitions(names[500]);
      for (const name of [names[500], names[7], names[999]]) {
        const run = await timed(() => client.describeTopicPartitions(name));
        runs.push(run.ms);
        if (name === names[500]) partitions = run.value;
      }
      figures.push(`expand one topic (metadata + offsets of its partitions): ${runs.map((r) => `${r.toFixed(0)} ms`).join(', ')}`);
      assert.equal(partitions.length, PARTITIONS);
      assert.equal(
        partitions.reduce((s, p) => s + p.high - p.low, 0),
        300,
      );
      assert.ok(partitions.every((p) => p.leader >= 0 && p.isr.length > 0));
    } finally {
      await client.close();
    }
  });

  it('for comparison: kafkajs’ public per-topic offsets call over all topics (what the batched path avoids)', async () => {
    const client = new KafkaAdminClient({ bootstrapServers: parseBootstrapServers(bootstrap) }, 60_000);
    const admin = client.kafka.admin();
    await admin.connect();
    try {
      let next = 0;
      const run = await timed(() =>
        Promise.all(
          Array.from({ length: 8 }, async () => {
            while (next < names.length) await admin.fetchTopicOffsets(names[next++]);
          }),
        ),
      );
      const batched = await timed(() => client.fetchOffsetsForTopics(names));
      figures.push(
        `offsets of all ${TOPICS} topics: kafkajs fetchTopicOffsets per topic ${run.ms.toFixed(0)} ms; one batched ListOffsets ${batched.ms.toFixed(0)} ms`,
      );
      assert.equal(batched.value.size, TOPICS);
    } finally {
      await admin.disconnect();
      await client.close();
    }
  });
});
