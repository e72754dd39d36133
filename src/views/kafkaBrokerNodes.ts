// The Kafka explorer's Brokers folder and its broker rows.
import * as vscode from 'vscode';
import type { BrokerModel, ClusterModel } from '../kafka/kafkaModels';
import { brokerDescription, brokerLabel, brokerTooltip, contextValueOf } from '../kafka/treeModel';
import { folderItem, KafkaNode, markdown, type ClusterNode } from './kafkaTreeNode';

export class BrokersFolderNode extends KafkaNode {
  constructor(
    readonly clusterNode: ClusterNode,
    private model: ClusterModel | undefined,
  ) {
    super(clusterNode, `${clusterNode.id}/brokers`);
  }

  toTreeItem(): vscode.TreeItem {
    return folderItem(this, {
      label: 'Brokers',
      kind: 'brokers',
      icon: 'server',
      count: this.model?.brokers.length,
      tooltip: 'The brokers of this cluster, from the metadata every client fetches first.',
    });
  }

  protected async fetchChildren(): Promise<KafkaNode[]> {
    // The first expand uses the cluster's description; a refresh of this folder asks again.
    const fetched = !this.model;
    this.model ??= await (await this.clusterNode.client()).describeCluster();
    if (fetched) this.clusterNode.ctx.changed(this);
    return this.model.brokers.map((b) => new BrokerNode(this, b));
  }

  protected override forgetOwnData(): void {
    this.model = undefined;
  }

  protected override adopt(fresh: this): void {
    this.model = fresh.model;
  }
}

export class BrokerNode extends KafkaNode {
  constructor(
    parent: KafkaNode,
    public model: BrokerModel,
  ) {
    super(parent, `${parent.id}/${model.nodeId}`);
  }

  protected override adopt(fresh: this): void {
    this.model = fresh.model;
  }

  toTreeItem(): vscode.TreeItem {
    const item = new vscode.TreeItem(brokerLabel(this.model), vscode.TreeItemCollapsibleState.None);
    item.id = this.id;
    item.description = brokerDescription(this.model);
    item.tooltip = markdown(brokerTooltip(this.model));
    item.iconPath = new vscode.ThemeIcon(this.model.isController ? 'star-full' : 'server');
    item.contextValue = contextValueOf('broker', this.model.isController && 'controller');
    return item;
  }
}
