// Consumer lag: per partition, end offset minus committed offset, and its sum.
import type { CommittedOffset, GroupPartitionLag, PartitionOffsets } from './kafkaModels';

/**
 * Lag per partition = end offset (high watermark) − committed offset, as `kafka-consumer-groups.sh` reports it.
 * Every partition of a topic the group has committed to is listed, so a partition without a commit shows up
 * (the Flink source commits only on checkpoints, so right after start some partitions have none).
 */
export function computeLag(committed: CommittedOffset[], endOffsets: Map<string, PartitionOffsets[]>): GroupPartitionLag[] {
  const rows: GroupPartitionLag[] = [];
  const byTopic = new Map<string, Map<number, number>>();
  for (const c of committed) {
    if (!byTopic.has(c.topic)) byTopic.set(c.topic, new Map());
    if (c.offset >= 0) byTopic.get(c.topic)!.set(c.partition, c.offset);
  }
  for (const [topic, commits] of [...byTopic].sort((a, b) => a[0].localeCompare(b[0]))) {
    const ends = endOffsets.get(topic);
    const partitions = new Set<number>([...commits.keys(), ...(ends ?? []).map((o) => o.partition)]);
    for (const partition of [...partitions].sort((a, b) => a - b)) {
      const end = ends?.find((o) => o.partition === partition)?.high;
      const offset = commits.get(partition);
      const row: GroupPartitionLag = { topic, partition, committed: offset, end };
      if (offset === undefined) row.note = 'no committed offset yet';
      else if (end === undefined) row.note = 'end offset unknown';
      else if (offset > end) {
        row.lag = 0;
        row.note = 'committed offset is past the end of the partition (was the topic purged or recreated?)';
      } else row.lag = end - offset;
      rows.push(row);
    }
  }
  return rows;
}

export interface LagSummary {
  /** Sum of the known per-partition lags; undefined when no partition has a commit. */
  total?: number;
  partitions: number;
  withoutCommit: number;
}

export function summarizeLag(rows: GroupPartitionLag[]): LagSummary {
  const known = rows.filter((r) => r.lag !== undefined);
  return {
    total: known.length > 0 ? known.reduce((sum, r) => sum + (r.lag ?? 0), 0) : undefined,
    partitions: rows.length,
    withoutCommit: rows.filter((r) => r.committed === undefined).length,
  };
}
