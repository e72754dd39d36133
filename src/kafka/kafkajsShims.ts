// Every work-around for kafkajs 2.2.4 (pinned and bundled) in one room, each with the upstream issue it answers.
import { CompressionCodecs, CompressionTypes, type Admin, type Kafka } from 'kafkajs';
import { UserError } from '../shared/errors';
import { lz4DecompressFrames } from './lz4';

/*
 * 1. Node 24 prints a TimeoutNegativeWarning on every connection (tulios/kafkajs#1751; its fixes, #1755 and #1756,
 *    are not in a release): the request queue arms its throttle timer with `throttledUntil - Date.now()`, negative
 *    while nothing throttles, and Node runs it after 1 ms. esbuild.mjs clamps that one delay to the same 1 ms as it
 *    bundles kafkajs (plugin `kafkajsTimerClamp`), so the extension host and the CLI run the timer kafkajs meant,
 *    without the warning, and no other warning is hidden. test/unit/kafkajsShims.test.ts checks the bundles.
 * 2. `waitForTopicLeaders`: kafkajs' createTopics({ waitForLeaders }) retries only LEADER_NOT_AVAILABLE, but a busy
 *    broker that has not applied a new topic to its metadata yet answers UNKNOWN_TOPIC_OR_PARTITION for a moment,
 *    an error kafkajs does not retry for a topic that exists (tulios/kafkajs#815).
 * 3. `createInternalCluster` and `listOffsetsAt`: offsets of many topics in one ListOffsets request per leader.
 *    admin.fetchTopicOffsets takes one topic (as added in tulios/kafkajs#314) and refreshes metadata for every topic
 *    it has not seen, so 1,000 topics cost about 3 s, and the Cluster's own fetchTopicsOffset merges the answers in
 *    quadratic time (about 150 ms of CPU per request at 1,000 topics); the requests sent straight to the leaders
 *    take about 0.2 s. No upstream issue found for it.
 * 4. `waitForNewTopics`: the batched ListOffsets goes around kafkajs' retries, and for some seconds after the
 *    metadata names a new topic's leaders the broker still answers it with NOT_LEADER_OR_FOLLOWER.
 * 5. `commitOffsetsOutsideGroup`: admin.setOffsets joins the group as a consumer (about 5 s); an OffsetCommit
 *    outside the group, as kafka-consumer-groups --reset-offsets sends, takes one request. No upstream issue found for it.
 * 6. `registerLz4Decompression`: kafkajs ships no LZ4 codec ("LZ4 compression not implemented"; its docs point to
 *    third-party codecs: tulios/kafkajs#597, #1543) and the generator's producer compresses with lz4, so a kafkajs consumer
 *    of the sensor topic fails on its first batch. Decompression only, in plain code (lz4.ts): nothing here produces lz4.
 * 7. Each record's offset and timestamp: kafkajs parses its batch's first offset and timestamp from decimal text into
 *    a Long for every record, adds the delta and prints the sum (about a tenth of a scan's time on the extension
 *    host's thread; no upstream issue found). esbuild.mjs (plugin `kafkajsRecordNumbers`) parses the base once per
 *    batch and adds Numbers while the sum is a safe integer, kafkajs' Long sum otherwise: the same strings.
 *    test/unit/kafkajsShims.test.ts decodes records with the patched decoder and checks the bundles carry it.
 * The peek's throw-away consumer group (kafkaRecords.ts) answers another gap: kafkajs has no manual
 * partition assignment (tulios/kafkajs#373).
 */

/** The subset of kafkajs' internal Cluster, the object behind admin, producer and consumer, used here. */
export interface InternalCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  addMultipleTargetTopics(topics: string[]): Promise<void>;
  refreshMetadata(): Promise<void>;
  findTopicPartitionMetadata(topic: string): { partitionId: number; leader?: number | null }[];
  findBroker(options: { nodeId: string }): Promise<{
    listOffsets(request: {
      isolationLevel: number;
      topics: { topic: string; partitions: { partition: number; timestamp: number }[] }[];
    }): Promise<{
      responses: { topic: string; partitions: { partition: number; offset: string }[] }[];
    }>;
  }>;
  /** Metadata as the brokers send it: unlike admin.describeCluster, each broker keeps its rack. */
  metadata(options: { topics: string[] }): Promise<{
    brokers: { nodeId: number; host: string; port: number; rack?: string | null }[];
    controllerId?: number;
    clusterId?: string;
  }>;
  findGroupCoordinator(options: { groupId: string }): Promise<{
    offsetCommit(request: {
      groupId: string;
      groupGenerationId: number;
      memberId: string;
      topics: { topic: string; partitions: { partition: number; offset: string }[] }[];
    }): Promise<unknown>;
  }>;
}

/**
 * A fresh kafkajs Cluster of `kafka` (so no stale topic list), or undefined when this kafkajs has no such internal
 * entry point: callers then take the public per-topic path. kafkajs is pinned and bundled, so it cannot move under us.
 */
export function createInternalCluster(kafka: Kafka): InternalCluster | undefined {
  const symbol = Object.getOwnPropertySymbols(kafka).find((s) => s.description === 'private:Kafka:createCluster');
  const create = symbol ? (kafka as unknown as Record<symbol, unknown>)[symbol] : undefined;
  if (typeof create !== 'function') return undefined;
  // Isolation READ_UNCOMMITTED (0): "high" is the high watermark, as kcat and kafka-consumer-groups report it.
  return create({ allowAutoTopicCreation: false, metadataMaxAge: 300_000, isolationLevel: 0 }) as InternalCluster;
}

