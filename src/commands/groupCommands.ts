// Consumer group commands: reset a group's offsets (asked per topic and partition), refused for a running Flink job's group.
import * as vscode from 'vscode';
import { UserError } from '../shared/errors';
import { resetRefusal } from '../kafka/offsetReset';
import { settings } from '../services/settings';
import { GroupNode } from '../views/kafkaGroupNodes';
import { registerCommandWithLogging, type Services } from './registration';
import { pickCluster, pickPartition, pickStart, required } from './prompts';

export function groupCommands(s: Services): vscode.Disposable[] {
  return [
    registerCommandWithLogging(
      'kafkaFlinkLab.group.resetOffsets',
      async (node?: unknown) => {
        const cluster = await pickCluster(s.connections, node);
        const client = await s.connections.client(cluster);
        let groupId: string;
        if (node instanceof GroupNode) groupId = node.model.groupId;
        else {
          const groups = (await client.listGroups()).filter((g) => !g.groupId.startsWith('kafka-flink-lab-peek-'));
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
