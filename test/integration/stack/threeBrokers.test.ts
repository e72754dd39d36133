import * as assert from 'node:assert/strict';
import { createKafka } from '../../../src/kafka/kafkaClient';
import { pipeline, tempWorkspace } from '../../support/cli';

const ALL = ['127.0.0.1:19092', '127.0.0.1:29092', '127.0.0.1:39092'];

async function partitionsOf(bootstrap: string[], topic: string) {
  const admin = createKafka({ bootstrapServers: bootstrap, requestTimeoutMs: 10_000 }).admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0].partitions;
  } finally {
    await admin.disconnect();
  }
}

describe('three-node KRaft cluster on one machine (replication)', function () {
  this.timeout(600_000);
  const workspace = tempWorkspace('cluster3');

  after(async () => {
    await pipeline(['stack', 'down', '--workspace', workspace]);
  });

  it('starts three nodes on 19092/29092/39092 with sensor-data replicated 3 times, all replicas in sync', async () => {
    const up = await pipeline(['stack', 'up', '--brokers', '3', '--workspace', workspace]);
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stdout, /127\.0\.0\.1:19092,127\.0\.0\.1:29092,127\.0\.0\.1:39092/);
    const status = JSON.parse((await pipeline(['stack', 'status', '--json', '--workspace', workspace])).stdout);
    assert.equal(status.state, 'up');
    assert.deepEqual(
      status.nodes.map((n: { id: number; running: boolean }) => [n.id, n.running]),
      [
        [1, true],
        [2, true],
        [3, true],
      ],
    );
    const partitions = await partitionsOf(ALL, 'sensor-data');
    assert.equal(partitions.length, 3);
    for (const p of partitions) {
      assert.deepEqual([...p.replicas].sort(), [1, 2, 3]);
      assert.deepEqual([...p.isr].sort(), [1, 2, 3], `partition ${p.partitionId} ISR`);
    }
  });

  it('keeps producing (acks=all) and consuming with one broker stopped', async () => {
    const down = await pipeline(['stack', 'down', '--node', '2', '--workspace', workspace]);
    assert.equal(down.code, 0, down.stderr);
    const status = JSON.parse((await pipeline(['stack', 'status', '--json', '--workspace', workspace])).stdout);
    assert.equal(status.state, 'degraded');
    const alive = ['127.0.0.1:19092', '127.0.0.1:39092'];
    const kafka = createKafka({ bootstrapServers: alive, requestTimeoutMs: 15_000, retries: 8 });
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const messages = Array.from({ length: 1000 }, (_, i) => ({ key: `s${i % 10}`, value: `degraded-${i}` }));
    await producer.send({ topic: 'sensor-data', acks: -1, messages });
    await producer.disconnect();
    const consumer = kafka.consumer({ groupId: `it-degraded-${Date.now()}` });
    await consumer.connect();
    await consumer.subscribe({ topic: 'sensor-data', fromBeginning: true });
    const seen = new Set<string>();
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`consumed ${seen.size} of 1000`)), 120_000);
      void consumer.run({
        eachMessage: async ({ message }) => {
          seen.add(message.value!.toString());
          if (seen.size >= 1000) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
    await consumer.disconnect();
    assert.equal(seen.size, 1000);
    for (const p of await partitionsOf(alive, 'sensor-data')) assert.ok(!p.isr.includes(2), 'stopped node 2 is out of the ISR');
  });

  it('brings the stopped node back into sync on the next `stack up --brokers 3`', async () => {
    const up = await pipeline(['stack', 'up', '--brokers', '3', '--workspace', workspace]);
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stdout, /node 2\b/);
    const deadline = Date.now() + 90_000;
    let isrs: number[][] = [];
    while (Date.now() < deadline) {
      isrs = (await partitionsOf(ALL, 'sensor-data')).map((p) => [...p.isr].sort());
      if (isrs.every((isr) => isr.length === 3)) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    assert.deepEqual(isrs, [
      [1, 2, 3],
      [1, 2, 3],
      [1, 2, 3],
    ]);
  });
});
