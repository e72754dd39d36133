// Consumer group commands: reset a group's offsets (asked per topic and partition), refused for a running Flink job's group.
import * as vscode from 'vscode';
import { UserError } from '../shared/errors';
import { resetRefusal } from '../kafka/offsetReset';
import { settings } from '../services/settings';
import { GroupNode } from '../views/kafkaGroupNodes';
import { TopicNode } from '../views/kafkaTopicNodes';
import { jobGroupRefusal } from '../kafka/groupMember';
import { isThrowAwayGroup } from '../kafka/kafkaGroups';
import { cliConsumeArgs } from '../services/cliArgs';
import { requireWorkspace } from '../services/workspace';
import { validateGroupId } from '../config/validation';
import { registerCommandWithLogging, type Services } from './registration';
import { pickCluster, pickPartition, pickStart, required } from './prompts';

/** Consumers started from this window, numbered for their terminals' names. */
let consumersStarted = 0;

/** The walkthrough's link, `{"group": "lab-consumers", "count": 2}`: that many members at once, no questions. */
function linkArgument(node: unknown): { group: string; count: number } | undefined {
  if (typeof node !== 'object' || node === null || node instanceof GroupNode || node instanceof TopicNode) return undefined;
  const { group, count } = node as { group?: unknown; count?: unknown };
  if (typeof group !== 'string') return undefined;
  return { group, count: typeof count === 'number' && count >= 1 && count <= 4 ? Math.floor(count) : 1 };
}

/**
 * Start a Consumer in Group…: `pipeline consume` in a terminal of its own, a plain member of the group. From a group's
 * row it joins that group; from a topic's row it reads that topic; from the palette it asks.
 */
async function startConsumer(s: Services, node: unknown): Promise<void> {
  const link = linkArgument(node);
  if (link) {
    for (let i = 0; i < link.count; i++) await startMember(s, link.group, settings.topic.value);
    await vscode.commands.executeCommand('kafkaFlinkLab.kafka.focus');
    return;
  }
  const group =
    node instanceof GroupNode
      ? node.model.groupId
      : required(
          await vscode.window.showInputBox({
            title: 'Start a consumer in which group?',
            prompt: 'Members of one group split the topic’s partitions: start two or three in the same group and watch the Kafka view.',
            value: 'lab-consumers',
            ignoreFocusOut: true,
            validateInput: (v) => validateGroupId(v) ?? jobGroupRefusal(v, settings.jobGroupId.value),
          }),
        );
  // A group's row reads the one topic its members read, when they read one.
  const owned =
    node instanceof GroupNode ? [...new Set((node.model.memberList ?? []).flatMap((m) => m.assignment.map((a) => a.topic)))] : [];
  const topic = node instanceof TopicNode ? node.model.name : owned.length === 1 ? owned[0] : settings.topic.value;
  await startMember(s, group, topic);
}

/** One member of `group` reading `topic`, in a terminal named for it; refused for the Flink job's group. */
async function startMember(s: Services, group: string, topic: string): Promise<void> {
  const refused = jobGroupRefusal(group, settings.jobGroupId.value);
  if (refused) throw new UserError(refused);
  const access = await s.connections.pipelineAccess();
  const argv = cliConsumeArgs({
    workspace: requireWorkspace(),
    group,
    topic,
    bootstrapServers: access.bootstrapServers,
    from: 'earliest',
    security: access.security,
  });
  s.terminals.startNamed(`Consumer ${++consumersStarted} · ${group}`, 'person', argv, { password: access.password });
  // The tree shows the new member once the group has rebalanced: a refresh after the join.
  setTimeout(() => s.explorer.refresh(), 4000).unref();
}

export function groupCommands(s: Services): vscode.Disposable[] {
  return [
    registerCommandWithLogging('kafkaFlinkLab.group.startConsumer', (node?: unknown) => startConsumer(s, node), s.log),
    registerCommandWithLogging(
      'kafkaFlinkLab.group.resetOffsets',
      async (node?: unknown) => {
        const cluster = await pickCluster(s.connections, node);
        const client = await s.connections.client(cluster);
        let groupId: string;
        if (node instanceof GroupNode) groupId = node.model.groupId;
        else {
          const groups = (await client.listGroups()).filter((g) => !isThrowAwayGroup(g.groupId));
          if (groups.length === 0) throw new UserError(`Kafka at ${cluster.bootstrapServers} has no consumer groups.`);
          groupId = required(
            await vscode.window.showQuickPick(
              groups.map((g) => ({ label: g.groupId, description: `${g.state} · ${g.members} members` })),
              { title: 'Reset the offsets of which consumer group?', ignoreFocusOut: true },
            ),
          ).label;
        }
        const isFlinkGroup = groupId === settings.jobGroupId.value && cluster.primary;
        const jobRunning = () => ['running', 'starting'].includes(s.monitor.snapshot.job.phase);
        const check = async () => {
          const refusal = resetRefusal(await client.describeGroup(groupId), { isFlinkGroup, jobRunning: jobRunning() });
          if (refusal) throw new UserError(refusal);
        };
        await check();

        const committedTopics = [...new Set((await client.fetchCommittedOffsets(groupId)).map((c) => c.topic))].sort();
        const topicNames = committedTopics.length > 0 ? committedTopics : (await client.listTopics()).map((t) => t.name);
        const topic =
          topicNames.length === 1
            ? topicNames[0]
            : required(await vscode.window.showQuickPick(topicNames, { title: `Reset ${groupId}: on which topic?`, ignoreFocusOut: true }));
        const partition = await pickPartition(
          client,
          topic,
          undefined,
          `Reset ${groupId} on ${topic}: which partitions?`,
          'All partitions',
        );
        const target = await pickStart(`Reset ${groupId} on ${topic}: to where?`, 'the end: skip everything not read yet');
        const where =
          target.kind === 'offset'
            ? `offset ${target.offset}`
            : target.kind === 'timestamp'
              ? new Date(target.timestampMs).toISOString()
              : target.kind;
        const choice = await vscode.window.showWarningMessage(
          `Move consumer group ${groupId} on ${topic} (${partition === 'all' ? 'all partitions' : `partition ${partition}`}) to ${where}? Its consumers will re-read or skip records from there.${isFlinkGroup ? ' The Flink job starts from these offsets only when it starts without a checkpoint.' : ''}`,
          { modal: true },
          'Reset offsets',
        );
        if (choice !== 'Reset offsets') return;
        await check(); // a member may have joined meanwhile
        const plan = await client.resetGroupOffsets(groupId, topic, partition, target);
        const summary = plan.map((p) => `${p.partition}→${p.offset}`).join(', ');
        s.log.info(`Reset ${groupId} on ${topic}: ${summary}.`);
        void vscode.window.showInformationMessage(`Reset ${groupId} on ${topic}: partition→offset ${summary}.`);
        if (node instanceof GroupNode) s.explorer.refresh(node.folder);
        else s.explorer.refresh();
        await s.monitor.refresh();
      },
      s.log,
    ),
  ];
}
