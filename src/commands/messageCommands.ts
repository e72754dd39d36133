// Message commands: peek a partition or topic from a start position, browse a topic (from the tree, a link or the job's position), and produce a test message.
import * as vscode from 'vscode';
import { UserError } from '../shared/errors';
import { MAX_PEEK_COUNT, renderPeekDocument, type OffsetStart, type PeekRequest } from '../kafka/peek';
import { validateTopicName } from '../config/validation';
import { settings } from '../services/settings';
import { MessageBrowserPanels } from '../views/messageBrowserPanel';
import { formOfBrowseAt, parseBrowseAt, type BrowseAt } from '../views/messageBrowserProtocol';
import { PartitionNode, TopicNode } from '../views/kafkaTopicNodes';
import { KafkaNode } from '../views/kafkaTreeNode';
import { registerCommandWithLogging, type Services } from './registration';
import { askText, pickCluster, pickPartition, pickPreset, pickStart, pickTopic } from './prompts';

interface PeekArgs {
  topic: string;
  partition?: number | 'all';
  start?: OffsetStart;
  count?: number;
}

const isPeekArgs = (v: unknown): v is PeekArgs =>
  typeof v === 'object' && v !== null && !(v instanceof KafkaNode) && typeof (v as PeekArgs).topic === 'string';

