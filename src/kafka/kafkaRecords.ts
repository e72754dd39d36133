// Records read and written through throw-away clients: the peek (through the scan's range reader) and a one-record producer.
import { Partitioners } from 'kafkajs';
import { UserError, withTimeout } from '../shared/errors';
import { validateTopicName } from '../config/validation';
import type { KafkaAdminConnection } from './kafkaAdminConnection';
import { fetchOffsetsForTimestamp, fetchScanOffsets } from './kafkaMetadata';
import { readRanges } from './topicScan';
import { planPeek, type PartitionRange, type PeekedRecord, type PeekRequest } from './peek';

/**
 * Reads the planned ranges through the browser's range reader (topicScan.ts): a throw-away group, ended by the
 * fetch position, so transaction markers and aborted records at the end of a range do not hold it up. The ranges
 * end at the last stable offset, where a read_committed read stops while a transaction is open.
 */
export async function peek(
  client: KafkaAdminConnection,
  request: PeekRequest,
  options: { timeoutMs?: number } = {},
): Promise<{ ranges: PartitionRange[]; records: PeekedRecord[]; complete: boolean }> {
  const offsets = await fetchScanOffsets(client, request.topic, 'committed');
  const byTime =
    request.start.kind === 'timestamp' ? await fetchOffsetsForTimestamp(client, request.topic, request.start.timestampMs) : undefined;
  const ranges = planPeek(offsets, request, byTime).filter((r) => r.to > r.from);
  const records: PeekedRecord[] = [];
  const { ended } = await readRanges(
    client,
    request.topic,
    ranges.map((r) => ({ partition: r.partition, position: r.from, end: r.to })),
    {
      isolation: 'committed',
      timeoutMs: options.timeoutMs ?? 10_000,
      fetchBytesPerPartition: 256 * 1024,
      onRecords: (partition, messages) => {
        for (const m of messages)
          records.push({ partition, offset: m.offset, timestamp: m.timestamp, key: m.key, value: m.value, headers: m.headers });
        return undefined;
      },
    },
  );
  return { ranges, records, complete: ended === 'end' };
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
