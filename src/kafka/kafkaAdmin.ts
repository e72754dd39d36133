import { ConfigResourceTypes, Partitioners, type Admin, type Kafka } from 'kafkajs';
import { UserError, withTimeout } from '../shared/errors';
import { createKafka, type ConnectionOptions } from './kafkaClient';
import {
  commitOffsetsOutsideGroup,
  createInternalCluster,
  EARLIEST,
  LATEST,
  listOffsetsAt,
  waitForNewTopics,
  waitForTopicLeaders,
  type InternalCluster,
  type LeadersOf,
} from './kafkajsShims';
import type {
  BrokerModel,
  ClusterModel,
  CommittedOffset,
  GroupModel,
  GroupPartitionLag,
  PartitionDetail,
  PartitionModel,
  PartitionOffsets,
  TopicModel,
} from './kafkaModels';
import { computeLag } from './lag';
import { type OffsetStart, type PeekedRecord, type PeekRequest, type PartitionRange, planPeek } from './peek';
import { planOffsetReset, type ResetTarget } from './offsetReset';
import { validatePositiveInt, validateTopicName } from '../config/validation';

export type { PartitionOffsets } from './kafkaModels';

export interface TopicSummary {
  name: string;
  partitions: number;
  replicationFactor: number;
}

/** Errors a group coordinator answers right after a broker starts; they pass within seconds. */
const COORDINATOR_WARMING_UP =
  /COORDINATOR_LOAD_IN_PROGRESS|COORDINATOR_NOT_AVAILABLE|NOT_COORDINATOR|coordinator is (loading|not available)|not the correct coordinator/i;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Talks to one Kafka cluster through kafkajs; every call is bounded by a timeout. */
export class KafkaAdminClient {
  readonly kafka: Kafka;
  private admin: Admin | undefined;
  private connecting: Promise<Admin> | undefined;

  constructor(
    readonly connection: ConnectionOptions,
    private readonly timeoutMs = 5000,
  ) {
    this.kafka = createKafka(connection);
  }

  get label(): string {
    return this.connection.bootstrapServers.join(',');
  }

  protected async call<T>(what: string, fn: (admin: Admin) => Promise<T>, timeoutMs = this.timeoutMs): Promise<T> {
    const admin = await this.connected();
    try {
      return await withTimeout(fn(admin), timeoutMs, `Kafka at ${this.label} (${what})`);
    } catch (error) {
      if (error instanceof UserError) throw error;
      throw new UserError(`Kafka at ${this.label} failed to ${what}: ${(error as Error).message}.`);
    }
  }

  /** `call`, retried while the group coordinator is still loading (common in the first seconds after a start). */
  private async callGroup<T>(what: string, fn: (admin: Admin) => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.timeoutMs * 2;
    for (;;) {
      try {
        return await this.call(what, fn);
      } catch (error) {
        if (!COORDINATOR_WARMING_UP.test(String((error as Error).message)) || Date.now() > deadline) throw error;
        await sleep(500);
      }
    }
  }

  private async connected(): Promise<Admin> {
    if (this.admin) return this.admin;
    this.connecting ??= (async () => {
      const admin = this.kafka.admin();
      try {
        await withTimeout(admin.connect(), this.timeoutMs, `Kafka at ${this.label}`);
      } catch (error) {
        this.connecting = undefined;
        await admin.disconnect().catch(() => undefined);
        throw new UserError(
          `Cannot reach Kafka at ${this.label}: start it (\`pipeline stack up\`) or check the bootstrap servers setting.`,
          String(error),
        );
      }
      this.admin = admin;
      return admin;
    })();
    return this.connecting;
  }

  async close(): Promise<void> {
    const admin = this.admin;
    this.admin = undefined;
    this.connecting = undefined;
    await admin?.disconnect().catch(() => undefined);
  }

