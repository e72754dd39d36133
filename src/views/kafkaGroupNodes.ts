// The Kafka explorer's Consumer groups folder, its group rows (with lag) and each group's partitions.
import * as vscode from 'vscode';
import type { GroupMemberModel, GroupModel, GroupPartitionLag } from '../kafka/kafkaModels';
import { isThrowAwayGroup } from '../kafka/kafkaGroups';
import { summarizeLag, type LagSummary } from '../kafka/lag';
import {
  contextValueOf,
  groupDescription,
  groupPartitionDescription,
  groupPartitionLabel,
  groupPartitionTooltip,
  groupTooltip,
  isIdleMember,
  memberDescription,
  memberLabel,
  memberTooltip,
} from '../kafka/treeModel';
import { FolderNode, InfoNode, ModelNode, markdown, type ClusterNode, type KafkaNode } from './kafkaTreeNode';

export class GroupsFolderNode extends FolderNode {
  count: number | undefined;

  constructor(clusterNode: ClusterNode) {
    super(clusterNode, 'groups');
  }

  protected async fetchChildren(): Promise<KafkaNode[]> {
    const client = await this.clusterNode.client();
    const groups = (await client.listGroups()).filter((g) => !isThrowAwayGroup(g.groupId));
    this.count = groups.length;
    if (groups.length === 0) return this.emptyChildren();
    // Lag per group for the description: a few requests per group, four groups at a time.
    const lags = new Map<string, GroupPartitionLag[] | Error>();
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(4, groups.length) }, async () => {
        while (next < groups.length) {
          const g = groups[next++];
          lags.set(g.groupId, await client.describeGroupLag(g.groupId).catch((e: Error) => e));
        }
      }),
    );
    return groups.map((g) => new GroupNode(this, g, lags.get(g.groupId)));
  }
}

export class GroupNode extends ModelNode<GroupModel> {
  constructor(
    readonly folder: GroupsFolderNode,
    model: GroupModel,
    /** Lag rows read with the group list; dropped by a refresh of this node. */
    private lag: GroupPartitionLag[] | Error | undefined,
  ) {
    super(folder, `${folder.id}/${model.groupId}`, model);
  }

  protected override adopt(fresh: this): void {
    super.adopt(fresh);
    this.lag = fresh.lag;
  }

  get summary(): LagSummary | undefined {
    return Array.isArray(this.lag) ? summarizeLag(this.lag) : undefined;
  }

  get isFlinkGroup(): boolean {
    return this.model.groupId === this.folder.clusterNode.ctx.flinkGroupId();
  }

  toTreeItem(): vscode.TreeItem {
    const item = new vscode.TreeItem(this.model.groupId, vscode.TreeItemCollapsibleState.Collapsed);
    item.id = this.id;
    item.description = groupDescription(this.model, this.summary, { isFlinkGroup: this.isFlinkGroup });
    item.tooltip = markdown(groupTooltip(this.model, this.summary, { isFlinkGroup: this.isFlinkGroup }));
    item.iconPath = new vscode.ThemeIcon(this.isFlinkGroup ? 'zap' : 'organization');
    item.contextValue = contextValueOf('group', this.model.members > 0 ? 'active' : 'inactive', this.isFlinkGroup && 'flink');
    return item;
  }

  protected async fetchChildren(): Promise<KafkaNode[]> {
    let rows = this.lag;
    if (rows === undefined || rows instanceof Error) {
      const client = await this.folder.clusterNode.client();
      const [model, lag] = await Promise.all([client.describeGroup(this.model.groupId), client.describeGroupLag(this.model.groupId)]);
      this.model = model;
      this.lag = rows = lag;
      this.folder.clusterNode.ctx.changed(this);
    }
    // Its members first, each with the partitions it owns (the split a rebalance changes), then the partitions' offsets.
    const members = (this.model.memberList ?? []).map((m) => new GroupMemberNode(this, m));
    if (rows.every((r) => r.committed === undefined))
      return [
        ...members,
        new InfoNode(
          this,
          'no committed offsets yet',
          'The group has not committed any offset. The Flink job commits when a checkpoint completes; a plain member commits as it reads.',
        ),
      ];
    return [...members, ...rows.map((r) => new GroupPartitionNode(this, r))];
  }

  protected override forgetOwnData(): void {
    this.lag = undefined;
  }
}

export class GroupPartitionNode extends ModelNode<GroupPartitionLag> {
  constructor(
    readonly group: GroupNode,
    model: GroupPartitionLag,
  ) {
    super(group, `${group.id}/${model.topic}/${model.partition}`, model);
  }

  override lazyTooltip(): vscode.MarkdownString {
    return markdown(groupPartitionTooltip(this.group.model.groupId, this.model));
  }

  toTreeItem(): vscode.TreeItem {
    const item = new vscode.TreeItem(groupPartitionLabel(this.model), vscode.TreeItemCollapsibleState.None);
    item.id = this.id;
    item.description = groupPartitionDescription(this.model);
    item.iconPath = new vscode.ThemeIcon(
      this.model.committed === undefined ? 'circle-outline' : (this.model.lag ?? 0) > 0 ? 'arrow-circle-down' : 'pass',
    );
    item.contextValue = contextValueOf('grouppartition');
    return item;
  }
}

/** A member of the group, with the partitions it owns; one that owns none is idle, and its tooltip says why. */
export class GroupMemberNode extends ModelNode<GroupMemberModel> {
  constructor(
    readonly group: GroupNode,
    model: GroupMemberModel,
  ) {
    super(group, `${group.id}/member/${model.memberId}`, model);
  }

  toTreeItem(): vscode.TreeItem {
    const item = new vscode.TreeItem(memberLabel(this.model), vscode.TreeItemCollapsibleState.None);
    item.id = this.id;
    item.description = memberDescription(this.model, this.group.model);
    item.tooltip = markdown(memberTooltip(this.model, this.group.model));
    const idle = isIdleMember(this.model);
    item.iconPath = new vscode.ThemeIcon(idle ? 'debug-pause' : 'person');
    item.contextValue = contextValueOf('groupmember', idle && 'idle');
    return item;
  }
}
