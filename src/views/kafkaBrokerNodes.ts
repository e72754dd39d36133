// The Kafka explorer's Brokers folder and its broker rows.
import * as vscode from 'vscode';
import type { BrokerModel, ClusterModel } from '../kafka/kafkaModels';
import { brokerDescription, brokerLabel, brokerTooltip, contextValueOf } from '../kafka/treeModel';
import { FolderNode, ModelNode, type ClusterNode, type KafkaNode, markdown } from './kafkaTreeNode';

export class BrokersFolderNode extends FolderNode {
  constructor(
    clusterNode: ClusterNode,
    private model: ClusterModel | undefined,
  ) {
    super(clusterNode, 'brokers');
  }

  get count(): number | undefined {
    return this.model?.brokers.length;
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

export class BrokerNode extends ModelNode<BrokerModel> {
  constructor(parent: KafkaNode, model: BrokerModel) {
    super(parent, `${parent.id}/${model.nodeId}`, model);
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
