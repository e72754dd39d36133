// A plain member of a consumer group: joins, reads what the group gives it, commits after each record, says what each rebalance gave and took, leaves cleanly.
import type { Kafka } from 'kafkajs';

export interface MemberRecord {
  partition: number;
  offset: string;
  timestamp: string;
  key: string | null;
  value: string | null;
}

export interface MemberEvents {
  onRecord(record: MemberRecord): void;
  /** A rebalance ended: what this member owns now, what it got and what it gave up. */
  onAssigned(change: AssignmentChange): void;
  /** The group started a rebalance (a member joined or left): reading pauses until it ends. */
  onRebalancing(): void;
}

export interface AssignmentChange {
  memberId: string;
  owned: number[];
  got: number[];
  gaveUp: number[];
}

/** What a rebalance changed for one member, from the partitions it owned before and those it owns now. */
export function assignmentChange(memberId: string, before: readonly number[], after: readonly number[]): AssignmentChange {
  const owned = [...after].sort((a, b) => a - b);
  return {
    memberId,
    owned,
    got: owned.filter((p) => !before.includes(p)),
    gaveUp: [...before].filter((p) => !after.includes(p)).sort((a, b) => a - b),
  };
}

const list = (partitions: number[]) => (partitions.length === 0 ? 'none' : partitions.join(', '));

/** The line a member prints at a rebalance: what it owns, got and gave up. */
export function rebalanceLine(topic: string, change: AssignmentChange): string {
  const owns =
    change.owned.length === 0
      ? `owns no partition of ${topic}: idle (a partition goes to at most one member of a group)`
      : `owns ${topic} partition${change.owned.length === 1 ? '' : 's'} ${list(change.owned)}`;
  return `── rebalance: this member ${owns}; got ${list(change.got)}, gave up ${list(change.gaveUp)}`;
}

/** One record as the member prints it: where it is, its key, its value (text). */
export function recordLine(r: MemberRecord): string {
  return `p${r.partition} @${r.offset}  ${r.key ?? '(no key)'}  ${r.value ?? '(null)'}`;
}

/** Why a member may not join the Flink job's group: said before anything connects. */
export function jobGroupRefusal(group: string, jobGroup: string): string | undefined {
  if (group !== jobGroup) return undefined;
  return `${group} is the Flink job's consumer group (the setting job.groupId): the job commits its Kafka offsets there when a checkpoint completes, and starts from them when it has no savepoint. A member's commits would move them. Choose another group, e.g. --group lab-consumers.`;
}

export interface MemberOptions {
  groupId: string;
  topic: string;
  /** Where a partition the group has no committed offset for starts. */
  fromBeginning: boolean;
  signal: AbortSignal;
  /** How long the coordinator waits for a member that stops sending heartbeats before it rebalances without it. */
  sessionTimeoutMs?: number;
}

/**
 * Runs one group member until `signal`: each record goes to `onRecord` and its offset is committed right after
 * (autoCommitThreshold 1), so a member that stops (cleanly or not) leaves no record read but uncommitted behind a
 * clean leave. The end is a clean leave: in-flight records finish, offsets are committed, the member leaves the
 * group (the others get its partitions at once, without waiting for the session timeout). Rejects when the consumer
 * crashes for good.
 */
export async function runGroupMember(kafka: Kafka, o: MemberOptions, events: MemberEvents): Promise<void> {
  const consumer = kafka.consumer({
    groupId: o.groupId,
    sessionTimeout: o.sessionTimeoutMs ?? 10_000,
    rebalanceTimeout: 30_000,
    heartbeatInterval: 1000,
    maxWaitTimeInMs: 500,
    retry: { retries: 5 },
  });
  let owned: number[] = [];
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    const now = payload.memberAssignment[o.topic] ?? [];
    events.onAssigned(assignmentChange(payload.memberId, owned, now));
    owned = [...now];
  });
  consumer.on(consumer.events.REBALANCING, () => events.onRebalancing());
  const crashed = new Promise<never>((_, reject) => {
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (!payload.restart) reject(payload.error);
    });
  });
  crashed.catch(() => undefined);
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [o.topic], fromBeginning: o.fromBeginning });
    await consumer.run({
      autoCommit: true,
      autoCommitThreshold: 1,
      eachMessage: async ({ partition, message }) => {
        events.onRecord({
          partition,
          offset: message.offset,
          timestamp: message.timestamp,
          key: message.key?.toString('utf8') ?? null,
          value: message.value?.toString('utf8') ?? null,
        });
      },
    });
    const stopped = new Promise<void>((resolve) => {
      if (o.signal.aborted) resolve();
      else o.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    await Promise.race([stopped, crashed]);
  } finally {
    await consumer.disconnect();
  }
}