function checkJsonish(value: string): string | undefined {
  if (!/^\s*[[{]/.test(value)) return undefined;
  try {
    JSON.parse(value);
    return undefined;
  } catch (error) {
    return `This looks like JSON but does not parse: ${(error as Error).message}.`;
  }
}

/** Where the Flink job reads next: its group's committed offsets (Flink commits them with each checkpoint). */
async function jobPosition(s: Services): Promise<BrowseAt> {
  const topic = settings.topic.value;
  const groupId = settings.jobGroupId.value;
  const client = await s.connections.client();
  const committed = (await client.fetchCommittedOffsets(groupId, [topic])).filter((c) => c.topic === topic && c.offset >= 0);
  if (committed.length === 0)
    throw new UserError(
      `The Flink job's group ${groupId} has no committed offset on ${topic} yet: Flink commits them when a checkpoint completes.`,
    );
  return {
    topic,
    start: { kind: 'offsets', offsets: Object.fromEntries(committed.map((c) => [c.partition, c.offset])) },
    note: `From the Flink job's position: the offsets its group ${groupId} committed at its last checkpoint (${committed.map((c) => `${c.partition}:${c.offset}`).join(', ')}) — what it reads next after a restart from that checkpoint.`,
  };
}

export function messageCommands(s: Services): vscode.Disposable[] {
  const browsers = new MessageBrowserPanels(s.context.extensionUri, s.log);
  /** The one way a link opens the browser: on the pipeline's cluster, the form filled in, run at once. */
  const browseAt = async (at: BrowseAt) => {
    const invalid = validateTopicName(at.topic);
    if (invalid) throw new UserError(invalid);
    const cluster = s.connections.primary();
    const client = await s.connections.client(cluster);
    const known = (await client.fetchPartitionOffsets(at.topic)).map((p) => p.partition);
    browsers.show(cluster.key, client, at.topic, { form: formOfBrowseAt(at, known), note: at.note, run: true });
  };
  return [
    browsers,
    registerCommandWithLogging(
      'kafkaFlinkLab.messages.browse',
      async (node?: unknown) => {
        const cluster = await pickCluster(s.connections, node);
        const client = await s.connections.client(cluster);
        const topic = await pickTopic(client, node, 'Browse the messages of which topic?', settings.topic.value);
        const invalid = validateTopicName(topic);
        if (invalid) throw new UserError(invalid);
        const preselect = node instanceof PartitionNode ? [node.model.partition] : undefined;
        browsers.show(cluster.key, client, topic, { preselect });
      },
      s.log,
    ),
    registerCommandWithLogging(
      'kafkaFlinkLab.messages.browseAt',
      async (args?: unknown) => {
        const at = parseBrowseAt(args);
        if (!at)
          throw new UserError(
            'Browse Messages At takes {topic, start: {kind: earliest | newest | offsets | timestamp | tail, …}, partitions?, where?}.',
          );
        await browseAt(at);
      },
      s.log,
    ),
    registerCommandWithLogging('kafkaFlinkLab.messages.browseFromJob', async () => browseAt(await jobPosition(s)), s.log),
    registerCommandWithLogging(
      'kafkaFlinkLab.messages.peek',
      async (nodeOrArgs?: unknown) => {
        const args = isPeekArgs(nodeOrArgs) ? nodeOrArgs : undefined;
        const cluster = await pickCluster(s.connections, nodeOrArgs);
        const client = await s.connections.client(cluster);
        const topic = args?.topic ?? (await pickTopic(client, nodeOrArgs, 'Peek at which topic?'));
        const invalid = validateTopicName(topic);
        if (invalid) throw new UserError(invalid);
        const partition =
          args?.partition ?? (await pickPartition(client, topic, nodeOrArgs, `Peek at ${topic}: which partition?`, 'All partitions'));
        const start = args?.start ?? (await pickStart(`Peek at ${topic}: start where?`, 'the newest records (nothing is waited for)'));
        const count =
          args?.count ??
          (await pickPreset(
            `Peek at ${topic}: how many records${partition === 'all' ? ' per partition' : ''}?`,
            [10, 50, 100, 500].map((n) => ({ label: String(n), value: n })),
            {
              prompt: `1 to ${MAX_PEEK_COUNT}`,
              parse: (t) =>
                /^\d+$/.test(t.trim()) && Number(t) >= 1 && Number(t) <= MAX_PEEK_COUNT
                  ? { value: Number(t) }
                  : { error: `Type a whole number from 1 to ${MAX_PEEK_COUNT}.` },
            },
          ));
        const request: PeekRequest = { topic, partition, start, count };
        const result = await vscode.window.withProgress(
          { location: vscode.ProgressLocation.Notification, title: `Reading ${topic}…` },
          () => client.peek(request),
        );
        const document = renderPeekDocument(request, result.ranges, result.records, {
          cluster: cluster.bootstrapServers,
          fetchedAt: new Date(),
          complete: result.complete,
        });
        const where = partition === 'all' ? 'all partitions' : `partition ${partition}`;
        const from =
          start.kind === 'offset'
            ? `offset ${start.offset}`
            : start.kind === 'timestamp'
              ? new Date(start.timestampMs).toISOString()
              : start.kind;
        s.log.info(`Peeked ${result.records.length} records of ${topic} (${where}, from ${from}).`);
        await s.peeks.open(`${topic} ${where} from ${from}`, document);
        return result.records.length;
      },
      s.log,
    ),
    registerCommandWithLogging(
      'kafkaFlinkLab.messages.produce',
      async (node?: unknown) => {
        const cluster = await pickCluster(s.connections, node);
        const client = await s.connections.client(cluster);
        const topic = await pickTopic(client, node, 'Produce to which topic?');
        const key = await askText({
          title: `Produce to ${topic} (1/3): key`,
          prompt: 'The key (empty for none). Records with the same key go to the same partition.',
          placeHolder: 'sensor-001',
        });
        const sample = JSON.stringify({
          event_id: `manual-${Date.now()}`,
          sensor_id: key || 'sensor-001',
          ts: Date.now(),
          temperature: 21.5,
          humidity: 45.0,
          pressure: 1013.2,
          battery: 0.9,
          seq: 0,
        });
        const value = await askText({
          title: `Produce to ${topic} (2/3): value`,
          prompt: 'The value (UTF-8 text; JSON is checked).',
          value: sample,
          validate: (v) => (v.length === 0 ? 'The value cannot be empty.' : checkJsonish(v)),
        });
        const partition = await pickPartition(
          client,
          topic,
          node,
          `Produce to ${topic} (3/3): partition`,
          'Let Kafka choose (by the key’s hash)',
        );
        const written = await client.produce({
          topic,
          key: key || undefined,
          value,
          partition: partition === 'all' ? undefined : partition,
        });
        s.log.info(`Produced one record to ${topic} partition ${written.partition} at offset ${written.offset}.`);
        void vscode.window.showInformationMessage(
          `Wrote one record to ${topic}, partition ${written.partition}, offset ${written.offset}.`,
        );
        if (node instanceof TopicNode || node instanceof PartitionNode) s.explorer.refresh(node instanceof TopicNode ? node : node.topic);
      },
      s.log,
    ),
  ];
}