/** ListOffsets timestamps: the next offset to be written (high watermark) and the first one kept. */
export const LATEST = -1;
export const EARLIEST = -2;

/** The partitions of a topic with their leaders: from the Cluster's metadata, or from a topic list just read. */
export type LeadersOf = (topic: string) => { partitionId: number; leader?: number | null }[];

/** The offset at `timestamp` of every partition of `topics`: one ListOffsets request per leader, in parallel. */
export async function listOffsetsAt(
  cluster: InternalCluster,
  topics: string[],
  timestamp: number,
  leadersOf: LeadersOf,
): Promise<Map<string, Map<number, number>>> {
  const perLeader = new Map<number, { topic: string; partitions: { partition: number; timestamp: number }[] }[]>();
  for (const topic of topics) {
    const byLeader = new Map<number, { partition: number; timestamp: number }[]>();
    for (const p of leadersOf(topic)) {
      if (p.leader === null || p.leader === undefined || p.leader < 0)
        throw new Error(`partition ${p.partitionId} of ${topic} has no leader right now`);
      const list = byLeader.get(p.leader) ?? [];
      list.push({ partition: p.partitionId, timestamp });
      byLeader.set(p.leader, list);
    }
    for (const [leader, partitions] of byLeader) {
      const request = perLeader.get(leader) ?? [];
      request.push({ topic, partitions });
      perLeader.set(leader, request);
    }
  }
  const answers = await Promise.all(
    [...perLeader].map(async ([nodeId, request]) =>
      (await cluster.findBroker({ nodeId: String(nodeId) })).listOffsets({ isolationLevel: 0, topics: request }),
    ),
  );
  const result = new Map<string, Map<number, number>>();
  for (const { responses } of answers) {
    for (const { topic, partitions } of responses) {
      const offsets = result.get(topic) ?? new Map<number, number>();
      for (const p of partitions) offsets.set(p.partition, Number(p.offset));
      result.set(topic, offsets);
    }
  }
  return result;
}

/**
 * Moves a group's committed offsets with one OffsetCommit outside the group (generation -1, no member id); the
 * broker itself refuses it while the group has members.
 */
export async function commitOffsetsOutsideGroup(
  cluster: InternalCluster,
  groupId: string,
  topic: string,
  partitions: { partition: number; offset: string }[],
): Promise<void> {
  // Right after a broker start the group's coordinator may still be loading or moving (NOT_COORDINATOR,
  // COORDINATOR_LOAD_IN_PROGRESS, …): kafkajs marks those retriable; find the coordinator again, a bounded number of times.
  for (let attempt = 1; ; attempt++) {
    try {
      const coordinator = await cluster.findGroupCoordinator({ groupId });
      await coordinator.offsetCommit({ groupId, groupGenerationId: -1, memberId: '', topics: [{ topic, partitions }] });
      return;
    } catch (error) {
      if (!(error as { retriable?: boolean }).retriable || attempt >= 20) throw error;
      await sleep(250);
    }
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until every partition of a new topic has a leader; undefined when they do, else what was seen last. */
export async function waitForTopicLeaders(admin: Admin, topic: string, partitions: number, timeoutMs: number): Promise<string | undefined> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no metadata yet';
  while (Date.now() < deadline) {
    try {
      const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
      const parts = metadata.topics.find((t) => t.name === topic)?.partitions ?? [];
      if (parts.length === partitions && parts.every((p) => p.leader >= 0)) return undefined;
      last = `${parts.filter((p) => p.leader >= 0).length} of ${partitions} partitions have a leader`;
    } catch (error) {
      last = (error as Error).message;
    }
    await sleep(200);
  }
  return last;
}

/**
 * Waits until topics just created are usable, as a user's cluster would look: every partition has a leader in the
 * metadata, and then the broker serves their offsets. `read` says how to read both.
 */
export async function waitForNewTopics(
  names: string[],
  partitions: number,
  deadline: number,
  timeoutMs: number,
  read: { metadata: () => Promise<{ topics: { name: string; partitions: { leader: number }[] }[] }>; offsets: () => Promise<unknown> },
): Promise<void> {
  const wanted = new Set(names);
  for (;;) {
    const metadata = await read.metadata();
    const ready = metadata.topics.filter(
      (t) => wanted.has(t.name) && t.partitions.length === partitions && t.partitions.every((p) => p.leader >= 0),
    ).length;
    if (ready === names.length) break;
    if (Date.now() > deadline)
      throw new UserError(`Only ${ready} of ${names.length} new topics got leaders within ${Math.round(timeoutMs / 1000)} s.`);
    await sleep(500);
  }
  for (;;) {
    const served = await read.offsets().then(
      () => true,
      () => false,
    );
    if (served) return;
    if (Date.now() > deadline)
      throw new UserError(
        `The broker did not serve the offsets of the ${names.length} new topics within ${Math.round(timeoutMs / 1000)} s.`,
      );
    await sleep(500);
  }
}

/** Lets every kafkajs consumer of this process read lz4-compressed batches (work-around 6). */
export function registerLz4Decompression(): void {
  CompressionCodecs[CompressionTypes.LZ4] = () => ({
    compress: () => {
      throw new Error('LZ4 compression is not supported here, only decompression.');
    },
    decompress: async (buffer: Buffer) => lz4DecompressFrames(buffer),
  });
}
