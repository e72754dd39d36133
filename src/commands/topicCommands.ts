// Topic commands: create (with partitions, replication, retention), add partitions, purge and delete.
import * as vscode from 'vscode';
import { UserError } from '../shared/errors';
import { formatRetention } from '../kafka/treeModel';
import { validatePositiveInt, validateRetentionMs, validateTopicName } from '../config/validation';
import { settings } from '../services/settings';
import { TopicNode } from '../views/kafkaTopicNodes';
import { KafkaNode } from '../views/kafkaTreeNode';
import { registerCommandWithLogging, type Services } from './registration';
import { askText, pickCluster, pickPreset, pickTopic } from './prompts';

/** Arguments a caller (a test, a link, another extension) may pass instead of answering the prompts. */
interface CreateTopicArgs {
  name?: string;
  partitions?: number;
  replicationFactor?: number;
  retentionMs?: number;
}

const isPlainArgs = (value: unknown): value is CreateTopicArgs =>
  typeof value === 'object' && value !== null && !(value instanceof KafkaNode);

function refuseInternal(topic: string, action: string): void {
  if (topic.startsWith('__'))
    throw new UserError(`${topic} is an internal Kafka topic: the broker needs it, so this extension does not ${action} it.`);
}

export function topicCommands(s: Services): vscode.Disposable[] {
  return [
    registerCommandWithLogging(
      'kafkaFlinkLab.topic.create',
      async (nodeOrArgs?: unknown) => {
        const args = isPlainArgs(nodeOrArgs) ? nodeOrArgs : {};
        const cluster = await pickCluster(s.connections, nodeOrArgs);
        const client = await s.connections.client(cluster);
        const existing = new Set((await client.listTopics(true)).map((t) => t.name));
        const validateName = (v: string) => validateTopicName(v) ?? (existing.has(v) ? `Topic ${v} already exists.` : undefined);
        const name =
          args.name ??
          (await askText({
            title: 'Create topic (1/3): name',
            prompt: 'Letters, digits, ".", "_" and "-"; at most 249 characters.',
            placeHolder: 'my-topic',
            validate: validateName,
          }));
        const nameProblem = validateName(name);
        if (nameProblem) throw new UserError(nameProblem);
        const partitions =
          args.partitions ??
          Number(
            await askText({
              title: `Create topic ${name} (2/3): partitions`,
              prompt:
                'How many partitions: more partitions allow more parallel consumers; records with the same key always land in the same one.',
              value: String(settings.partitions.value),
              validate: (v) => validatePositiveInt(v, 'The number of partitions', 10_000),
            }),
          );
        const partitionsProblem = validatePositiveInt(partitions, 'The number of partitions', 10_000);
        if (partitionsProblem) throw new UserError(partitionsProblem);
        const retentionMs =
          'retentionMs' in args
            ? args.retentionMs
            : await pickPreset<number | undefined>(
                `Create topic ${name} (3/3): retention — how long records are kept`,
                [
                  { label: 'Broker default', description: 'log.retention.hours (7 days on the local stack)', value: undefined },
                  { label: '1 hour', value: 3_600_000 },
                  { label: '1 day', value: 86_400_000 },
                  { label: '7 days', value: 604_800_000 },
                  { label: 'Forever', description: 'retention.ms = -1', value: -1 },
                ],
                {
                  prompt: 'Retention in milliseconds (-1 = forever)',
                  placeholder: '3600000',
                  parse: (t) => (validateRetentionMs(t) ? { error: validateRetentionMs(t) } : { value: Number(t.trim()) }),
                },
              );
        await client.createTopic({ name, partitions, replicationFactor: args.replicationFactor, retentionMs });
        s.log.info(
          `Created topic ${name} on ${cluster.bootstrapServers} (${partitions} partitions${retentionMs !== undefined ? `, retention ${formatRetention(retentionMs)}` : ''}).`,
        );
        void vscode.window.showInformationMessage(`Created topic ${name} with ${partitions} partition${partitions === 1 ? '' : 's'}.`);
        s.explorer.refresh();
        return name;
      },
      s.log,
    ),
    registerCommandWithLogging(
      'kafkaFlinkLab.topic.delete',
      async (node?: unknown) => {
        const cluster = await pickCluster(s.connections, node);
        const client = await s.connections.client(cluster);
        const topic = await pickTopic(client, node, 'Delete which topic?');
        refuseInternal(topic, 'delete');
        const messages = node instanceof TopicNode ? node.model.messages : undefined;
        const pipeline =
          topic === settings.topic.value ? ' It is the pipeline’s topic: the generator and the Flink job read or write it.' : '';
        const choice = await vscode.window.showWarningMessage(
          `Delete topic ${topic}${messages !== undefined ? ` and its ${messages} messages` : ''} from ${cluster.bootstrapServers}? This cannot be undone.${pipeline}`,
          { modal: true },
          'Delete',
        );
        if (choice !== 'Delete') return;
        await client.deleteTopic(topic);
        s.log.info(`Deleted topic ${topic} on ${cluster.bootstrapServers}.`);
        void vscode.window.showInformationMessage(`Deleted topic ${topic}.`);
        s.explorer.refresh();
      },
      s.log,
    ),
    registerCommandWithLogging(
      'kafkaFlinkLab.topic.addPartitions',
      async (node?: unknown) => {
        const cluster = await pickCluster(s.connections, node);
        const client = await s.connections.client(cluster);
        const topic = await pickTopic(client, node, 'Add partitions to which topic?');
        refuseInternal(topic, 'repartition');
        const current = (await client.fetchTopicPartitions([topic])).get(topic)?.length ?? 0;
        const total = Number(
          await askText({
            title: `Add partitions to ${topic} (now ${current})`,
            prompt: 'The new total. Kafka can add partitions but never remove them, and keys may map to other partitions afterwards.',
            value: String(current + 1),
            validate: (v) =>
              validatePositiveInt(v, 'The partition count', 10_000) ??
              (Number(v) <= current ? `The new count must be more than ${current}.` : undefined),
          }),
        );
        await client.addPartitions(topic, total);
        s.log.info(`Topic ${topic} on ${cluster.bootstrapServers}: ${current} → ${total} partitions.`);
        void vscode.window.showInformationMessage(`Topic ${topic} now has ${total} partitions.`);
        s.explorer.refresh();
      },
      s.log,
    ),
    registerCommandWithLogging(
      'kafkaFlinkLab.topic.purge',
      async (node?: unknown) => {
        const cluster = await pickCluster(s.connections, node);
        const client = await s.connections.client(cluster);
        const topic = await pickTopic(client, node, 'Purge (delete every record of) which topic?');
        refuseInternal(topic, 'purge');
        const choice = await vscode.window.showWarningMessage(
          `Delete every record of ${topic}? The topic stays; each partition's low offset moves up to its high offset, so offsets keep counting from where they are.`,
          { modal: true },
          'Purge',
        );
        if (choice !== 'Purge') return;
        const deleted = await client.purgeTopic(topic);
        s.log.info(`Purged ${deleted} records from ${topic} on ${cluster.bootstrapServers}.`);
        void vscode.window.showInformationMessage(`Deleted ${deleted} records from ${topic}.`);
        s.explorer.refresh();
      },
      s.log,
    ),
  ];
}
