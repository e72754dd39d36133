// Consumer groups: list and describe them, read their committed offsets and lag, move their offsets.
import { AssignerProtocol, type GroupDescription } from 'kafkajs';
import type { KafkaAdminConnection } from './kafkaAdminConnection';
import { commitOffsetsOutsideGroup } from './kafkajsShims';
import type { CommittedOffset, GroupMemberModel, GroupModel, GroupPartitionLag } from './kafkaModels';
import { fetchOffsetsForTimestamp, fetchOffsetsForTopics, fetchPartitionOffsets } from './kafkaMetadata';
import { computeLag } from './lag';
import { planOffsetReset, type ResetTarget } from './offsetReset';
import { SCAN_GROUP_PREFIX } from './topicScan';

/**
 * A group the lab makes for one read and deletes after it: a scan's (kafkajs has no group-less consumer,
 * tulios/kafkajs#373), or an older version's peek. One left by a crash must not clutter the tree or the pickers.
 */
export function isThrowAwayGroup(groupId: string): boolean {
  return groupId.startsWith(SCAN_GROUP_PREFIX) || groupId.startsWith('kafka-flink-lab-peek-');
}

/** A member's partitions from its assignment bytes (the consumer protocol's MemberAssignment); none when it has none yet. */
export function decodeAssignment(bytes: Buffer | undefined): GroupMemberModel['assignment'] {
  if (!bytes || bytes.length === 0) return [];
  try {
    const decoded = AssignerProtocol.MemberAssignment.decode(bytes);
    return Object.entries(decoded?.assignment ?? {})
      .map(([topic, partitions]) => ({ topic, partitions: [...partitions].sort((a, b) => a - b) }))
      .sort((a, b) => a.topic.localeCompare(b.topic));
  } catch {
    return [];
  }
}

function membersOf(g: GroupDescription | undefined): GroupMemberModel[] {
  if (!g || (g.protocolType !== 'consumer' && g.protocolType !== '')) return [];
  return g.members
    .map((m) => ({
      memberId: m.memberId,
      clientId: m.clientId,
      clientHost: m.clientHost,
      assignment: decodeAssignment(m.memberAssignment),
    }))
    .sort((a, b) => a.clientId.localeCompare(b.clientId) || a.memberId.localeCompare(b.memberId));
}

export async function listGroups(client: KafkaAdminConnection): Promise<GroupModel[]> {
  const listed = await client.callGroup('list consumer groups', (a) => a.listGroups());
  const ids = listed.groups.map((g) => g.groupId).sort((a, b) => a.localeCompare(b));
  if (ids.length === 0) return [];
  const described = await client.callGroup('describe consumer groups', (a) => a.describeGroups(ids));
  const byId = new Map(described.groups.map((g) => [g.groupId, g]));
  return ids.map((groupId) => {
    const g = byId.get(groupId);
    return {
      groupId,
      state: g?.state ?? 'Unknown',
      protocolType: g?.protocolType ?? listed.groups.find((l) => l.groupId === groupId)?.protocolType ?? '',
      members: g?.members.length ?? 0,
      memberList: membersOf(g),
    };
  });
}

export async function describeGroup(client: KafkaAdminConnection, groupId: string): Promise<GroupModel> {
  const described = await client.callGroup(`describe group ${groupId}`, (a) => a.describeGroups([groupId]));
  const g = described.groups[0];
  return {
    groupId,
    state: g?.state ?? 'Unknown',
    protocolType: g?.protocolType ?? '',
    members: g?.members.length ?? 0,
    memberList: membersOf(g),
  };
}

export async function fetchCommittedOffsets(client: KafkaAdminConnection, groupId: string, topics?: string[]): Promise<CommittedOffset[]> {
  const fetched = await client.callGroup(`read committed offsets of ${groupId}`, (a) => a.fetchOffsets({ groupId, topics }));
  return fetched.flatMap((t) => t.partitions.map((p) => ({ topic: t.topic, partition: p.partition, offset: Number(p.offset) })));
}

/** Committed offset, end offset and lag per partition of every topic the group has committed to. */
export async function describeGroupLag(client: KafkaAdminConnection, groupId: string, topics?: string[]): Promise<GroupPartitionLag[]> {
  const committed = await fetchCommittedOffsets(client, groupId, topics);
  const names = [...new Set(committed.map((c) => c.topic))];
  return computeLag(committed, await fetchOffsetsForTopics(client, names));
}

/**
 * Moves a group's committed offsets of one topic. The caller checks first that the group has no members
 * (`resetRefusal`); Kafka refuses otherwise.
 */
export async function resetGroupOffsets(
  client: KafkaAdminConnection,
  groupId: string,
  topic: string,
  partition: number | 'all',
  target: ResetTarget,
): Promise<{ partition: number; offset: number }[]> {
  const offsets = await fetchPartitionOffsets(client, topic);
  const byTime = target.kind === 'timestamp' ? await fetchOffsetsForTimestamp(client, topic, target.timestampMs) : undefined;
  const plan = planOffsetReset(offsets, partition, target, byTime);
  const partitions = plan.map((p) => ({ partition: p.partition, offset: String(p.offset) }));
  // Without the internal Cluster, kafkajs' setOffsets (it joins the group, about 5 s).
  const committed = await client.withInternalCluster(`reset offsets of ${groupId}`, async (cluster) => {
    await commitOffsetsOutsideGroup(cluster, groupId, topic, partitions);
    return true;
  });
  if (!committed)
    await client.call(`reset offsets of ${groupId}`, (a) => a.setOffsets({ groupId, topic, partitions }), client.timeoutMs * 3);
  return plan;
}
