// Records read and written through throw-away clients: the peek's consumer group and a one-record producer.
import { Partitioners } from 'kafkajs';
import { UserError, withTimeout } from '../shared/errors';
import { validateTopicName } from '../config/validation';
import type { KafkaAdminConnection } from './kafkaAdminConnection';
import { fetchOffsetsForTimestamp, fetchPartitionOffsets } from './kafkaMetadata';
import { planPeek, type PartitionRange, type PeekedRecord, type PeekRequest } from './peek';

/**
 * Reads the planned ranges with a throw-away consumer group that never commits and is deleted afterwards
 * (kafkajs has no group-less consumer: tulios/kafkajs#373). Stops when every range is read, or after `idleMs` without a new record
 * (offsets taken by transaction markers or compaction never arrive), or at the time limit.
 */
export async function peek(
  client: KafkaAdminConnection,
  request: PeekRequest,
  options: { timeoutMs?: number; idleMs?: number } = {},
): Promise<{ ranges: PartitionRange[]; records: PeekedRecord[]; complete: boolean }> {
  const offsets = await fetchPartitionOffsets(client, request.topic);
  const byTime =
    request.start.kind === 'timestamp' ? await fetchOffsetsForTimestamp(client, request.topic, request.start.timestampMs) : undefined;
  const ranges = planPeek(offsets, request, byTime).filter((r) => r.to > r.from);
  const records: PeekedRecord[] = [];
  if (ranges.length === 0) return { ranges, records, complete: true };

  const groupId = `kafka-flink-lab-peek-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
  const consumer = client.kafka.consumer({
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
    await withTimeout(consumer.connect(), client.timeoutMs, `Kafka at ${client.label} (peek)`);
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
    await client.call('delete the peek group', (a) => a.deleteGroups([groupId])).catch(() => undefined);
  }
  return { ranges, records, complete };
}

/** Produces one record; returns where it landed. */
export async function produce(
  client: KafkaAdminConnection,
  message: {
    topic: string;
    key?: string;
    value: string;
    partition?: number;
    headers?: Record<string, string>;
  },
): Promise<{ partition: number; offset: number }> {
  const invalid = validateTopicName(message.topic);
  if (invalid) throw new UserError(invalid);
  const producer = client.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
  try {
    await withTimeout(producer.connect(), client.timeoutMs, `Kafka at ${client.label} (produce)`);
    const [meta] = await withTimeout(
      producer.send({
        topic: message.topic,
        acks: -1,
        messages: [{ key: message.key, value: message.value, partition: message.partition, headers: message.headers }],
      }),
      client.timeoutMs,
      `Kafka at ${client.label} (produce to ${message.topic})`,
    );
    return { partition: meta.partition, offset: Number(meta.baseOffset ?? meta.offset ?? -1) };
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw new UserError(`Kafka at ${client.label} failed to produce to ${message.topic}: ${(error as Error).message}.`);
  } finally {
    await producer.disconnect().catch(() => undefined);
  }
}
