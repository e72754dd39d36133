// The one reader of topic ranges (Peek and the message browser both read through it), and the browser's scan on top.
import { isUtf8 } from 'node:buffer';
import type { Consumer, KafkaMessage } from 'kafkajs';
import { UserError, withTimeout } from '../shared/errors';
import { validateTopicName } from '../config/validation';
import type { KafkaAdminConnection } from './kafkaAdminConnection';
import { fetchOffsetsForTimestamp, fetchScanOffsets } from './kafkaMetadata';
import { BatchFilter, filtersRecords, type FilterBatch } from './scanFilter';
import { GapList, planScan, scanFinished, TAIL_END, TimeHistogram } from './scanPlan';
import {
  SCAN_STALL_MS,
  type Isolation,
  type PartitionPosition,
  type ScanCursor,
  type ScanPage,
  type ScanProgress,
  type ScanRecord,
  type ScanRequest,
} from './topicScanTypes';

/**
 * Every group a scan or a peek joins starts with this: kafkajs has no group-less consumer (tulios/kafkajs#373), so
 * each read joins a throw-away group that never commits and is deleted afterwards. The Kafka tree hides them.
 */
export const SCAN_GROUP_PREFIX = 'kafka-flink-lab-scan-';

export const MAX_SCAN_LIMIT = 100_000;
const DEFAULT_TAIL_WAIT_MS = 2000;
const DEFAULT_SCAN_TIMEOUT_MS = 10 * 60_000;
const PROGRESS_EVERY_MS = 200;
/** What one fetch asks of a partition on a long scan; kafkajs holds a whole fetch, decompressed, as JS objects. */
const FETCH_BYTES_PER_PARTITION = 1024 * 1024;
/** Batches handed to `onRecords` whose answers are still awaited: the filter's thread works while Kafka is read. */
const MAX_BATCHES_IN_FLIGHT = 8;
/** How long a finished read waits for the answers still in flight. */
const DRAIN_TIMEOUT_MS = 10_000;

/** What `onRecords` answers: where to stop (or nothing), now or as a step to run in the batches' order. */
export type RecordsAnswer = number | undefined | Promise<number | undefined | (() => number | undefined)>;

export type ReadEnd = 'end' | 'stopped' | 'cancelled' | 'timeout' | 'idle' | 'stalled';

export interface RangeReadOptions {
  isolation: Isolation;
  signal?: AbortSignal;
  /** The whole read's limit. */
  timeoutMs?: number;
  /**
   * For ranges without an end (a tail): stop after this long without a record, or this long after the first batch,
   * so that a busy topic's tail still ends its page and shows what matched.
   */
  idleMs?: number;
  gaps?: GapList;
  /**
   * Bytes one fetch asks of each partition (default 1 MB). kafkajs decompresses a whole fetch before it hands over
   * a batch, so a page of a few records asks for little: the broker still sends at least one whole record batch.
   */
  fetchBytesPerPartition?: number;
  /**
   * The records of one fetched batch of one partition that fall in its range, in offset order (`offsets`: theirs).
   * Return an offset to stop the read after that record (its partition's position becomes the next offset), or
   * nothing to go on.
   *
   * Or a promise of the step that says so: the next batches are read meanwhile (up to MAX_BATCHES_IN_FLIGHT), and
   * the steps run in the order their batches came, none after the read has ended (a full page, a cancel).
   */
  onRecords: (partition: number, messages: KafkaMessage[], offsets: Float64Array) => RecordsAnswer;
  /** After each batch, the positions so far. */
  onAdvance?: (positions: PartitionPosition[]) => void;
}

/**
 * Reads [position, end) of each partition. A partition ends when the FETCH position reaches its end, not when a
 * record at end − 1 arrives: the last offsets are often transaction markers, and aborted records are never
 * delivered under read_committed. kafkajs hands batches that held only those to no callback, but reports their last
 * offset in its END_BATCH_PROCESS event, so the position moves on with them.
 */
