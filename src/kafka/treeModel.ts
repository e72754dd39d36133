// The Kafka explorer's labels, descriptions and tooltips as plain text (brokers, topics, partitions, groups, lag).
import type { BrokerModel, GroupMemberModel, GroupModel, GroupPartitionLag, PartitionDetail, TopicModel } from './kafkaModels';
import type { LagSummary } from './lag';
import { plural } from '../shared/format';
import { mdCode, mdText } from '../shared/markdown';

/**
 * Labels, descriptions and tooltips of the Kafka explorer, kept free of VS Code so that tests can compare them
 * with what kcat says. Numbers are printed as plain digits so they can be read back.
 */

/** `contextValue` from a kind and flags, e.g. `topic-pipeline`; menus match `viewItem =~ /^topic\b/` or `/-pipeline\b/`. */
export function contextValueOf(kind: string, ...flags: (string | false | undefined)[]): string {
  return [kind, ...flags.filter((f): f is string => Boolean(f))].join('-');
}

export function formatRetention(ms: number | undefined): string | undefined {
  if (ms === undefined || Number.isNaN(ms)) return undefined;
  if (ms < 0) return 'forever';
  const units: [number, string][] = [
    [86_400_000, 'd'],
    [3_600_000, 'h'],
    [60_000, 'min'],
    [1000, 's'],
  ];
  for (const [size, unit] of units) if (ms >= size && ms % size === 0) return `${ms / size} ${unit}`;
  for (const [size, unit] of units) if (ms >= size) return `${(ms / size).toFixed(1)} ${unit}`;
  return `${ms} ms`;
}

export const brokerLabel = (b: BrokerModel) => `broker ${b.nodeId}`;

export function brokerDescription(b: BrokerModel): string {
  return [`${b.host}:${b.port}`, b.isController && 'controller', b.rack && `rack ${b.rack}`].filter(Boolean).join(' · ');
}

export function brokerTooltip(b: BrokerModel): string {
  return [
    `**Broker ${b.nodeId}** at ${mdCode(`${b.host}:${b.port}`)}`,
    '',
    'A broker stores partitions and serves clients. Clients connect to any broker (the *bootstrap servers*) and then talk to the leader of each partition.',
    b.isController
      ? '\nMetadata names this broker as the **controller**: in KRaft mode it forwards cluster changes (new topics, leader moves) to the active metadata quorum.'
      : '',
    b.rack ? `\nRack ${mdCode(b.rack)}: replicas of a partition are spread over racks.` : '',
  ].join('\n');
}

export function topicDescription(t: TopicModel): string {
  const parts = [plural(t.partitions.length, 'partition')];
  if (t.messages !== undefined) parts.push(`${t.messages} msgs`);
  const retention = formatRetention(t.retentionMs);
  if (retention) parts.push(`retention ${retention}`);
  if (t.cleanupPolicy?.includes('compact')) parts.push('compacted');
  return parts.join(' · ');
}

export function topicTooltip(t: TopicModel): string {
  const retention = formatRetention(t.retentionMs);
  return [
    `**Topic ${mdCode(t.name)}**${t.internal ? ' (internal)' : ''}`,
    '',
    `- **${plural(t.partitions.length, 'partition')}**: the topic is split into ordered logs; records with the same key always go to the same partition, so order holds per key.`,
    `- **replication factor ${t.replicationFactor}**: each partition is copied to ${plural(t.replicationFactor, 'broker')}.`,
    t.messages !== undefined
      ? `- **${t.messages} msgs**: records currently stored, the sum over partitions of high − low offset (transaction markers of exactly-once producers count too).`
      : '- message count: the offsets could not be read.',
    retention
      ? `- **retention ${retention}**: records older than this are deleted${retention === 'forever' ? ' — never, here' : ''}; the low offset moves forward when they are.`
      : '',
    t.cleanupPolicy
      ? `- cleanup policy ${mdCode(t.cleanupPolicy)}${t.cleanupPolicy.includes('compact') ? ': only the newest record per key is kept' : ''}.`
      : '',
  ]
    .filter((l) => l !== '')
    .join('\n');
}

export const partitionLabel = (p: { partition: number }) => `partition ${p.partition}`;

export function partitionDescription(p: PartitionDetail): string {
  const parts = [
    `offsets ${p.low}–${p.high}`,
    `${p.high - p.low} msgs`,
    p.leader >= 0 ? `leader ${p.leader}` : 'no leader',
    `replicas ${p.replicas.join(',')}`,
    `ISR ${p.isr.join(',')}`,
  ];
  if (p.leader >= 0 && p.isr.length < p.replicas.length) parts.push('under-replicated');
  return parts.join(' · ');
}

export function partitionTooltip(topic: string, p: PartitionDetail): string {
  return [
    `**${mdCode(topic)} partition ${p.partition}**`,
    '',
    `- **low offset ${p.low}**: the oldest record still stored (retention or a purge moves it forward).`,
    `- **high offset ${p.high}**: the high watermark, the offset the next record will get; consumers read up to here.`,
    `- **${p.high - p.low} msgs** = high − low.`,
    p.leader >= 0
      ? `- **leader ${p.leader}**: the broker that takes writes and serves reads of this partition.`
      : '- **no leader**: the partition is offline until one of its replicas comes back.',
    `- **replicas ${p.replicas.join(', ')}**: brokers holding a copy.`,
    `- **ISR ${p.isr.join(', ')}**: in-sync replicas, caught up with the leader; with \`acks=all\` a write is confirmed once all of them have it.`,
  ].join('\n');
}

