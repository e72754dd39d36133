// Moving a consumer group: the offsets to commit per partition for a start position, and the replay's `--from` parser.
import { UserError } from '../shared/errors';
import type { GroupModel, PartitionOffsets } from './kafkaModels';

/** Where a read or a reset starts in each partition: the earliest, the latest, an offset or a time. */
export type OffsetStart =
  { kind: 'earliest' } | { kind: 'latest' } | { kind: 'offset'; offset: number } | { kind: 'timestamp'; timestampMs: number };

/** Where to move a consumer group: the same choices as a peek's start. */
export type ResetTarget = OffsetStart;

/**
 * The offset to commit for each chosen partition. An explicit offset must lie within [low, high] of every chosen
 * partition (anything else would be reset again by the consumer's `auto.offset.reset`).
 */
export function planOffsetReset(
  offsets: PartitionOffsets[],
  partition: number | 'all',
  target: ResetTarget,
  timestampOffsets?: Map<number, number>,
): { partition: number; offset: number }[] {
  const chosen = partition === 'all' ? offsets : offsets.filter((o) => o.partition === partition);
  if (chosen.length === 0) throw new UserError(`The topic has no partition ${String(partition)}.`);
  return chosen
    .map((o) => {
      switch (target.kind) {
        case 'earliest':
          return { partition: o.partition, offset: o.low };
        case 'latest':
          return { partition: o.partition, offset: o.high };
        case 'offset':
          if (target.offset < o.low || target.offset > o.high) {
            throw new UserError(
              `Offset ${target.offset} is outside partition ${o.partition}'s range ${o.low}–${o.high}: pick an offset within it.`,
            );
          }
          return { partition: o.partition, offset: target.offset };
        case 'timestamp': {
          const found = timestampOffsets?.get(o.partition);
          return { partition: o.partition, offset: Math.min(Math.max(found ?? o.high, o.low), o.high) };
        }
      }
    })
    .sort((a, b) => a.partition - b.partition);
}

/**
 * Why a reset must not happen now, or undefined. Kafka refuses to move the offsets of a group with members; the
 * Flink job's group has no members but overwrites its offsets at the next checkpoint, so a running job blocks too.
 */
export function resetRefusal(group: GroupModel, flink: { isFlinkGroup: boolean; jobRunning: boolean }): string | undefined {
  if (group.members > 0) {
    return `Consumer group ${group.groupId} has ${group.members} active member${group.members === 1 ? '' : 's'} (state ${group.state}): stop its consumers first — Kafka moves the offsets of an inactive group only.`;
  }
  if (flink.isFlinkGroup && flink.jobRunning) {
    return `Consumer group ${group.groupId} belongs to the running Flink job, which commits its offsets at every checkpoint: stop the Flink job first.`;
  }
  return undefined;
}

/** Where `pipeline job replay --from` starts: earliest, a time (ISO-8601 or epoch ms), or an offset per partition. */
export type ReplayStart =
  { kind: 'earliest' } | { kind: 'timestamp'; timestampMs: number } | { kind: 'offsets'; offsets: [number, number][] };

export function parseReplayStart(value: string): ReplayStart {
  const v = value.trim();
  if (v === 'earliest') return { kind: 'earliest' };
  if (/^\d+:\d+(,\d+:\d+)*$/.test(v))
    return { kind: 'offsets', offsets: v.split(',').map((po) => po.split(':').map(Number) as [number, number]) };
  if (/^\d{10,}$/.test(v)) return { kind: 'timestamp', timestampMs: Number(v) };
  const parsed = /^\d{4}-\d{2}-\d{2}/.test(v) ? Date.parse(v) : NaN;
  if (!Number.isNaN(parsed)) return { kind: 'timestamp', timestampMs: parsed };
  throw new UserError(
    `--from ${JSON.stringify(value)} is not earliest, a time (2026-12-04T10:00:00Z or epoch milliseconds) or offsets (0:120,1:98,2:130).`,
  );
}
