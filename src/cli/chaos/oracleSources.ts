// The oracle's two readings: every record of the input topic (its own kafkajs consumer) and the committed output files (plain fs).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createKafka, parseBootstrapServers } from '../../kafka/kafkaClient';
import {
  addAggregateCsv,
  addAggregateJson,
  addDeadLetter,
  compare,
  emptyCommitted,
  expectationFrom,
  type Committed,
  type Expectation,
  type OracleReport,
  type TopicRecord,
} from './oracle';

/** Committed files under `dir`, recursively: a name that starts with a dot is in progress (DESIGN.md, contract — outputs). */
function committedFiles(dir: string): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries
    .filter((e) => !e.name.startsWith('.'))
    .flatMap((e) => (e.isDirectory() ? committedFiles(join(dir, e.name)) : e.isFile() ? [join(dir, e.name)] : []))
    .sort();
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined; // renamed or removed between the listing and the read: the next reading sees it
  }
}

/** Reads the committed aggregates (CSV and JSON lines apart) and dead-letter rows of an output folder. */
export function readCommitted(output: string, windowMs: number): Committed {
  const c = emptyCommitted();
  for (const file of committedFiles(join(output, 'aggregates'))) {
    const text = readText(file);
    if (text === undefined) continue;
    if (file.endsWith('.csv')) addAggregateCsv(c, file, text);
    else if (/\.(jsonl|json|ndjson)$/.test(file)) addAggregateJson(c, file, text);
  }
  for (const file of committedFiles(join(output, 'dead-letter'))) {
    const text = readText(file);
    if (text !== undefined && /\.(jsonl|json|ndjson)$/.test(file)) addDeadLetter(c, file, text, windowMs);
  }
  return c;
}

/**
 * Every record of `topic` from the earliest offset to the end offsets taken when the read starts, through a throw-away
 * consumer group that never commits and is deleted afterwards (kafkajs has no group-less consumer), so the job's
 * group is untouched. Fails when the end is not reached within `idleMs` of the last record.
 */
export async function* topicRecords(bootstrap: string, topic: string, idleMs = 30_000): AsyncGenerator<TopicRecord> {
  const kafka = createKafka({ bootstrapServers: parseBootstrapServers(bootstrap), requestTimeoutMs: 10_000, retries: 5 });
  const admin = kafka.admin();
  await admin.connect();
  const groupId = `kafka-flink-lab-oracle-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
  const consumer = kafka.consumer({ groupId, sessionTimeout: 30_000, heartbeatInterval: 3000, maxWaitTimeInMs: 500 });
  try {
    const ends = new Map(
      (await admin.fetchTopicOffsets(topic)).filter((o) => Number(o.high) > Number(o.low)).map((o) => [o.partition, Number(o.high)]),
    );
    if (ends.size === 0) return;
    const queue: TopicRecord[] = [];
    let failure: Error | undefined;
    let wake: (() => void) | undefined;
    let drained: (() => void) | undefined;
    const notify = () => {
      wake?.();
      wake = undefined;
    };
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch, heartbeat }) => {
        const end = ends.get(batch.partition);
        for (const m of batch.messages) if (end !== undefined && Number(m.offset) < end) queue.push({ value: m.value, headers: m.headers });
        if (end === undefined || Number(batch.lastOffset()) >= end - 1) {
          ends.delete(batch.partition);
          consumer.pause([{ topic, partitions: [batch.partition] }]);
        }
        notify();
        // Backpressure: the reader parses as fast as it can; a long queue waits for it.
        while (queue.length > 20_000) {
          await new Promise<void>((r) => (drained = r));
          await heartbeat();
        }
      },
    });
    consumer.on(consumer.events.CRASH, (e) => {
      failure = new Error(`the oracle's consumer of ${topic} crashed: ${String((e.payload as { error?: Error }).error)}`);
      notify();
    });
    for (;;) {
      while (queue.length) {
        yield queue.shift()!;
        if (queue.length < 5000) {
          drained?.();
          drained = undefined;
        }
      }
      if (failure) throw failure;
      if (ends.size === 0) return;
      const timer = new Promise<boolean>((r) => setTimeout(() => r(false), idleMs).unref());
      const woken = await Promise.race([new Promise<boolean>((r) => (wake = () => r(true))), timer]);
      if (!woken && queue.length === 0)
        throw new Error(
          `the oracle read ${topic} but partitions ${[...ends.keys()].join(', ')} did not reach their end within ${idleMs / 1000} s`,
        );
    }
  } finally {
    await consumer.disconnect().catch(() => undefined);
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
  }
}

/** What the input topic asks for, read after the generator has finished. */
export function expectationOfTopic(bootstrap: string, topic: string, windowMs: number): Promise<Expectation> {
  return expectationFrom(topicRecords(bootstrap, topic), windowMs);
}

/** The generator's own count (its --manifest), or undefined when it wrote none. */
export function manifestTotalSent(file: string): number | undefined {
  const text = readText(file);
  if (text === undefined) return undefined;
  try {
    const n = (JSON.parse(text) as { total_sent?: unknown }).total_sent;
    return typeof n === 'number' ? n : undefined;
  } catch {
    return undefined;
  }
}

/** The committed output against the expectation, once. */
export function judge(expected: Expectation, output: string, generatorSent?: number): OracleReport {
  return compare(expected, readCommitted(output, expected.windowMs), generatorSent);
}