export async function readRanges(
  client: KafkaAdminConnection,
  topic: string,
  ranges: PartitionPosition[],
  options: RangeReadOptions,
): Promise<{ positions: PartitionPosition[]; ended: ReadEnd }> {
  const positions = ranges.map((r) => ({ ...r }));
  const byPartition = new Map(positions.map((p) => [p.partition, p]));
  if (scanFinished(positions)) return { positions, ended: 'end' };
  if (options.signal?.aborted) return { positions, ended: 'cancelled' };

  const groupId = `${SCAN_GROUP_PREFIX}${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  const consumer = client.kafka.consumer({
    groupId,
    readUncommitted: options.isolation === 'uncommitted',
    sessionTimeout: 10_000,
    heartbeatInterval: 1000,
    maxWaitTimeInMs: 250,
    maxBytesPerPartition: options.fetchBytesPerPartition ?? FETCH_BYTES_PER_PARTITION,
    maxBytes: 4 * (options.fetchBytesPerPartition ?? FETCH_BYTES_PER_PARTITION),
    retry: { retries: 2 },
  });
  let ended: ReadEnd | undefined;
  let finish: (why: ReadEnd) => void = () => undefined;
  let fail: (error: Error) => void = () => undefined;
  const done = new Promise<ReadEnd>((resolve, reject) => {
    finish = (why) => {
      ended ??= why;
      resolve(ended);
    };
    fail = (error) => {
      ended ??= 'stopped';
      reject(error);
    };
  });
  // A crash before anyone awaits `done` is not an unhandled rejection: the read awaits it below.
  done.catch(() => undefined);
  let lastBatchAt = Date.now();
  let lastRecordAt = Date.now();
  let firstBatchAt: number | undefined;

  const pauseDone = () => {
    const finished = positions.filter((p) => p.position >= p.end).map((p) => p.partition);
    if (finished.length) consumer.pause([{ topic, partitions: finished }]);
    if (scanFinished(positions)) finish('end');
  };
  /** Moves a partition to `next`, noting what it skipped after the last record seen. */
  const advance = (p: PartitionPosition, seenUpTo: number, next: number) => {
    const to = Math.min(next, p.end);
    if (to > seenUpTo + 1) options.gaps?.add(p.partition, seenUpTo + 1, to - 1);
    p.position = Math.max(p.position, to);
  };

  // Batches handed over but not yet applied, oldest first; `handed` is where each partition's next batch starts.
  const inFlight: Promise<void>[] = [];
  const handed = new Map(positions.map((p) => [p.partition, p.position]));
  /** Applies a batch's outcome after those handed over before it; an error ends the read. */
  const inOrder = (apply: () => Promise<void> | void) => {
    const step = (inFlight[inFlight.length - 1] ?? Promise.resolve())
      .then(() => (ended ? undefined : apply()))
      .catch((error: unknown) => fail(error instanceof Error ? error : new Error(String(error))))
      .finally(() => inFlight.splice(inFlight.indexOf(step), 1));
    inFlight.push(step);
  };

  const onBatchEnd = (event: { payload: { partition: number; batchSize: number; lastOffset: string } }) => {
    // Batches with records went through eachBatch; this one held only markers or aborted records.
    const { partition, batchSize, lastOffset } = event.payload;
    const p = byPartition.get(partition);
    if (ended || !p || batchSize > 0) return;
    const next = Number(lastOffset) + 1;
    handed.set(partition, Math.max(handed.get(partition) ?? 0, next));
    inOrder(() => {
      if (p.position >= p.end) return;
      lastBatchAt = Date.now();
      advance(p, p.position - 1, next);
      options.onAdvance?.(positions);
      pauseDone();
    });
  };
  const removers = [consumer.on(consumer.events.END_BATCH_PROCESS, onBatchEnd)];

  const timers: NodeJS.Timeout[] = [];
  const onAbort = () => finish('cancelled');
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await withTimeout(consumer.connect(), client.timeoutMs, `Kafka at ${client.label} (read ${topic})`);
    await withTimeout(consumer.subscribe({ topics: [topic], fromBeginning: true }), client.timeoutMs, `Kafka at ${client.label}`);
    timers.push(setTimeout(() => finish('timeout'), options.timeoutMs ?? DEFAULT_SCAN_TIMEOUT_MS));
    timers.push(
      setInterval(() => {
        const now = Date.now();
        const tailing = positions.some((p) => p.end === TAIL_END);
        if (
          tailing &&
          options.idleMs !== undefined &&
          (now - lastRecordAt > options.idleMs || (firstBatchAt !== undefined && now - firstBatchAt > options.idleMs))
        )
          finish('idle');
        else if (!tailing && now - lastBatchAt > SCAN_STALL_MS) finish('stalled');
      }, 100),
    );
    const others = (
      await client.call(`read partitions of ${topic}`, (a) => a.fetchTopicMetadata({ topics: [topic] }))
    ).topics[0]?.partitions
      .map((x) => x.partitionId)
      .filter((x) => !byPartition.has(x));
    // Seeks and pauses belong to kafkajs' group of the moment: a run that crashed (a coordinator still loading
    // after a broker start) and restarted has a new one, so they are placed again at every join.
    removers.push(
      consumer.on(consumer.events.GROUP_JOIN, () => {
        if (ended) return;
        if (others?.length) consumer.pause([{ topic, partitions: others }]);
        for (const p of positions) if (p.position < p.end) consumer.seek({ topic, partition: p.partition, offset: String(p.position) });
        lastBatchAt = lastRecordAt = Date.now();
        pauseDone();
      }),
      consumer.on(consumer.events.CRASH, (event) => {
        if (!event.payload.restart) fail(new UserError(`Reading ${topic} failed: ${event.payload.error.message}.`));
      }),
    );
    await consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: async ({ batch }) => {
        const p = byPartition.get(batch.partition);
        // A batch fetched again after a rejoin's seek starts where the last one handed over ended.
        const from = Math.max(p?.position ?? 0, handed.get(batch.partition) ?? 0);
        if (ended || !p || from >= p.end) return;
        lastBatchAt = Date.now();
        firstBatchAt ??= lastBatchAt;
        const inRange: KafkaMessage[] = [];
        const offsetList: number[] = [];
        for (const m of batch.messages) {
          const o = Number(m.offset);
          if (o < from || o >= p.end) continue;
          inRange.push(m);
          offsetList.push(o);
        }
        const offsets = Float64Array.from(offsetList);
        const next = Number(batch.lastOffset()) + 1;
        handed.set(p.partition, Math.max(from, next));
        if (inRange.length) lastRecordAt = Date.now();
        let answer: RecordsAnswer;
        try {
          answer = inRange.length ? options.onRecords(p.partition, inRange, offsets) : undefined;
        } catch (error) {
          answer = Promise.reject(error instanceof Error ? error : new Error(String(error)));
        }
        // An answer that fails (a WHERE failing on a record) ends the read: thrown to kafkajs, the batch would be
        // retried, and the consumer restarted, for ever.
        Promise.resolve(answer).catch(() => undefined);
        inOrder(async () => {
          const outcome = await answer;
          if (ended) return;
          const stopAt = typeof outcome === 'function' ? outcome() : outcome;
          // Gaps up to where this read stops: past a full page's last record, they belong to the next page.
          let seen = p.position - 1;
          for (const o of offsets) {
            if (o < p.position) continue;
            if (stopAt !== undefined && o > stopAt) break;
            if (o > seen + 1) options.gaps?.add(p.partition, seen + 1, o - 1);
            seen = o;
          }
          if (stopAt !== undefined) {
            p.position = Math.max(p.position, stopAt + 1);
            options.onAdvance?.(positions);
            finish('stopped');
            return;
          }
          advance(p, seen, next);
          options.onAdvance?.(positions);
          pauseDone();
        });
        while (inFlight.length >= MAX_BATCHES_IN_FLIGHT && !ended) await inFlight[0];
        // The editor's other work runs between batches.
        await new Promise((r) => setImmediate(r));
      },
    });
    return { positions, ended: await done };
  } finally {
    ended ??= 'stopped';
    // Answers still in flight are not applied, but the filter they run on is the caller's to close after this.
    await withTimeout(Promise.all(inFlight), DRAIN_TIMEOUT_MS, 'the batches still being filtered').catch(() => undefined);
    for (const t of timers) clearTimeout(t);
    options.signal?.removeEventListener('abort', onAbort);
    for (const remove of removers) remove();
    await closeThrowAwayGroup(client, consumer, groupId);
  }
}

/** Leaves and deletes the read's group. */
async function closeThrowAwayGroup(client: KafkaAdminConnection, consumer: Consumer, groupId: string): Promise<void> {
  await withTimeout(consumer.disconnect(), client.timeoutMs, 'leaving the read’s group').catch(() => undefined);
  await deleteThrowAwayGroup(client, groupId);
}

/** Deletes a read's throw-away group, again while the coordinator still sees its member leaving. */
export async function deleteThrowAwayGroup(client: KafkaAdminConnection, groupId: string): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const deleted = await client
      .call(`delete group ${groupId}`, (a) => a.deleteGroups([groupId]))
      .then(
        () => true,
        (error: unknown) => /GROUP_ID_NOT_FOUND|does not exist/i.test(String((error as Error).message)),
      );
    if (deleted) return;
    await new Promise((r) => setTimeout(r, 200 * (attempt + 1)));
  }
}

/** Whether a record has headers, without listing them. */
function hasKeys(headers: KafkaMessage['headers']): headers is NonNullable<KafkaMessage['headers']> {
  for (const name in headers) if (Object.hasOwn(headers, name)) return true;
  return false;
}

/** Text a person can read: UTF-8 when it is, else base64 (flagged by the caller). */
function text(buffer: Buffer | null): { text: string | null; base64: boolean } {
  if (buffer === null) return { text: null, base64: false };
  return isUtf8(buffer) ? { text: buffer.toString('utf8'), base64: false } : { text: buffer.toString('base64'), base64: true };
}

/** Header values as text (the last value when a name repeats, as Kafka's lastHeader) and their bytes. */
export function headerTexts(headers: KafkaMessage['headers']): { headers: Record<string, string | null>; bytes: number; count: number } {
  const result: Record<string, string | null> = {};
  let bytes = 0;
  let count = 0;
  for (const [name, raw] of Object.entries(headers ?? {})) {
    const values = Array.isArray(raw) ? raw : [raw];
    for (const v of values) {
      count++;
      bytes += Buffer.byteLength(name);
      if (v === undefined || v === null) result[name] = null;
      else if (typeof v === 'string') {
        result[name] = v;
        bytes += Buffer.byteLength(v);
      } else {
        result[name] = text(v).text;
        bytes += v.length;
      }
    }
  }
  return { headers: result, bytes, count };
}

/** A kafkajs record as the browser shows it. */
export function toScanRecord(partition: number, m: KafkaMessage): ScanRecord {
  const key = text(m.key);
  const value = text(m.value);
  const h = headerTexts(m.headers);
  const keySize = m.key?.length ?? 0;
  const valueSize = m.value?.length ?? 0;
  return {
    partition,
    offset: Number(m.offset),
    timestamp: Number(m.timestamp),
    key: key.text,
    value: value.text,
    ...(value.base64 ? { valueEncoding: 'base64' as const } : {}),
    headers: h.headers,
    keySize,
    valueSize,
    size: keySize + valueSize + h.bytes,
  };
}

export interface ScanOptions {
  cursor?: ScanCursor;
  onProgress?: (p: ScanProgress) => void;
  signal?: AbortSignal;
  timeoutMs?: number;
  tailWaitMs?: number;
}

/**
 * One page of a topic: reads from the request's start (or the cursor) towards the ends fixed when the scan began,
 * filters each batch with the WHERE in DuckDB and keeps at most `limit` matches. Memory holds one batch and the
 * page, whatever the topic's size.
 */
export async function scanTopic(client: KafkaAdminConnection, request: ScanRequest, options: ScanOptions = {}): Promise<ScanPage> {
  const invalid = validateTopicName(request.topic);
  if (invalid) throw new UserError(invalid);
  if (!Number.isInteger(request.limit) || request.limit < 1 || request.limit > MAX_SCAN_LIMIT)
    throw new UserError(`The limit must be a whole number from 1 to ${MAX_SCAN_LIMIT}.`);
  // The filter's thread starts (about 0.1 s) while Kafka is asked where to read, the group is joined and the first
  // fetch comes: batches wait for it. A bad WHERE is the error that counts, whatever else fails or is found.
  const opening = BatchFilter.open(request.where);
  opening.catch(() => undefined);
  const filtering = filtersRecords(request.where);
  try {
    let ranges: PartitionPosition[];
    if (options.cursor) ranges = planScan([], request, { cursor: options.cursor });
    else {
      const offsets = await fetchScanOffsets(client, request.topic, request.isolation);
      const byTime =
        request.start.kind === 'timestamp' ? await fetchOffsetsForTimestamp(client, request.topic, request.start.timestampMs) : undefined;
      ranges = planScan(offsets, request, { timestampOffsets: byTime });
    }
    const records: ScanRecord[] = [];
    const gaps = new GapList();
    const histogram = new TimeHistogram();
    const progress: ScanProgress = { scannedMessages: 0, scannedBytes: 0, matched: 0, positions: ranges };
    let lastProgress = 0;
    const report = (force = false) => {
      if (!options.onProgress || (!force && Date.now() - lastProgress < PROGRESS_EVERY_MS)) return;
      lastProgress = Date.now();
      options.onProgress({ ...progress, positions: progress.positions.map((p) => ({ ...p })) });
    };
    const since = request.sinceMs ?? -Infinity;
    const until = request.untilMs ?? Infinity;

    const onRecords = (partition: number, messages: KafkaMessage[], offsets: Float64Array): RecordsAnswer => {
      const count = messages.length;
      const timestamps = new Float64Array(count);
      const sizes = new Float64Array(count);
      const candidates: number[] = [];
      let headered: Map<number, Record<string, string | null>> | undefined;
      for (let i = 0; i < count; i++) {
        const m = messages[i];
        const headers = hasKeys(m.headers) ? headerTexts(m.headers) : undefined;
        if (headers) (headered ??= new Map()).set(i, headers.headers);
        sizes[i] = (m.key?.length ?? 0) + (m.value?.length ?? 0) + (headers?.bytes ?? 0);
        timestamps[i] = Number(m.timestamp);
        if (timestamps[i] >= since && timestamps[i] < until) candidates.push(i);
      }
      /** Keeps what matched, up to the page's limit; runs in the batches' order, and not after the read ended. */
      const keep = (matchedRows: number[]): number | undefined => {
        const room = request.limit - records.length;
        if (room <= 0) return undefined; // the page was full at an earlier batch: this one is the next page's
        const kept = matchedRows.slice(0, room);
        // Up to the last record kept when the page fills: the next page starts right after it.
        const examined = kept.length === room ? kept[kept.length - 1] + 1 : messages.length;
        const keptFlags = new Uint8Array(examined);
        for (const i of kept) keptFlags[i] = 1;
        progress.scannedMessages += examined;
        for (let i = 0; i < examined; i++) progress.scannedBytes += sizes[i];
        histogram.addAll(timestamps, keptFlags, examined);
        for (const i of kept) records.push(toScanRecord(partition, messages[i]));
        progress.matched = records.length;
        report();
        return records.length >= request.limit ? offsets[examined - 1] : undefined;
      };
      if (!filtering) return keep(candidates);
      const batch: FilterBatch = {
        count: candidates.length,
        offset: (c) => offsets[candidates[c]],
        timestampMs: (c) => timestamps[candidates[c]],
        size: (c) => sizes[candidates[c]],
        key: (c) => messages[candidates[c]].key,
        value: (c) => messages[candidates[c]].value,
        headersJson: (c) => {
          const headers = headered?.get(candidates[c]);
          return headers ? JSON.stringify(headers) : null;
        },
      };
      // DuckDB filters this batch on its thread while Kafka's next batches are read.
      return opening.then((filter) => filter.match(partition, batch)).then((rows) => () => keep(rows.map((r) => candidates[r])));
    };

    const tailing = request.start.kind === 'tail' || ranges.some((r) => r.end === TAIL_END);
    const { positions, ended } = await readRanges(client, request.topic, ranges, {
      isolation: request.isolation,
      signal: options.signal,
      timeoutMs: options.timeoutMs,
      idleMs: tailing ? (options.tailWaitMs ?? DEFAULT_TAIL_WAIT_MS) : undefined,
      gaps,
      // A short unfiltered page (a seek, newest-N, Peek) reads a few records: a small first fetch shows them sooner.
      fetchBytesPerPartition:
        !filtering && request.sinceMs === undefined && request.untilMs === undefined && request.limit <= 1000 ? 256 * 1024 : undefined,
      onRecords,
      onAdvance: (p) => {
        progress.positions = p;
        report();
      },
    });
    // A read that met no record never asked the filter: its WHERE is checked all the same.
    await opening;
    if (ended === 'timeout' && records.length === 0 && !scanFinished(positions))
      throw new UserError(
        `Reading ${request.topic} took longer than ${Math.round((options.timeoutMs ?? DEFAULT_SCAN_TIMEOUT_MS) / 1000)} s.`,
      );
    progress.positions = positions.map((p) => ({ ...p }));
    report(true);
    records.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
    return {
      records,
      progress,
      cursor: scanFinished(positions) ? undefined : { positions: positions.map((p) => ({ ...p })) },
      gaps: gaps.sorted(),
      ...(gaps.omitted ? { gapsOmitted: gaps.omitted } : {}),
      ...(ended === 'stalled' || ended === 'timeout' ? { stopped: ended } : {}),
      histogram: histogram.snapshot(),
      cancelled: ended === 'cancelled',
    };
  } catch (error) {
    await opening;
    throw error;
  } finally {
    await (await opening.catch(() => undefined))?.close();
  }
}
