import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { createKafka } from '../../../src/kafka/kafkaClient';
import { isAlive } from '../../../src/local/proc';
import { KafkaAdminClient } from '../../../src/kafka/kafkaAdmin';
import { cliPath, kcat, pipeline, tempWorkspace } from '../../support/cli';

const BOOTSTRAP = '127.0.0.1:9092';
const N = 10_000;

async function consumeAll(bootstrap: string[], topic: string, expected: number, timeoutMs = 60_000): Promise<Map<string, string>> {
  const kafka = createKafka({ bootstrapServers: bootstrap, requestTimeoutMs: 10_000, retries: 5 });
  const consumer = kafka.consumer({ groupId: `it-${Date.now()}-${Math.random()}` });
  const seen = new Map<string, string>();
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`consumed ${seen.size} of ${expected} within ${timeoutMs} ms`)), timeoutMs);
      void consumer.run({
        eachMessage: async ({ message, partition }) => {
          seen.set(`${partition}/${message.offset}`, message.value?.toString() ?? '');
          if (seen.size >= expected) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return seen;
}

async function produce(bootstrap: string[], topic: string, count: number, prefix: string): Promise<void> {
  const kafka = createKafka({ bootstrapServers: bootstrap, requestTimeoutMs: 10_000, retries: 5 });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    for (let start = 0; start < count; start += 2000) {
      const messages = Array.from({ length: Math.min(2000, count - start) }, (_, i) => ({
        key: `k${(start + i) % 7}`,
        value: `${prefix}-${start + i}`,
      }));
      await producer.send({ topic, acks: -1, messages });
    }
  } finally {
    await producer.disconnect();
  }
}

/**
 * Each test sets up what it needs (the broker up or down, its own topics), so that any one of them can run alone or
 * in any order, and one failure does not cascade into the next.
 */
describe('local Kafka stack (real broker from Maven jars, KRaft)', function () {
  this.timeout(600_000);
  const workspace = tempWorkspace('stack');
  const unique = (name: string) => `${name}-${Date.now().toString(36)}`;

  async function stackUp(where = workspace): Promise<string> {
    const up = await pipeline(['stack', 'up', '--workspace', where]);
    assert.equal(up.code, 0, up.stderr);
    return up.stdout;
  }
  async function stackDown(where = workspace): Promise<string> {
    const down = await pipeline(['stack', 'down', '--workspace', where]);
    assert.equal(down.code, 0, down.stderr);
    return down.stdout;
  }
  async function createTopic(name: string): Promise<void> {
    const client = new KafkaAdminClient({ bootstrapServers: [BOOTSTRAP] });
    try {
      await client.createTopic({ name, partitions: 3, replicationFactor: 1 });
    } finally {
      await client.close();
    }
  }

  after(async () => {
    await pipeline(['stack', 'down', '--workspace', workspace]);
  });

  it('starts one broker, creates sensor-data with 3 partitions and sensor-alerts, and reports its status', async () => {
    // A workspace of its own: its first start, whatever the other tests did.
    await stackDown();
    const fresh = tempWorkspace('stack-first');
    try {
      assert.match(await stackUp(fresh), /Kafka is up on 127\.0\.0\.1:9092/);
      const status = await pipeline(['stack', 'status', '--json', '--workspace', fresh]);
      assert.equal(status.code, 0, status.stderr);
      const json = JSON.parse(status.stdout);
      assert.equal(json.state, 'up');
      assert.equal(json.bootstrapServers, BOOTSTRAP);
      assert.equal(json.version, '4.4.0');
      assert.deepEqual(
        json.nodes.map((n: { id: number }) => n.id),
        [1],
      );
      assert.equal(json.controller, 1);
      assert.deepEqual(json.topics, ['sensor-alerts', 'sensor-data']);
      const metadata = JSON.parse(kcat(['-b', BOOTSTRAP, '-L', '-J', '-t', 'sensor-data']).stdout);
      assert.equal(metadata.topics[0].partitions.length, 3);
    } finally {
      await stackDown(fresh);
    }
  });

  it('says a second `stack up` is already running and changes nothing', async () => {
    await stackUp();
    const pidBefore = readFileSync(join(workspace, '.pipeline/kafka/single/node-1/broker.pid'), 'utf8');
    assert.match(await stackUp(), /already running/);
    assert.equal(readFileSync(join(workspace, '.pipeline/kafka/single/node-1/broker.pid'), 'utf8'), pidBefore);
  });

  it('produces and consumes 10,000 records with kcat', async () => {
    await stackUp();
    const topic = unique('it-kcat');
    assert.ok(createTopicSync(topic));
    const lines = Array.from({ length: N }, (_, i) => `key${i % 13}:kcat-value-${i}`).join('\n') + '\n';
    const produced = kcat(['-b', BOOTSTRAP, '-t', topic, '-P', '-K:', '-X', 'acks=all'], lines);
    assert.equal(produced.code, 0, produced.stderr);
    const consumed = kcat(['-b', BOOTSTRAP, '-t', topic, '-C', '-e', '-q', '-o', 'beginning', '-f', '%s\n']);
    const values = consumed.stdout.split('\n').filter(Boolean);
    assert.equal(values.length, N);
    assert.equal(new Set(values).size, N);
  });

  it('produces and consumes 10,000 records with kafkajs', async () => {
    await stackUp();
    const topic = unique('it-kafkajs');
    await createTopic(topic);
    await produce([BOOTSTRAP], topic, N, 'js');
    const seen = await consumeAll([BOOTSTRAP], topic, N);
    assert.equal(seen.size, N);
    assert.equal(new Set(seen.values()).size, N);
  });

  it('lists topics, partitions, leaders and low/high offsets through kafkajs, matching kcat', async () => {
    await stackUp();
    const topic = unique('it-list');
    await createTopic(topic);
    await produce([BOOTSTRAP], topic, N, 'list');
    const client = new KafkaAdminClient({ bootstrapServers: [BOOTSTRAP] });
    try {
      const names = (await client.listTopics()).map((t) => t.name);
      for (const name of [topic, 'sensor-alerts', 'sensor-data']) assert.ok(names.includes(name), `${name} listed`);
      const offsets = await client.fetchPartitionOffsets(topic);
      assert.equal(offsets.length, 3);
      assert.equal(
        offsets.reduce((s, p) => s + p.high - p.low, 0),
        N,
      );
      const metadata = client.kafka.admin();
      await metadata.connect();
      const meta = await metadata.fetchTopicMetadata({ topics: [topic] });
      await metadata.disconnect();
      for (const partition of meta.topics[0].partitions) assert.equal(partition.leader, 1);
      for (const p of offsets) {
        const high = kcat(['-b', BOOTSTRAP, '-Q', '-t', `${topic}:${p.partition}:-1`]).stdout;
        assert.match(high, new RegExp(`\\[${p.partition}\\] offset ${p.high}\\b`));
      }
    } finally {
      await client.close();
    }
  });

  it('keeps the records across stop and start', async () => {
    await stackUp();
    const topic = unique('it-keep');
    await createTopic(topic);
    await produce([BOOTSTRAP], topic, N, 'keep');
    assert.match(await stackDown(), /Stopped Kafka node 1/);
    const status = await pipeline(['stack', 'status', '--json', '--workspace', workspace]);
    assert.equal(JSON.parse(status.stdout).state, 'down');
    assert.doesNotMatch(await stackUp(), /Created topics/);
    const values = kcat(['-b', BOOTSTRAP, '-t', topic, '-C', '-e', '-q', '-o', 'beginning', '-f', '%s\n'])
      .stdout.split('\n')
      .filter(Boolean);
    assert.equal(values.length, N);
    assert.deepEqual(new Set(values), new Set(Array.from({ length: N }, (_, i) => `keep-${i}`)));
  });

  it('refuses to start with a clear message when the broker port is taken, and leaves nothing behind', async () => {
    await stackDown();
    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen(9092, '127.0.0.1', r));
    const other = tempWorkspace('busy');
    try {
      const up = await pipeline(['stack', 'up', '--workspace', other]);
      assert.equal(up.code, 1);
      assert.match(up.stderr, new RegExp(`Port 9092 on 127\\.0\\.0\\.1 is already in use by process ${process.pid} \\(`));
      assert.match(up.stderr, /stop that process/);
      const pidFile = join(other, '.pipeline/kafka/single/node-1/broker.pid');
      assert.equal(existsSync(pidFile), false);
    } finally {
      await new Promise<void>((r) => blocker.close(() => r()));
    }
  });

  it('names a damaged data folder and how to fix it, without starting anything', async () => {
    // A data folder that exists, with the broker stopped.
    await stackUp();
    await stackDown();
    const meta = join(workspace, '.pipeline/kafka/single/node-1/data/meta.properties');
    const original = readFileSync(meta, 'utf8');
    writeFileSync(meta, 'garbage\n');
    try {
      const up = await pipeline(['stack', 'up', '--workspace', workspace]);
      assert.equal(up.code, 1);
      assert.match(up.stderr, /is damaged .*pipeline stack reset/);
      const pid = Number(readFileSyncSafe(join(workspace, '.pipeline/kafka/single/node-1/broker.pid')));
      assert.ok(!pid || !isAlive(pid));
    } finally {
      writeFileSync(meta, original);
    }
    await stackUp();
  });
});

