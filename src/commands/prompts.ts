// The prompts commands share: pick a cluster, topic, partition, start position or preset; a dismissed one ends the command.
import * as vscode from 'vscode';
import type { ClusterEntry, KafkaConnections } from '../services/connections';
import { parseOffset, parseTimestamp, type OffsetStart } from '../kafka/peek';
import type { KafkaAdminClient } from '../kafka/kafkaAdmin';
import { PartitionNode, TopicNode } from '../views/kafkaTopicNodes';
import { ClusterNode, KafkaNode } from '../views/kafkaTreeNode';

/** Thrown when the user dismisses a prompt: the command ends without an error. */
export class Cancelled extends Error {
  constructor() {
    super('cancelled');
  }
}

export function required<T>(value: T | undefined): T {
  if (value === undefined) throw new Cancelled();
  return value;
}

/** The cluster a command acts on: the node's, the only one, or the one picked. */
export async function pickCluster(connections: KafkaConnections, node?: unknown): Promise<ClusterEntry> {
  if (node instanceof KafkaNode && node.cluster) return node.cluster.entry;
  const clusters = connections.clusters();
  if (clusters.length === 1) return clusters[0];
  const picked = await vscode.window.showQuickPick(
    clusters.map((c) => ({ label: c.label, description: c.bootstrapServers, entry: c })),
    { title: 'Which Kafka cluster?', ignoreFocusOut: true },
  );
  return required(picked).entry;
}

export function topicOfNode(node: unknown): string | undefined {
  if (node instanceof TopicNode) return node.model.name;
  if (node instanceof PartitionNode) return node.topic.model.name;
  return undefined;
}

export async function pickTopic(client: KafkaAdminClient, node: unknown, title: string, preferred?: string): Promise<string> {
  const fromNode = topicOfNode(node);
  if (fromNode) return fromNode;
  const topics = await client.listTopics();
  if (topics.length === 0) throw new Error(`Kafka at ${client.label} has no topics yet: create one first.`);
  const items = topics.map((t) => ({ label: t.name, description: `${t.partitions} partition${t.partitions === 1 ? '' : 's'}` }));
  items.sort((a, b) => Number(b.label === preferred) - Number(a.label === preferred));
  return required(await vscode.window.showQuickPick(items, { title, ignoreFocusOut: true, matchOnDescription: true })).label;
}

export async function askText(options: vscode.InputBoxOptions & { validate?: (value: string) => string | undefined }): Promise<string> {
  return required(
    await vscode.window.showInputBox({
      ignoreFocusOut: true,
      ...options,
      validateInput: options.validate ? (v) => options.validate!(v) ?? null : undefined,
    }),
  );
}

export interface Preset<T> {
  label: string;
  description?: string;
  value: T;
}

/** A quick pick of presets plus "Other…", which asks for a value and checks it with `parse`. */
export async function pickPreset<T>(
  title: string,
  presets: Preset<T>[],
  other?: { prompt: string; placeholder?: string; parse: (text: string) => { value?: T; error?: string } },
): Promise<T> {
  const items: (vscode.QuickPickItem & { value?: T; other?: boolean })[] = presets.map((p) => ({
    label: p.label,
    description: p.description,
    value: p.value,
  }));
  if (other) items.push({ label: 'Other…', other: true });
  const picked = required(await vscode.window.showQuickPick(items, { title, ignoreFocusOut: true }));
  if (!picked.other) return picked.value as T;
  const text = await askText({ title, prompt: other!.prompt, placeHolder: other!.placeholder, validate: (v) => other!.parse(v).error });
  return other!.parse(text).value as T;
}

/** A cluster node, or the cluster node above any node. */
export function clusterNodeOf(node: unknown): ClusterNode | undefined {
  return node instanceof KafkaNode ? node.cluster : undefined;
}

/** Asks for a start position: earliest, latest, an offset or a time. Peek and the offset reset ask it. */
export async function pickStart(title: string, latestMeans: string): Promise<OffsetStart> {
  const kind = required(
    await vscode.window.showQuickPick(
      [
        { label: 'Earliest', description: 'the oldest record still stored (low offset)', start: 'earliest' as const },
        { label: 'Latest', description: latestMeans, start: 'latest' as const },
        { label: 'Offset…', description: 'a given offset', start: 'offset' as const },
        { label: 'Timestamp…', description: 'the first record at or after a time', start: 'timestamp' as const },
      ],
      { title, ignoreFocusOut: true },
    ),
  ).start;
  if (kind === 'offset') {
    const text = await askText({
      title,
      prompt: 'Offset (a whole number ≥ 0)',
      validate: (v) => (parseOffset(v) === undefined ? 'Type a whole number of at least 0.' : undefined),
    });
    return { kind, offset: parseOffset(text)! };
  }
  if (kind === 'timestamp') {
    const text = await askText({
      title,
      prompt: 'A time: ISO-8601 (UTC unless it has a zone, e.g. 2026-01-31T12:00:00Z) or epoch milliseconds',
      value: new Date(Date.now() - 3_600_000).toISOString(),
      validate: (v) =>
        parseTimestamp(v) === undefined ? 'Type an ISO-8601 time such as 2026-01-31T12:00:00Z, or epoch milliseconds.' : undefined,
    });
    return { kind, timestampMs: parseTimestamp(text)! };
  }
  return { kind };
}

/** One partition of the topic, or all of them. */
export async function pickPartition(
  client: KafkaAdminClient,
  topic: string,
  node: unknown,
  title: string,
  allLabel: string,
): Promise<number | 'all'> {
  if (node instanceof PartitionNode) return node.model.partition;
  const offsets = await client.fetchPartitionOffsets(topic);
  if (offsets.length === 1) return offsets[0].partition;
  const picked = await vscode.window.showQuickPick(
    [
      { label: allLabel, partition: 'all' as number | 'all' },
      ...offsets.map((o) => ({
        label: `partition ${o.partition}`,
        description: `offsets ${o.low}–${o.high}`,
        partition: o.partition as number | 'all',
      })),
    ],
    { title, ignoreFocusOut: true },
  );
  return required(picked).partition;
}
