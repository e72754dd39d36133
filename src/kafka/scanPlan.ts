// The scan's plain logic: where each partition starts and ends, the offsets it skipped, the time histogram, `--from`.
import { UserError } from '../shared/errors';
import { parseReplayStart } from './offsetReset';
import type { PartitionOffsets } from './kafkaModels';
import {
  MAX_LISTED_GAPS,
  type HistogramBucket,
  type OffsetGap,
  type PartitionPosition,
  type ScanCursor,
  type ScanRequest,
  type ScanStart,
} from './topicScanTypes';

/** A tail page's cursor end: there is no fixed end, the next page tails on from its positions. */
export const TAIL_END = Number.MAX_SAFE_INTEGER;

/**
 * Each chosen partition's first offset and its end, fixed now. `offsets[].high` is the end for the scan's isolation
 * (the last stable offset under read_committed). A cursor wins over the start: its positions and ends carry on.
 */
export function planScan(
  offsets: PartitionOffsets[],
  request: Pick<ScanRequest, 'topic' | 'partitions' | 'start'>,
  extra: { timestampOffsets?: Map<number, number>; cursor?: ScanCursor } = {},
): PartitionPosition[] {
  if (extra.cursor) return extra.cursor.positions.map((p) => ({ ...p })).sort((a, b) => a.partition - b.partition);
  const chosen = request.partitions === 'all' ? offsets : offsets.filter((o) => (request.partitions as number[]).includes(o.partition));
  if (request.partitions !== 'all') {
    const missing = request.partitions.filter((p) => !offsets.some((o) => o.partition === p));
    if (missing.length)
      throw new UserError(
        `Topic ${request.topic} has no partition ${missing.join(', ')} (it has ${offsets.length}: 0 to ${offsets.length - 1}).`,
      );
  }
  if (chosen.length === 0) throw new UserError(`Choose at least one partition of ${request.topic}.`);
  const start = request.start;
  if (start.kind === 'newest' && (!Number.isInteger(start.count) || start.count < 1))
    throw new UserError(`newest-N needs a whole number N ≥ 1 (got ${start.count}).`);
  const clamp = (o: PartitionOffsets, at: number) => Math.min(Math.max(at, o.low), o.high);
  return chosen
    .map((o) => {
      let position: number;
      switch (start.kind) {
        case 'earliest':
          position = o.low;
          break;
        case 'newest':
          position = Math.max(o.low, o.high - start.count);
          break;
        case 'offsets':
          position = clamp(o, start.offsets[o.partition] ?? o.low);
          break;
        case 'timestamp': {
          // offsets-for-times answers -1 (or nothing) when no record is that new: the partition starts at its end.
          const found = extra.timestampOffsets?.get(o.partition);
          position = found === undefined || found < 0 ? o.high : clamp(o, found);
          break;
        }
        case 'tail':
          return { partition: o.partition, position: o.high, end: TAIL_END };
      }
      return { partition: o.partition, position, end: o.high };
    })
    .sort((a, b) => a.partition - b.partition);
}

/** Whether every partition reached its end (a tail never does). */
export function scanFinished(positions: PartitionPosition[]): boolean {
  return positions.every((p) => p.position >= p.end);
}

/** `--from`: earliest (or beginning), newest-N, a time (ISO-8601 or epoch ms), or offsets per partition (0:120,1:98). */
export function parseScanStart(value: string): ScanStart {
  const v = value.trim();
  if (v === 'beginning' || v === 'earliest') return { kind: 'earliest' };
  if (v === 'tail' || v === 'end') return { kind: 'tail' };
  const newest = /^newest-(\d+)$/.exec(v);
  if (newest) {
    if (Number(newest[1]) < 1) throw new UserError(`--from ${v}: N must be at least 1.`);
    return { kind: 'newest', count: Number(newest[1]) };
  }
  let replay;
  try {
    replay = parseReplayStart(v);
  } catch {
    throw new UserError(
      `--from ${JSON.stringify(value)} is not earliest, newest-N, tail, a time (2026-12-04T10:00:00Z or epoch milliseconds) or offsets (0:120,1:98).`,
    );
  }
  if (replay.kind === 'offsets') return { kind: 'offsets', offsets: Object.fromEntries(replay.offsets) };
  return replay;
}