function readFileSyncSafe(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function createTopicSync(topic: string): boolean {
  const result = spawnSync(process.execPath, [cliPath, 'topic', 'create', topic, '--partitions', '3', '--bootstrap-servers', BOOTSTRAP], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  return result.status === 0;
}

describe('environment problems get one clear sentence and a non-zero exit', function () {
  this.timeout(300_000);

  it('Java missing', async () => {
    const run = await pipeline(['stack', 'up', '--workspace', tempWorkspace('nojava')], { env: { PIPELINE_JAVA: '/nonexistent/java' } });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /Java was not found \(tried "\/nonexistent\/java"\): install OpenJDK 17/);
  });

  it('Java too old', async () => {
    const dir = tempWorkspace('oldjava');
    const fake = join(dir, 'java');
    writeFileSync(fake, '#!/bin/sh\necho \'openjdk version "11.0.22" 2024-01-16\' >&2\n', { mode: 0o755 });
    const run = await pipeline(['stack', 'up', '--workspace', dir], { env: { PIPELINE_JAVA: fake } });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /Java 11 .* is too old: .*need Java 17/);
  });

  it('Python missing', async () => {
    const run = await pipeline(['setup'], { env: { PIPELINE_PYTHON: '/nonexistent/python3' } });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /Python was not found \(tried "\/nonexistent\/python3"\)/);
  });

  it('Maven Central unreachable: clear message and no half-made cache', async () => {
    const cache = tempWorkspace('nocentral');
    const run = await pipeline(['stack', 'up', '--workspace', cache], {
      env: {
        PIPELINE_CACHE_DIR: join(cache, 'cache'),
        PIPELINE_MAVEN_MIRROR: 'http://127.0.0.1:9/maven2',
        PIPELINE_MAVEN_REPO_LOCAL: join(cache, 'm2'),
      },
    });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /Could not download Apache Kafka 4\.4\.0 from Maven Central: check the network/);
    assert.deepEqual(readdirSync(join(cache, 'cache', 'kafka')), []);
  });
});
