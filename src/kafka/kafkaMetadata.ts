// A cluster's metadata: its brokers, its topics with their partitions, offsets and configs.
import { ConfigResourceTypes } from 'kafkajs';
import { UserError } from '../shared/errors';
import { sleep, type KafkaAdminConnection } from './kafkaAdminConnection';
import { EARLIEST, LATEST, listOffsetsAt, type InternalCluster, type LeadersOf } from './kafkajsShims';
import type { BrokerModel, ClusterModel, PartitionDetail, PartitionModel, PartitionOffsets, TopicModel } from './kafkaModels';

export interface TopicSummary {
  name: string;
  partitions: number;
  replicationFactor: number;
}

export async function describeCluster(client: KafkaAdminConnection): Promise<ClusterModel> {
  // Metadata from the Cluster carries each broker's rack, which admin.describeCluster leaves out.
  type Described = Awaited<ReturnType<InternalCluster['metadata']>>;
  const described: Described =
    (await client.withInternalCluster('describe the cluster', (c) => c.metadata({ topics: [] }))) ??
    (await client
      .call('describe the cluster', (a) => a.describeCluster())
      .then((d) => ({
        brokers: d.brokers,
        controllerId: d.controller ?? undefined,
        clusterId: d.clusterId,
      })));
  const controller =
    described.controllerId !== undefined && described.controllerId !== null && described.controllerId >= 0
      ? described.controllerId
      : undefined;
  const brokers: BrokerModel[] = described.brokers
    .map((b) => ({
      nodeId: b.nodeId,
      host: b.host,
      port: b.port,
      rack: 'rack' in b && b.rack ? b.rack : undefined,
      isController: b.nodeId === controller,
    }))
    .sort((a, b) => a.nodeId - b.nodeId);
  return { clusterId: described.clusterId, controller, brokers };
}

export async function listTopics(client: KafkaAdminConnection, includeInternal = false): Promise<TopicSummary[]> {
  const metadata = await client.call('list topics', (a) => a.fetchTopicMetadata());
  return metadata.topics
    .filter((t) => includeInternal || !t.name.startsWith('__'))
    .map((t) => ({ name: t.name, partitions: t.partitions.length, replicationFactor: t.partitions[0]?.replicas.length ?? 0 }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Partition metadata (leader, replicas, ISR) of every topic, or of the named ones, from one Metadata request. */
export async function fetchTopicPartitions(client: KafkaAdminConnection, topics?: string[]): Promise<Map<string, PartitionModel[]>> {
  const metadata = await client.call(topics ? `read metadata of ${topics.join(', ')}` : 'list topics', (a) =>
    a.fetchTopicMetadata(topics ? { topics } : undefined),
  );
  const result = new Map<string, PartitionModel[]>();
  for (const t of metadata.topics) {
    result.set(
      t.name,
      t.partitions
        .map((p) => ({
          partition: p.partitionId,
          leader: p.leader,
          replicas: [...p.replicas].sort((a, b) => a - b),
          isr: [...p.isr].sort((a, b) => a - b),
          offlineReplicas: [...(p.offlineReplicas ?? [])].sort((a, b) => a - b),
        }))
        .sort((a, b) => a.partition - b.partition),
    );
  }
  return result;
}

/**
 * Low and high offsets of every partition of the given topics, in two ListOffsets requests per broker. The
 * requests go to the leaders straight through the Cluster's brokers: the Cluster's own fetchTopicsOffset merges
 * the answers in quadratic time (about 150 ms of CPU per request at 1,000 topics).
 */
export async function fetchOffsetsForTopics(
  client: KafkaAdminConnection,
  topics: string[],
  known?: Map<string, PartitionModel[]>,
): Promise<Map<string, PartitionOffsets[]>> {
  const result = new Map<string, PartitionOffsets[]>();
  if (topics.length === 0) return result;
  const batched = await client.withInternalCluster(
    `read offsets of ${topics.length === 1 ? topics[0] : `${topics.length} topics`}`,
    async (cluster) => {
      // With the leaders already known (the topic list has just read them), only the brokers' addresses are
      // needed: a metadata request without topics instead of one naming every topic.
      let leadersOf: LeadersOf;
      if (known && topics.every((t) => known.has(t))) {
        await cluster.refreshMetadata();
        leadersOf = (topic) => (known.get(topic) ?? []).map((p) => ({ partitionId: p.partition, leader: p.leader }));
      } else {
        await cluster.addMultipleTargetTopics(topics);
        leadersOf = (topic) => cluster.findTopicPartitionMetadata(topic);
      }
      const [high, low] = await Promise.all([
        listOffsetsAt(cluster, topics, LATEST, leadersOf),
        listOffsetsAt(cluster, topics, EARLIEST, leadersOf),
      ]);
      return { high, low };
    },
  );
  if (batched) {
    for (const [topic, highs] of batched.high) {
      const lows = batched.low.get(topic);
      result.set(
        topic,
        [...highs]
          .map(([partition, high]) => ({ partition, low: lows?.get(partition) ?? 0, high }))
          .sort((a, b) => a.partition - b.partition),
      );
    }
    return result;
  }
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(8, topics.length) }, async () => {
      while (next < topics.length) {
        const topic = topics[next++];
        const offsets = await client.call(`read offsets of ${topic}`, (a) => a.fetchTopicOffsets(topic));
        result.set(
          topic,
          offsets
            .map((o) => ({ partition: o.partition, low: Number(o.low), high: Number(o.high) }))
            .sort((a, b) => a.partition - b.partition),
        );
      }
    }),
  );
  return result;
}