export function groupDescription(g: GroupModel, lag: LagSummary | undefined, options: { isFlinkGroup?: boolean } = {}): string {
  const parts = [g.state, plural(g.members, 'member')];
  if (lag) parts.push(lag.total === undefined ? 'no committed offsets yet' : `lag ${lag.total}`);
  if (options.isFlinkGroup) parts.push('Flink job');
  return parts.join(' · ');
}

export function groupTooltip(g: GroupModel, lag: LagSummary | undefined, options: { isFlinkGroup?: boolean } = {}): string {
  return [
    `**Consumer group ${mdCode(g.groupId)}** — state ${mdText(g.state)}, ${plural(g.members, 'member')}`,
    '',
    'A consumer group shares the partitions of its topics among its members and remembers, per partition, the **committed offset**: where it will continue reading.',
    lag?.total !== undefined
      ? `\n**Lag ${lag.total}**: records written but not yet consumed (end offset − committed offset, summed over partitions).`
      : '\nNo committed offsets yet: the group has not confirmed reading anything.',
    options.isFlinkGroup
      ? '\nThis is the **Flink job’s** group. Flink assigns partitions itself, so the group has **no members** even while the job runs; it commits offsets when a checkpoint completes, so its lag falls back in steps. Exactly-once comes from the checkpoint, not from these commits.'
      : '',
  ].join('\n');
}

/** "sensor-data 0, 2" per topic, or undefined for a member that owns nothing. */
function ownedText(m: GroupMemberModel): string | undefined {
  const parts = m.assignment.filter((a) => a.partitions.length > 0).map((a) => `${a.topic} ${a.partitions.join(', ')}`);
  return parts.length > 0 ? parts.join(' · ') : undefined;
}

export const isIdleMember = (m: GroupMemberModel) => ownedText(m) === undefined;

export const memberLabel = (m: GroupMemberModel) => `member ${m.clientId}`;

export function memberDescription(m: GroupMemberModel, g: GroupModel): string {
  const owned = ownedText(m);
  if (owned && m.assignment.length === 1) {
    const partitions = m.assignment[0].partitions;
    return `owns partition${partitions.length === 1 ? '' : 's'} ${partitions.join(', ')}`;
  }
  if (owned) return `owns ${owned}`;
  return g.state === 'Stable' ? 'idle: no partition' : `no partition yet (${g.state})`;
}

export function memberTooltip(m: GroupMemberModel, g: GroupModel): string {
  const members = g.memberList ?? [];
  const owned = members.reduce((sum, x) => sum + x.assignment.reduce((n, a) => n + a.partitions.length, 0), 0);
  const lines = [
    `**Member ${mdCode(m.clientId)}** of ${mdCode(g.groupId)} — on ${mdText(m.clientHost)}`,
    '',
    `Member id ${mdCode(m.memberId)}: the coordinator gives each member an id when it joins.`,
    '',
  ];
  const text = ownedText(m);
  if (text)
    lines.push(
      `It owns **${mdText(text)}**: only this member of the group reads ${m.assignment.reduce((n, a) => n + a.partitions.length, 0) === 1 ? 'that partition' : 'those partitions'}, and it commits the group's offsets there. When a member joins or leaves, the group **rebalances**: the partitions are split again among the members.`,
    );
  else if (g.state === 'Stable')
    lines.push(
      `It is **idle**: a partition goes to at most one member of a group, and ${plural(members.length, 'member')} share ${plural(owned, 'partition')} here. It reads nothing until another member leaves (or the topic gets more partitions); then a rebalance gives it a share.`,
    );
  else lines.push(`The group is in state ${mdText(g.state)}: a rebalance is splitting the partitions again.`);
  return lines.join('\n');
}

export const groupPartitionLabel = (r: GroupPartitionLag) => `${r.topic} · partition ${r.partition}`;

export function groupPartitionDescription(r: GroupPartitionLag): string {
  const end = r.end !== undefined ? `end ${r.end}` : 'end ?';
  if (r.committed === undefined) return `no committed offset yet · ${end}`;
  return [`committed ${r.committed}`, end, r.lag !== undefined ? `lag ${r.lag}` : undefined].filter(Boolean).join(' · ');
}

export function groupPartitionTooltip(groupId: string, r: GroupPartitionLag): string {
  return [
    `**${mdCode(groupId)} on ${mdCode(r.topic)} partition ${r.partition}**`,
    '',
    r.committed !== undefined
      ? `- **committed ${r.committed}**: the group will continue reading at this offset.`
      : '- **no committed offset yet**: the group has not committed here; it starts where its reset policy says.',
    r.end !== undefined ? `- **end ${r.end}**: the high watermark, where the next record is written.` : '',
    r.lag !== undefined ? `- **lag ${r.lag}** = end − committed: records waiting for this group.` : '',
    r.note ? `\n${mdText(r.note)}` : '',
  ]
    .filter((l) => l !== '')
    .join('\n');
}
