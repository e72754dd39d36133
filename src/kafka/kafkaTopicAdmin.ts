// Topic administration: create and delete topics (one or in bulk), add partitions, purge records.
import { UserError } from '../shared/errors';
import { validatePositiveInt, validateTopicName } from '../config/validation';
import { sleep, type KafkaAdminConnection } from './kafkaAdminConnection';
import { waitForNewTopics, waitForTopicLeaders } from './kafkajsShims';
import { fetchOffsetsForTopics, fetchPartitionOffsets, fetchTopicPartitions } from './kafkaMetadata';

export async function createTopic(
  client: KafkaAdminConnection,
  options: { name: string; partitions: number; replicationFactor?: number; retentionMs?: number },
): Promise<void> {
  const invalid =
    validateTopicName(options.name) ??
    validatePositiveInt(options.partitions, 'Partitions', 10_000) ??
    (options.replicationFactor !== undefined ? validatePositiveInt(options.replicationFactor, 'Replication factor', 32) : undefined);
  if (invalid) throw new UserError(invalid);
  const configEntries = options.retentionMs !== undefined ? [{ name: 'retention.ms', value: String(options.retentionMs) }] : [];
  const created = await client.call(`create topic ${options.name}`, (a) =>
    a.createTopics({
      topics: [
        { topic: options.name, numPartitions: options.partitions, replicationFactor: options.replicationFactor ?? -1, configEntries },
      ],
      waitForLeaders: false,
    }),
  );
  if (!created) throw new UserError(`Topic ${options.name} already exists.`);
  const problem = await waitForTopicLeaders(await client.connected(), options.name, options.partitions, client.timeoutMs);
  if (problem)
    throw new UserError(
      `Topic ${options.name} was created, but Kafka did not report leaders for its partitions within ${Math.round(client.timeoutMs / 1000)} s (${problem}): refresh the view in a moment.`,
    );
}

/**
 * Creates many topics (scale tests and benchmarks): 100 per request, then waits until every partition has a
 * leader and the broker serves its offsets, as a user's cluster would look. Names are the caller's (no
 * validation beyond the broker's).
 */
export async function createTopicsInBulk(
  client: KafkaAdminConnection,
  names: string[],
  partitions: number,
  timeoutMs = 300_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; i < names.length; i += 100) {
    const batch = names.slice(i, i + 100).map((topic) => ({ topic, numPartitions: partitions, replicationFactor: -1 }));
    await client.call(
      `create ${batch.length} topics`,
      (a) => a.createTopics({ topics: batch, waitForLeaders: false, timeout: 60_000 }),
      90_000,
    );
  }
  await waitForNewTopics(names, partitions, deadline, timeoutMs, {
    metadata: () => client.call('read the topic metadata', (a) => a.fetchTopicMetadata(), 60_000),
    offsets: () => fetchOffsetsForTopics(client, names),
  });
}

/** Deletes many topics, 200 per request, and waits (bounded) until the metadata no longer lists them. */
export async function deleteTopicsInBulk(client: KafkaAdminConnection, names: string[], timeoutMs = 120_000): Promise<void> {
  for (let i = 0; i < names.length; i += 200) {
    const batch = names.slice(i, i + 200);
    await client
      .call(`delete ${batch.length} topics`, (a) => a.deleteTopics({ topics: batch, timeout: 60_000 }), 90_000)
      .catch(() => undefined);
  }
  const deadline = Date.now() + timeoutMs;
  const gone = new Set(names);
  while (Date.now() < deadline) {
    const left = (await client.call('list topics', (a) => a.listTopics(), 30_000)).filter((t) => gone.has(t));
    if (left.length === 0) return;
    await sleep(500);
  }
}

export async function deleteTopic(client: KafkaAdminConnection, topic: string): Promise<void> {
  await client.call(`delete topic ${topic}`, (a) => a.deleteTopics({ topics: [topic], timeout: client.timeoutMs }));
}

/** Raises the partition count to `total` (Kafka can only add partitions, never remove them). */
export async function addPartitions(client: KafkaAdminConnection, topic: string, total: number): Promise<void> {
  const current = (await fetchTopicPartitions(client, [topic])).get(topic)?.length ?? 0;
  const invalid =
    validatePositiveInt(total, 'The new partition count', 10_000) ??
    (total <= current
      ? `Topic ${topic} already has ${current} partitions: the new count must be larger (Kafka cannot remove partitions).`
      : undefined);
  if (invalid) throw new UserError(invalid);
  await client.call(`add partitions to ${topic}`, (a) =>
    a.createPartitions({ topicPartitions: [{ topic, count: total }], validateOnly: false, timeout: client.timeoutMs }),
  );
}

/** Deletes every record of every partition (moves the low offset up to the high one); returns how many went. */
export async function purgeTopic(client: KafkaAdminConnection, topic: string): Promise<number> {
  const before = await fetchPartitionOffsets(client, topic);
  // fetchTopicOffsets makes the admin learn the topic's leaders, which deleteTopicRecords needs.
  await client.call(`read offsets of ${topic}`, (a) => a.fetchTopicOffsets(topic));
  await client.call(`purge ${topic}`, (a) =>
    a.deleteTopicRecords({ topic, partitions: before.map((o) => ({ partition: o.partition, offset: String(o.high) })) }),
  );
  return before.reduce((sum, o) => sum + (o.high - o.low), 0);
}