  /**
   * Runs `fn` on a fresh kafkajs Cluster (kafkajsShims.ts says why), bounded by the timeout; `undefined` when
   * this kafkajs has none (the public per-topic path then).
   */
  private async withInternalCluster<T>(what: string, fn: (cluster: InternalCluster) => Promise<T>): Promise<T | undefined> {
    const cluster = createInternalCluster(this.kafka);
    if (!cluster) return undefined;
    try {
      try {
        await withTimeout(cluster.connect(), this.timeoutMs, `Kafka at ${this.label}`);
      } catch (error) {
        throw new UserError(
          `Cannot reach Kafka at ${this.label}: start it (\`pipeline stack up\`) or check the bootstrap servers setting.`,
          String(error),
        );
      }
      return await withTimeout(fn(cluster), this.timeoutMs, `Kafka at ${this.label} (${what})`);
    } catch (error) {
      if (error instanceof UserError) throw error;
      throw new UserError(`Kafka at ${this.label} failed to ${what}: ${(error as Error).message}.`);
    } finally {
      await cluster.disconnect().catch(() => undefined);
    }
  }

  async describeCluster(): Promise<ClusterModel> {
    // Metadata from the Cluster carries each broker's rack, which admin.describeCluster leaves out.
    type Described = Awaited<ReturnType<InternalCluster['metadata']>>;
    const described: Described =
      (await this.withInternalCluster('describe the cluster', (c) => c.metadata({ topics: [] }))) ??
      (await this.call('describe the cluster', (a) => a.describeCluster()).then((d) => ({
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

  async listTopics(includeInternal = false): Promise<TopicSummary[]> {
    const metadata = await this.call('list topics', (a) => a.fetchTopicMetadata());
    return metadata.topics
      .filter((t) => includeInternal || !t.name.startsWith('__'))
      .map((t) => ({ name: t.name, partitions: t.partitions.length, replicationFactor: t.partitions[0]?.replicas.length ?? 0 }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Partition metadata (leader, replicas, ISR) of every topic, or of the named ones, from one Metadata request. */
  async fetchTopicPartitions(topics?: string[]): Promise<Map<string, PartitionModel[]>> {
    const metadata = await this.call(topics ? `read metadata of ${topics.join(', ')}` : 'list topics', (a) =>
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
  async fetchOffsetsForTopics(topics: string[], known?: Map<string, PartitionModel[]>): Promise<Map<string, PartitionOffsets[]>> {
    const result = new Map<string, PartitionOffsets[]>();
    if (topics.length === 0) return result;
    const batched = await this.withInternalCluster(
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
          const offsets = await this.call(`read offsets of ${topic}`, (a) => a.fetchTopicOffsets(topic));
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

  async fetchPartitionOffsets(topic: string): Promise<PartitionOffsets[]> {
    const offsets = (await this.fetchOffsetsForTopics([topic])).get(topic);
    if (!offsets) throw new UserError(`Topic ${topic} does not exist on Kafka at ${this.label}.`);
    return offsets;
  }

  /** retention.ms and cleanup.policy of many topics in one DescribeConfigs request. */
  async fetchTopicConfigs(topics: string[]): Promise<Map<string, { retentionMs?: number; cleanupPolicy?: string }>> {
    const result = new Map<string, { retentionMs?: number; cleanupPolicy?: string }>();
    if (topics.length === 0) return result;
    const described = await this.call('read topic configs', (a) =>
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
  async listTopicDetails(options: { includeInternal?: boolean } = {}): Promise<TopicModel[]> {
    const partitions = await this.fetchTopicPartitions();
    const names = [...partitions.keys()].filter((n) => options.includeInternal || !n.startsWith('__')).sort((a, b) => a.localeCompare(b));
    // A part that failed is tried again soon: right after topics are created the metadata can name a leader that
    // does not lead yet (NOT_LEADER_OR_FOLLOWER for a moment), and a busy broker can drop a request. The offsets'
    // first try uses the leaders of the metadata just read; a retry reads them again.
    const deadline = Date.now() + this.timeoutMs;
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
      settle(() => this.fetchTopicConfigs(names)),
      settle((attempt) => this.fetchOffsetsForTopics(names, attempt === 0 ? partitions : undefined)),
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
  async describeTopicPartitions(topic: string): Promise<PartitionDetail[]> {
    const [metadata, offsets] = await Promise.all([this.fetchTopicPartitions([topic]), this.fetchOffsetsForTopics([topic])]);
    const parts = metadata.get(topic);
    if (!parts) throw new UserError(`Topic ${topic} does not exist on Kafka at ${this.label}.`);
    const byPartition = new Map((offsets.get(topic) ?? []).map((o) => [o.partition, o]));
    return parts.map((p) => ({ ...p, low: byPartition.get(p.partition)?.low ?? 0, high: byPartition.get(p.partition)?.high ?? 0 }));
  }

  async createTopic(options: { name: string; partitions: number; replicationFactor?: number; retentionMs?: number }): Promise<void> {
    const invalid =
      validateTopicName(options.name) ??
      validatePositiveInt(options.partitions, 'Partitions', 10_000) ??
      (options.replicationFactor !== undefined ? validatePositiveInt(options.replicationFactor, 'Replication factor', 32) : undefined);
    if (invalid) throw new UserError(invalid);
    const configEntries = options.retentionMs !== undefined ? [{ name: 'retention.ms', value: String(options.retentionMs) }] : [];
    const created = await this.call(`create topic ${options.name}`, (a) =>
      a.createTopics({
        topics: [
          { topic: options.name, numPartitions: options.partitions, replicationFactor: options.replicationFactor ?? -1, configEntries },
        ],
        waitForLeaders: false,
      }),
    );
    if (!created) throw new UserError(`Topic ${options.name} already exists.`);
    const problem = await waitForTopicLeaders(await this.connected(), options.name, options.partitions, this.timeoutMs);
    if (problem)
      throw new UserError(
        `Topic ${options.name} was created, but Kafka did not report leaders for its partitions within ${Math.round(this.timeoutMs / 1000)} s (${problem}): refresh the view in a moment.`,
      );
  }

  /**
   * Creates many topics (scale tests and benchmarks): 100 per request, then waits until every partition has a
   * leader and the broker serves its offsets, as a user's cluster would look. Names are the caller's (no
   * validation beyond the broker's).
   */
  async createTopicsInBulk(names: string[], partitions: number, timeoutMs = 300_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (let i = 0; i < names.length; i += 100) {
      const batch = names.slice(i, i + 100).map((topic) => ({ topic, numPartitions: partitions, replicationFactor: -1 }));
      await this.call(
        `create ${batch.length} topics`,
        (a) => a.createTopics({ topics: batch, waitForLeaders: false, timeout: 60_000 }),
        90_000,
      );
    }
    await waitForNewTopics(names, partitions, deadline, timeoutMs, {
      metadata: () => this.call('read the topic metadata', (a) => a.fetchTopicMetadata(), 60_000),
      offsets: () => this.fetchOffsetsForTopics(names),
    });
  }

  /** Deletes many topics, 200 per request, and waits (bounded) until the metadata no longer lists them. */
  async deleteTopicsInBulk(names: string[], timeoutMs = 120_000): Promise<void> {
    for (let i = 0; i < names.length; i += 200) {
      const batch = names.slice(i, i + 200);
      await this.call(`delete ${batch.length} topics`, (a) => a.deleteTopics({ topics: batch, timeout: 60_000 }), 90_000).catch(
        () => undefined,
      );
    }
    const deadline = Date.now() + timeoutMs;
    const gone = new Set(names);
    while (Date.now() < deadline) {
      const left = (await this.call('list topics', (a) => a.listTopics(), 30_000)).filter((t) => gone.has(t));
      if (left.length === 0) return;
      await sleep(500);
    }
  }

  async deleteTopic(topic: string): Promise<void> {
    await this.call(`delete topic ${topic}`, (a) => a.deleteTopics({ topics: [topic], timeout: this.timeoutMs }));
  }

  /** Raises the partition count to `total` (Kafka can only add partitions, never remove them). */
  async addPartitions(topic: string, total: number): Promise<void> {
    const current = (await this.fetchTopicPartitions([topic])).get(topic)?.length ?? 0;
    const invalid =
      validatePositiveInt(total, 'The new partition count', 10_000) ??
      (total <= current
        ? `Topic ${topic} already has ${current} partitions: the new count must be larger (Kafka cannot remove partitions).`
        : undefined);
    if (invalid) throw new UserError(invalid);
    await this.call(`add partitions to ${topic}`, (a) =>
      a.createPartitions({ topicPartitions: [{ topic, count: total }], validateOnly: false, timeout: this.timeoutMs }),
    );
  }

  /** Deletes every record of every partition (moves the low offset up to the high one); returns how many went. */
  async purgeTopic(topic: string): Promise<number> {
    const before = await this.fetchPartitionOffsets(topic);
    // fetchTopicOffsets makes the admin learn the topic's leaders, which deleteTopicRecords needs.
    await this.call(`read offsets of ${topic}`, (a) => a.fetchTopicOffsets(topic));
    await this.call(`purge ${topic}`, (a) =>
      a.deleteTopicRecords({ topic, partitions: before.map((o) => ({ partition: o.partition, offset: String(o.high) })) }),
    );
    return before.reduce((sum, o) => sum + (o.high - o.low), 0);
  }

  /** Offsets of the first record at or after `timestampMs` per partition (the end offset when there is none). */
  async fetchOffsetsForTimestamp(topic: string, timestampMs: number): Promise<Map<number, number>> {
    const offsets = await this.call(`find offsets of ${topic} at ${new Date(timestampMs).toISOString()}`, (a) =>
      a.fetchTopicOffsetsByTimestamp(topic, timestampMs),
    );
    return new Map(offsets.map((o) => [o.partition, Number(o.offset)]));
  }

  async listGroups(): Promise<GroupModel[]> {
    const listed = await this.callGroup('list consumer groups', (a) => a.listGroups());
    const ids = listed.groups.map((g) => g.groupId).sort((a, b) => a.localeCompare(b));
    if (ids.length === 0) return [];
    const described = await this.callGroup('describe consumer groups', (a) => a.describeGroups(ids));
    const byId = new Map(described.groups.map((g) => [g.groupId, g]));
    return ids.map((groupId) => {
      const g = byId.get(groupId);
      return {
        groupId,
        state: g?.state ?? 'Unknown',
        protocolType: g?.protocolType ?? listed.groups.find((l) => l.groupId === groupId)?.protocolType ?? '',
        members: g?.members.length ?? 0,
      };
    });
  }

  async describeGroup(groupId: string): Promise<GroupModel> {
    const described = await this.callGroup(`describe group ${groupId}`, (a) => a.describeGroups([groupId]));
    const g = described.groups[0];
    return { groupId, state: g?.state ?? 'Unknown', protocolType: g?.protocolType ?? '', members: g?.members.length ?? 0 };
  }

  async fetchCommittedOffsets(groupId: string, topics?: string[]): Promise<CommittedOffset[]> {
    const fetched = await this.callGroup(`read committed offsets of ${groupId}`, (a) => a.fetchOffsets({ groupId, topics }));
    return fetched.flatMap((t) => t.partitions.map((p) => ({ topic: t.topic, partition: p.partition, offset: Number(p.offset) })));
  }

  /** Committed offset, end offset and lag per partition of every topic the group has committed to. */
  async describeGroupLag(groupId: string, topics?: string[]): Promise<GroupPartitionLag[]> {
    const committed = await this.fetchCommittedOffsets(groupId, topics);
    const names = [...new Set(committed.map((c) => c.topic))];
    return computeLag(committed, await this.fetchOffsetsForTopics(names));
  }

  /**
   * Moves a group's committed offsets of one topic. The caller checks first that the group has no members
   * (`resetRefusal`); Kafka refuses otherwise.
   */
  async resetGroupOffsets(
    groupId: string,
    topic: string,
    partition: number | 'all',
    target: ResetTarget,
  ): Promise<{ partition: number; offset: number }[]> {
    const offsets = await this.fetchPartitionOffsets(topic);
    const byTime = target.kind === 'timestamp' ? await this.fetchOffsetsForTimestamp(topic, target.timestampMs) : undefined;
    const plan = planOffsetReset(offsets, partition, target, byTime);
    const partitions = plan.map((p) => ({ partition: p.partition, offset: String(p.offset) }));
    // Without the internal Cluster, kafkajs' setOffsets (it joins the group, about 5 s).
    const committed = await this.withInternalCluster(`reset offsets of ${groupId}`, async (cluster) => {
      await commitOffsetsOutsideGroup(cluster, groupId, topic, partitions);
      return true;
    });
    if (!committed) await this.call(`reset offsets of ${groupId}`, (a) => a.setOffsets({ groupId, topic, partitions }), this.timeoutMs * 3);
    return plan;
  }

  /**
   * Reads the planned ranges with a throw-away consumer group that never commits and is deleted afterwards
   * (kafkajs has no group-less consumer: tulios/kafkajs#373). Stops when every range is read, or after `idleMs` without a new record
   * (offsets taken by transaction markers or compaction never arrive), or at the time limit.
   */
  async peek(
    request: PeekRequest,
    options: { timeoutMs?: number; idleMs?: number } = {},
  ): Promise<{ ranges: PartitionRange[]; records: PeekedRecord[]; complete: boolean }> {
    const offsets = await this.fetchPartitionOffsets(request.topic);
    const byTime =
      request.start.kind === 'timestamp' ? await this.fetchOffsetsForTimestamp(request.topic, request.start.timestampMs) : undefined;
    const ranges = planPeek(offsets, request, byTime).filter((r) => r.to > r.from);
    const records: PeekedRecord[] = [];
    if (ranges.length === 0) return { ranges, records, complete: true };

    const groupId = `kafka-flink-lab-peek-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
    const consumer = this.kafka.consumer({
      groupId,
      sessionTimeout: 10_000,
      heartbeatInterval: 1000,
      maxWaitTimeInMs: 250,
      retry: { retries: 2 },
    });
    const wanted = new Map(ranges.map((r) => [r.partition, r]));
    const done = new Set<number>();
    let complete = false;
    try {
      await withTimeout(consumer.connect(), this.timeoutMs, `Kafka at ${this.label} (peek)`);
      await consumer.subscribe({ topics: [request.topic], fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        let idleTimer: NodeJS.Timeout | undefined;
        const finish = () => {
          clearTimeout(overall);
          clearTimeout(idleTimer);
          resolve();
        };
        const overall = setTimeout(finish, options.timeoutMs ?? 10_000);
        const touch = () => {
          clearTimeout(idleTimer);
          idleTimer = setTimeout(finish, options.idleMs ?? 2000);
        };
        consumer
          .run({
            autoCommit: false,
            eachMessage: async ({ partition, message }) => {
              const range = wanted.get(partition);
              const offset = Number(message.offset);
              if (!range || offset < range.from || offset >= range.to) {
                if (range && offset >= range.to) done.add(partition);
              } else {
                records.push({
                  partition,
                  offset: message.offset,
                  timestamp: message.timestamp,
                  key: message.key,
                  value: message.value,
                  headers: message.headers,
                });
                if (offset >= range.to - 1) done.add(partition);
              }
              touch();
              if (done.size === wanted.size) {
                complete = true;
                finish();
              }
            },
          })
          .then(() => {
            const others = offsets.map((o) => o.partition).filter((p) => !wanted.has(p));
            if (others.length) consumer.pause([{ topic: request.topic, partitions: others }]);
            for (const r of ranges) consumer.seek({ topic: request.topic, partition: r.partition, offset: String(r.from) });
            touch();
          }, reject);
      });
    } finally {
      await consumer.disconnect().catch(() => undefined);
      await this.call('delete the peek group', (a) => a.deleteGroups([groupId])).catch(() => undefined);
    }
    return { ranges, records, complete };
  }

  /** Produces one record; returns where it landed. */
  async produce(message: {
    topic: string;
    key?: string;
    value: string;
    partition?: number;
    headers?: Record<string, string>;
  }): Promise<{ partition: number; offset: number }> {
    const invalid = validateTopicName(message.topic);
    if (invalid) throw new UserError(invalid);
    const producer = this.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
    try {
      await withTimeout(producer.connect(), this.timeoutMs, `Kafka at ${this.label} (produce)`);
      const [meta] = await withTimeout(
        producer.send({
          topic: message.topic,
          acks: -1,
          messages: [{ key: message.key, value: message.value, partition: message.partition, headers: message.headers }],
        }),
        this.timeoutMs,
        `Kafka at ${this.label} (produce to ${message.topic})`,
      );
      return { partition: meta.partition, offset: Number(meta.baseOffset ?? meta.offset ?? -1) };
    } catch (error) {
      if (error instanceof UserError) throw error;
      throw new UserError(`Kafka at ${this.label} failed to produce to ${message.topic}: ${(error as Error).message}.`);
    } finally {
      await producer.disconnect().catch(() => undefined);
    }
  }
}

export type { OffsetStart };