export async function fetchPartitionOffsets(client: KafkaAdminConnection, topic: string): Promise<PartitionOffsets[]> {
  const offsets = (await fetchOffsetsForTopics(client, [topic])).get(topic);
  if (!offsets) throw new UserError(`Topic ${topic} does not exist on Kafka at ${client.label}.`);
  return offsets;
}

/** retention.ms and cleanup.policy of many topics in one DescribeConfigs request. */
export async function fetchTopicConfigs(
  client: KafkaAdminConnection,
  topics: string[],
): Promise<Map<string, { retentionMs?: number; cleanupPolicy?: string }>> {
  const result = new Map<string, { retentionMs?: number; cleanupPolicy?: string }>();
  if (topics.length === 0) return result;
  const described = await client.call('read topic configs', (a) =>
    a.describeConfigs({
      resources: topics.map((name) => ({ type: ConfigResourceTypes.TOPIC, name, configNames: ['retention.ms', 'cleanup.policy'] })),
      includeSynonyms: false,
    }),
  );
  for (const r of described.resources) {
    if (r.errorCode) continue;
    const value = (key: string) => r.configEntries.find((e) => e.configName === key)?.configValue;
    const retention = value('retention.ms');
    result.set(r.resourceName, {
      retentionMs: retention !== undefined && retention !== null ? Number(retention) : undefined,
      cleanupPolicy: value('cleanup.policy') ?? undefined,
    });
  }
  return result;
}

/**
 * Every topic with partitions, replication, retention and message count: one Metadata request, then one
 * DescribeConfigs and the batched ListOffsets side by side. Configs and counts are left out (not failed) when
 * they cannot be read, so the list still shows.
 */
export async function listTopicDetails(client: KafkaAdminConnection, options: { includeInternal?: boolean } = {}): Promise<TopicModel[]> {
  const partitions = await fetchTopicPartitions(client);
  const names = [...partitions.keys()].filter((n) => options.includeInternal || !n.startsWith('__')).sort((a, b) => a.localeCompare(b));
  // A part that failed is tried again soon: right after topics are created the metadata can name a leader that
  // does not lead yet (NOT_LEADER_OR_FOLLOWER for a moment), and a busy broker can drop a request. The offsets'
  // first try uses the leaders of the metadata just read; a retry reads them again.
  const deadline = Date.now() + client.timeoutMs;
  const settle = async <T>(read: (attempt: number) => Promise<T>): Promise<T> => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await read(attempt);
      } catch (error) {
        if (attempt >= 3 || Date.now() > deadline) throw error;
        await sleep(100 * 2 ** attempt);
      }
    }
  };
  const [configs, offsets] = await Promise.allSettled([
    settle(() => fetchTopicConfigs(client, names)),
    settle((attempt) => fetchOffsetsForTopics(client, names, attempt === 0 ? partitions : undefined)),
  ]);
  return names.map((name) => {
    const parts = partitions.get(name) ?? [];
    const config = configs.status === 'fulfilled' ? configs.value.get(name) : undefined;
    const topicOffsets = offsets.status === 'fulfilled' ? offsets.value.get(name) : undefined;
    return {
      name,
      internal: name.startsWith('__'),
      partitions: parts,
      replicationFactor: parts[0]?.replicas.length ?? 0,
      retentionMs: config?.retentionMs,
      cleanupPolicy: config?.cleanupPolicy,
      messages: topicOffsets?.reduce((sum, o) => sum + (o.high - o.low), 0),
    };
  });
}