/**
 * Offsets passed without a record, merged when they touch, at most `cap` of them (the rest only counted): a
 * transaction every few records would otherwise grow the list with the topic.
 */
export class GapList {
  readonly gaps: OffsetGap[] = [];
  omitted = 0;

  constructor(private readonly cap = MAX_LISTED_GAPS) {}

  add(partition: number, from: number, to: number): void {
    if (to < from) return;
    for (let i = this.gaps.length - 1; i >= 0; i--) {
      const g = this.gaps[i];
      if (g.partition !== partition) continue;
      if (from <= g.to + 1 && to >= g.from - 1) {
        g.from = Math.min(g.from, from);
        g.to = Math.max(g.to, to);
        return;
      }
      break;
    }
    if (this.gaps.length >= this.cap) {
      this.omitted++;
      return;
    }
    this.gaps.push({ partition, from, to });
  }

  sorted(): OffsetGap[] {
    return [...this.gaps].sort((a, b) => a.partition - b.partition || a.from - b.from);
  }
}

/**
 * Records scanned and matched per time bucket, never more than `maxBuckets`: when the span outgrows them the width
 * doubles and neighbours merge (exactly, since each bucket starts at a multiple of its width).
 */
export class TimeHistogram {
  private readonly counts = new Map<number, { all: number; matched: number }>();
  private min = Infinity;
  private max = -Infinity;

  constructor(
    private widthMs = 1000,
    private readonly maxBuckets = 120,
  ) {}

  add(timestampMs: number, matched: boolean, count = 1): void {
    if (!Number.isFinite(timestampMs) || timestampMs < 0) return;
    let index = Math.floor(timestampMs / this.widthMs);
    while (Math.max(this.max, index) - Math.min(this.min, index) >= this.maxBuckets) {
      this.double();
      index = Math.floor(timestampMs / this.widthMs);
    }
    this.min = Math.min(this.min, index);
    this.max = Math.max(this.max, index);
    const bucket = this.counts.get(index) ?? { all: 0, matched: 0 };
    bucket.all += count;
    if (matched) bucket.matched += count;
    this.counts.set(index, bucket);
  }

  /**
   * Adds records [0, count): `matched[i]` is 1 for a match. One bucket update per run of records in the same bucket
   * (a batch's records are in time order, mostly), the same counts as adding them one by one.
   */
  addAll(timestamps: ArrayLike<number>, matched: ArrayLike<number>, count: number): void {
    for (let i = 0; i < count;) {
      const first = timestamps[i];
      if (!Number.isFinite(first) || first < 0) {
        i++;
        continue;
      }
      const index = Math.floor(first / this.widthMs);
      let all = 0;
      let hits = 0;
      for (; i < count; i++) {
        const t = timestamps[i];
        if (!Number.isFinite(t) || t < 0 || Math.floor(t / this.widthMs) !== index) break;
        all++;
        hits += matched[i];
      }
      if (all > hits) this.add(first, false, all - hits);
      if (hits > 0) this.add(first, true, hits);
    }
  }

  private double(): void {
    const merged = new Map<number, { all: number; matched: number }>();
    for (const [index, c] of this.counts) {
      const to = Math.floor(index / 2);
      const bucket = merged.get(to) ?? { all: 0, matched: 0 };
      bucket.all += c.all;
      bucket.matched += c.matched;
      merged.set(to, bucket);
    }
    this.counts.clear();
    for (const [k, v] of merged) this.counts.set(k, v);
    this.widthMs *= 2;
    if (Number.isFinite(this.min)) {
      this.min = Math.floor(this.min / 2);
      this.max = Math.floor(this.max / 2);
    }
  }

  /** Every bucket from the oldest to the newest scanned record, empty ones included. */
  snapshot(): { widthMs: number; buckets: HistogramBucket[] } {
    const buckets: HistogramBucket[] = [];
    if (Number.isFinite(this.min))
      for (let i = this.min; i <= this.max; i++) {
        const c = this.counts.get(i);
        buckets.push({ startMs: i * this.widthMs, all: c?.all ?? 0, matched: c?.matched ?? 0 });
      }
    return { widthMs: this.widthMs, buckets };
  }
}
