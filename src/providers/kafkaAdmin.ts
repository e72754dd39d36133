import type { Admin, Kafka } from 'kafkajs';
import { UserError, withTimeout } from '../core/errors';
import { createKafka, type ConnectionOptions } from '../core/kafkaClient';
import { validatePositiveInt, validateTopicName } from '../core/validation';

export interface TopicSummary {
  name: string;
  partitions: number;
  replicationFactor: number;
}

export interface PartitionOffsets {
  partition: number;
  low: number;
  high: number;
}

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

  private async connected(): Promise<Admin> {
    if (this.admin) return this.admin;
    this.connecting ??= (async () => {
      const admin = this.kafka.admin();
      try {
        await withTimeout(admin.connect(), this.timeoutMs, `Kafka at ${this.label}`);
      } catch (error) {
        this.connecting = undefined;
        await admin.disconnect().catch(() => undefined);
        throw new UserError(`Cannot reach Kafka at ${this.label}: start it (\`pipeline stack up\`) or check the bootstrap servers setting.`, String(error));
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

  async listTopics(includeInternal = false): Promise<TopicSummary[]> {
    const metadata = await this.call('list topics', (a) => a.fetchTopicMetadata());
    return metadata.topics
      .filter((t) => includeInternal || !t.name.startsWith('__'))
      .map((t) => ({ name: t.name, partitions: t.partitions.length, replicationFactor: t.partitions[0]?.replicas.length ?? 0 }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  async fetchPartitionOffsets(topic: string): Promise<PartitionOffsets[]> {
    const offsets = await this.call(`read offsets of ${topic}`, (a) => a.fetchTopicOffsets(topic));
    return offsets.map((o) => ({ partition: o.partition, low: Number(o.low), high: Number(o.high) })).sort((a, b) => a.partition - b.partition);
  }

  async createTopic(options: { name: string; partitions: number; replicationFactor?: number; retentionMs?: number }): Promise<void> {
    const invalid = validateTopicName(options.name) ?? validatePositiveInt(options.partitions, 'Partitions', 10_000) ?? (options.replicationFactor !== undefined ? validatePositiveInt(options.replicationFactor, 'Replication factor', 32) : undefined);
    if (invalid) throw new UserError(invalid);
    const configEntries = options.retentionMs !== undefined ? [{ name: 'retention.ms', value: String(options.retentionMs) }] : [];
    const created = await this.call(`create topic ${options.name}`, (a) =>
      a.createTopics({
        topics: [{ topic: options.name, numPartitions: options.partitions, replicationFactor: options.replicationFactor ?? -1, configEntries }],
        waitForLeaders: true,
      }),
    );
    if (!created) throw new UserError(`Topic ${options.name} already exists.`);
  }
}