/** One topic's partitions with leader, replicas, ISR and low/high offsets. */
export async function describeTopicPartitions(client: KafkaAdminConnection, topic: string): Promise<PartitionDetail[]> {
  const [metadata, offsets] = await Promise.all([fetchTopicPartitions(client, [topic]), fetchOffsetsForTopics(client, [topic])]);
  const parts = metadata.get(topic);
  if (!parts) throw new UserError(`Topic ${topic} does not exist on Kafka at ${client.label}.`);
  const byPartition = new Map((offsets.get(topic) ?? []).map((o) => [o.partition, o]));
  return parts.map((p) => ({ ...p, low: byPartition.get(p.partition)?.low ?? 0, high: byPartition.get(p.partition)?.high ?? 0 }));
}

/** Offsets of the first record at or after `timestampMs` per partition (the end offset when there is none). */
export async function fetchOffsetsForTimestamp(
  client: KafkaAdminConnection,
  topic: string,
  timestampMs: number,
): Promise<Map<number, number>> {
  const offsets = await client.call(`find offsets of ${topic} at ${new Date(timestampMs).toISOString()}`, (a) =>
    a.fetchTopicOffsetsByTimestamp(topic, timestampMs),
  );
  return new Map(offsets.map((o) => [o.partition, Number(o.offset)]));
}

const LEADER_RETRIES = 8;
const LEADER_MOVING = /not the leader|leader not available|has no leader right now/i;

/** A topic's earliest and end offsets per partition, from each partition's leader. */
async function readOffsetsOf(cluster: InternalCluster, topic: string, isolation: 'committed' | 'uncommitted'): Promise<PartitionOffsets[]> {
  const byLeader = new Map<number, number[]>();
  for (const p of cluster.findTopicPartitionMetadata(topic)) {
    if (p.leader === null || p.leader === undefined || p.leader < 0) throw new Error(`partition ${p.partitionId} has no leader right now`);
    byLeader.set(p.leader, [...(byLeader.get(p.leader) ?? []), p.partitionId]);
  }
  const at = async (timestamp: number, isolationLevel: number) => {
    const found = new Map<number, number>();
    await Promise.all(
      [...byLeader].map(async ([nodeId, partitions]) => {
        const broker = await cluster.findBroker({ nodeId: String(nodeId) });
        const { responses } = await broker.listOffsets({
          isolationLevel,
          topics: [{ topic, partitions: partitions.map((partition) => ({ partition, timestamp })) }],
        });
        for (const r of responses) for (const p of r.partitions) found.set(p.partition, Number(p.offset));
      }),
    );
    return found;
  };
  const [low, end] = await Promise.all([at(EARLIEST, 0), at(LATEST, isolation === 'committed' ? 1 : 0)]);
  return [...end].map(([partition, high]) => ({ partition, low: low.get(partition) ?? 0, high })).sort((a, b) => a.partition - b.partition);
}

/**
 * Low and end offsets of one topic for a reader at `isolation`: the end is the high watermark when reading
 * uncommitted, the last stable offset when reading committed (ListOffsets with isolation level READ_COMMITTED),
 * where a read_committed fetch stops while a transaction is open. A missing topic is a UserError.
 */
export async function fetchScanOffsets(
  client: KafkaAdminConnection,
  topic: string,
  isolation: 'committed' | 'uncommitted',
): Promise<PartitionOffsets[]> {
  const topics = await client.call('list topics', (a) => a.listTopics());
  if (!topics.includes(topic)) throw new UserError(`Topic ${topic} does not exist on Kafka at ${client.label}.`);
  const read = await client.withInternalCluster(`read offsets of ${topic}`, async (cluster) => {
    await cluster.addMultipleTargetTopics([topic]);
    // A partition's leader can be named in the metadata a moment before that broker acts as one (a topic just
    // created, a broker just started): asked then, it answers "not the leader", and is asked again.
    for (let attempt = 1; ; attempt++) {
      try {
        return await readOffsetsOf(cluster, topic, isolation);
      } catch (error) {
        if (attempt >= LEADER_RETRIES || !LEADER_MOVING.test(String((error as Error).message))) throw error;
        await new Promise((r) => setTimeout(r, 200 * attempt));
        await cluster.refreshMetadata();
      }
    }
  });
  if (read) return read;
  // No internal Cluster: the admin's own ListOffsets, whose end is the high watermark.
  return fetchPartitionOffsets(client, topic);
}
