// Peek plans: which offsets of which partitions a quick look at a topic reads, from the earliest, latest, an offset or a time.
import { UserError } from '../shared/errors';
import type { PartitionOffsets } from './kafkaModels';
import { planScan } from './scanPlan';
import type { ScanStart } from './topicScanTypes';
import type { OffsetStart } from './offsetReset';

export type { OffsetStart };

export interface PeekRequest {
  topic: string;
  /** One partition, or every partition of the topic. */
  partition: number | 'all';
  start: OffsetStart;
  /** Records per partition. */
  count: number;
}

/** A half-open range [from, to) of offsets to read from one partition. */
export interface PartitionRange {
  partition: number;
  from: number;
  to: number;
}

export const MAX_PEEK_COUNT = 1000;

/**
 * Which offsets to read, planned as the message browser plans a scan (scanPlan.ts) and cut at `count` records per
 * partition. `latest` means the newest `count` records (a peek never waits for new data); `offset` is clamped into
 * [low, high]; `timestamp` uses the offsets the broker found for it (the partition's end when nothing is that new).
 */
export function planPeek(offsets: PartitionOffsets[], request: PeekRequest, timestampOffsets?: Map<number, number>): PartitionRange[] {
  if (!Number.isInteger(request.count) || request.count < 1 || request.count > MAX_PEEK_COUNT)
    throw new UserError(`The count must be a whole number from 1 to ${MAX_PEEK_COUNT}.`);
  const at = request.start;
  const start: ScanStart =
    at.kind === 'latest'
      ? { kind: 'newest', count: request.count }
      : at.kind === 'offset'
        ? { kind: 'offsets', offsets: Object.fromEntries(offsets.map((o) => [o.partition, at.offset])) }
        : at;
  const partitions = request.partition === 'all' ? 'all' : [request.partition];
  return planScan(offsets, { topic: request.topic, partitions, start }, { timestampOffsets }).map((p) => ({
    partition: p.partition,
    from: p.position,
    to: Math.min(p.end, p.position + request.count),
  }));
}

/** Parses an offset typed by the user: a whole number ≥ 0. */
export function parseOffset(text: string): number | undefined {
  return /^\d{1,16}$/.test(text.trim()) ? Number(text.trim()) : undefined;
}

/** Parses a time typed by the user: epoch milliseconds, or an ISO-8601 date/time (UTC unless it says otherwise). */
export function parseTimestamp(text: string): number | undefined {
  const t = text.trim();
  if (/^\d{10,16}$/.test(t)) return Number(t);
  if (!/^\d{4}-\d{2}-\d{2}/.test(t)) return undefined;
  const withZone = /[Zz]|[+-]\d{2}:?\d{2}$/.test(t) || t.length === 10 ? t : `${t}Z`;
  const ms = Date.parse(withZone);
  return Number.isNaN(ms) ? undefined : ms;
}

export interface PeekedRecord {
  partition: number;
  offset: string;
  timestamp: string;
  key: Buffer | null;
  value: Buffer | null;
  headers?: Record<string, Buffer | string | (Buffer | string)[] | undefined>;
}

export type DecodedPayload =
  | { encoding: 'json'; value: unknown }
  | { encoding: 'text'; value: string }
  | { encoding: 'base64'; value: string }
  | { encoding: 'null'; value: null };

/** JSON when it parses, UTF-8 text when it is valid UTF-8, else base64: what a person can read. */
export function decodePayload(buffer: Buffer | null | undefined): DecodedPayload {
  if (buffer === null || buffer === undefined) return { encoding: 'null', value: null };
  const text = new TextDecoder('utf-8', { fatal: false }).decode(buffer);
  const validUtf8 = Buffer.from(text, 'utf8').equals(buffer);
  if (!validUtf8) return { encoding: 'base64', value: buffer.toString('base64') };
  try {
    if (/^\s*[[{"\d-]|^\s*(true|false|null)\s*$/.test(text)) return { encoding: 'json', value: JSON.parse(text) };
  } catch {
    /* not JSON */
  }
  return { encoding: 'text', value: text };
}

function headerText(value: Buffer | string | undefined): string | null {
  if (value === undefined) return null;
  return typeof value === 'string' ? value : (decodePayload(value).value as string | null);
}

/** The read-only JSON document a peek opens: the request, then one object per record. */
export function renderPeekDocument(
  request: PeekRequest,
  ranges: PartitionRange[],
  records: PeekedRecord[],
  meta: { cluster: string; fetchedAt: Date; complete: boolean },
): string {
  const sorted = [...records].sort((a, b) => a.partition - b.partition || Number(a.offset) - Number(b.offset));
  const doc = {
    topic: request.topic,
    cluster: meta.cluster,
    fetchedAt: meta.fetchedAt.toISOString(),
    request: { partition: request.partition, start: request.start, countPerPartition: request.count },
    ranges,
    received: sorted.length,
    ...(meta.complete
      ? {}
      : {
          note: 'Fewer records than planned arrived before the time limit (deleted, compacted or transaction-marker offsets are skipped).',
        }),
    messages: sorted.map((r) => {
      const key = decodePayload(r.key);
      const value = decodePayload(r.value);
      const headers: Record<string, string | null | (string | null)[]> = {};
      for (const [name, v] of Object.entries(r.headers ?? {})) headers[name] = Array.isArray(v) ? v.map(headerText) : headerText(v);
      const ts = Number(r.timestamp);
      return {
        partition: r.partition,
        offset: Number(r.offset),
        timestamp: Number.isFinite(ts) && ts >= 0 ? new Date(ts).toISOString() : r.timestamp,
        timestampMs: ts,
        key: key.value,
        headers,
        ...(value.encoding === 'json' ? {} : { valueEncoding: value.encoding }),
        value: value.value,
      };
    }),
  };
  return JSON.stringify(doc, null, 2) + '\n';
}
