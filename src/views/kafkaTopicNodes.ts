// The Kafka explorer's Topics folder, its topic rows and their partitions.
import * as vscode from 'vscode';
import type { PartitionDetail, TopicModel } from '../kafka/kafkaModels';
import { contextValueOf, partitionDescription, partitionLabel, partitionTooltip, topicDescription, topicTooltip } from '../kafka/treeModel';
import { FolderNode, ModelNode, markdown, type ClusterNode, type KafkaNode, type TopicList } from './kafkaTreeNode';

export class TopicsFolderNode extends FolderNode {
  count: number | undefined;

  constructor(
    clusterNode: ClusterNode,
    /** The list fetched with the cluster: the first fetch of children uses it instead of asking again. */
    private prefetched?: TopicList,
  ) {
    super(clusterNode, 'topics');
    this.count = prefetched?.topics?.length;
  }

  protected override adopt(fresh: this): void {
    this.prefetched = fresh.prefetched;
    if (fresh.count !== undefined) this.count = fresh.count;
  }

  protected async fetchChildren(): Promise<KafkaNode[]> {
    const prefetched = this.prefetched;
    this.prefetched = undefined;
    const started = performance.now();
    if (prefetched?.error !== undefined) throw prefetched.error;
    const topics =
      prefetched?.topics ??
      (await (await this.clusterNode.client()).listTopicDetails({ includeInternal: this.clusterNode.ctx.showInternalTopics() }));
    const ms = prefetched?.ms ?? performance.now() - started;
    this.clusterNode.ctx.log(
      `Kafka explorer: ${this.clusterNode.entry.bootstrapServers}: ${topics.length} topics listed in ${Math.round(ms)} ms${prefetched ? ' (with the cluster)' : ''}`,
    );
    this.count = topics.length;
    if (topics.length === 0) return this.emptyChildren();
    return topics.map((t) => new TopicNode(this, t));
  }
}

export class TopicNode extends ModelNode<TopicModel> {
  constructor(
    readonly folder: TopicsFolderNode,
    model: TopicModel,
  ) {
    super(folder, `${folder.id}/${model.name}`, model);
  }

  override lazyTooltip(): vscode.MarkdownString {
    return markdown(topicTooltip(this.model));
  }

  toTreeItem(): vscode.TreeItem {
    const item = new vscode.TreeItem(this.model.name, vscode.TreeItemCollapsibleState.Collapsed);
    item.id = this.id;
    item.description = topicDescription(this.model);
    const pipeline = this.model.name === this.folder.clusterNode.ctx.pipelineTopic();
    item.iconPath = new vscode.ThemeIcon(pipeline ? 'symbol-event' : 'symbol-field');
    item.contextValue = contextValueOf('topic', this.model.internal && 'internal', pipeline && 'pipeline');
    return item;
  }

  protected async fetchChildren(): Promise<KafkaNode[]> {
    const partitions = await (await this.folder.clusterNode.client()).describeTopicPartitions(this.model.name);
    // Fresher than the topic list: keep the topic's own numbers in step with its partitions.
    const messages = partitions.reduce((sum, p) => sum + (p.high - p.low), 0);
    if (messages !== this.model.messages || partitions.length !== this.model.partitions.length) {
      this.model = { ...this.model, messages, partitions };
      this.folder.clusterNode.ctx.changed(this);
    }
    return partitions.map((p) => new PartitionNode(this, p));
  }
}

export class PartitionNode extends ModelNode<PartitionDetail> {
  constructor(
    readonly topic: TopicNode,
    model: PartitionDetail,
  ) {
    super(topic, `${topic.id}/${model.partition}`, model);
  }

  override lazyTooltip(): vscode.MarkdownString {
    return markdown(partitionTooltip(this.topic.model.name, this.model));
  }

  toTreeItem(): vscode.TreeItem {
    const item = new vscode.TreeItem(partitionLabel(this.model), vscode.TreeItemCollapsibleState.None);
    item.id = this.id;
    item.description = partitionDescription(this.model);
    item.iconPath = new vscode.ThemeIcon(this.model.leader < 0 ? 'warning' : 'layers');
    item.contextValue = contextValueOf(
      'partition',
      this.model.leader < 0 && 'offline',
      this.model.isr.length < this.model.replicas.length && 'underreplicated',
    );
    return item;
  }
}
