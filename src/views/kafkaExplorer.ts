// The Kafka view's tree provider: clusters › brokers, topics › partitions, consumer groups › lag, with welcome, error and loading states.
import * as vscode from 'vscode';
import type { KafkaConnections } from '../services/connections';
import { Disposable, intervalDisposable } from '../services/lifecycle';
import type { Log } from '../services/log';
import type { PipelineMonitor } from '../services/pipelineMonitor';
import type { PipelineSnapshot } from '../pipeline/statusModel';
import { affectsAny, settings } from '../services/settings';
import { BrokersFolderNode } from './kafkaBrokerNodes';
import { GroupsFolderNode } from './kafkaGroupNodes';
import { TopicsFolderNode } from './kafkaTopicNodes';
import { ClusterNode, ErrorNode, type ClusterFolders, type KafkaNode, type NodeContext } from './kafkaTreeNode';

export const KAFKA_VIEW_ID = 'kafkaFlinkLab.kafka';

/** Below each cluster: its brokers, its topics (with the list fetched alongside the cluster) and its consumer groups. */
const clusterFolders: ClusterFolders = (cluster, model, topics) => [
  new BrokersFolderNode(cluster, model),
  new TopicsFolderNode(cluster, topics),
  new GroupsFolderNode(cluster),
];

/**
 * The Kafka view: clusters › brokers, topics › partitions, consumer groups › lag. Three states: the welcome
 * view (`viewsWelcome`) when only the local cluster is configured and it is not running; an error node with a
 * retry action for a branch that failed; a progress bar on the view while a branch loads.
 */
export class KafkaExplorer extends Disposable implements vscode.TreeDataProvider<KafkaNode> {
  private readonly _onDidChangeTreeData = this._register(new vscode.EventEmitter<KafkaNode | KafkaNode[] | undefined>());
  readonly onDidChangeTreeData = this._onDidChangeTreeData.event;
  readonly view: vscode.TreeView<KafkaNode>;
  private roots: Promise<KafkaNode[]> | undefined;
  private autoRefresh: vscode.Disposable | undefined;
  /** Rows the user collapsed (VS Code reports no event for rows that start expanded, so this tracks the closed ones). */
  private readonly collapsed = new Set<string>();
  private reloading = false;
  private readonly nodeContext: NodeContext;
  /** Whether the loaded roots show the pipeline's cluster as reachable (undefined: not loaded). */
  private rootsShowUp: boolean | undefined;

  constructor(
    private readonly connections: KafkaConnections,
    monitor: PipelineMonitor,
    private readonly log: Log,
  ) {
    super();
    this.nodeContext = {
      client: (entry) => this.connections.client(entry),
      pipelineTopic: () => settings.topic.value,
      flinkGroupId: () => settings.jobGroupId.value,
      showInternalTopics: () => settings.showInternalTopics.value,
      changed: (node) => this._onDidChangeTreeData.fire(node),
      log: (line) => this.log.info(line),
    };
    this.view = this._register(vscode.window.createTreeView(KAFKA_VIEW_ID, { treeDataProvider: this, showCollapseAll: true }));
    this._register(connections.onDidChange(() => this.refresh()));
    // The welcome view turns into the tree (and back) when the broker starts or stops.
    // The first state after start-up usually agrees with what the tree already shows: no second fetch then.
    this._register(monitor.onDidChangeBrokerState((state) => this.onBrokerState(state)));
    this._register(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (affectsAny(e, settings.topic, settings.jobGroupId, settings.showInternalTopics)) this.refresh();
        if (settings.refreshIntervalSeconds.affects(e)) this.scheduleAutoRefresh();
      }),
    );
    this._register(this.view.onDidChangeVisibility(() => this.scheduleAutoRefresh()));
    this._register(this.view.onDidCollapseElement((e) => this.collapsed.add(e.element.id)));
    this._register(this.view.onDidExpandElement((e) => this.collapsed.delete(e.element.id)));
    this._register({ dispose: () => this.autoRefresh?.dispose() });
    this.scheduleAutoRefresh();
  }

  /** Auto-refresh only while the view is visible; nothing is fetched for a hidden view. */
  private scheduleAutoRefresh(): void {
    this.autoRefresh?.dispose();
    this.autoRefresh = undefined;
    const seconds = settings.refreshIntervalSeconds.value;
    if (seconds > 0 && this.view.visible) this.autoRefresh = intervalDisposable(() => void this.reload(), Math.max(2, seconds) * 1000);
  }

  /**
   * The auto-refresh: re-reads what is shown in place and redraws only the rows that changed. A full refresh
   * would make VS Code forget every row until the new ones arrive (a broker round trip), and a context-menu
   * command chosen in that moment would reach the extension without its row.
   */
  async reload(): Promise<void> {
    if (this.reloading) return; // the previous tick is still reading
    this.reloading = true;
    try {
      const roots = this.roots ? await this.roots : undefined;
      const clusters = roots?.filter((n): n is ClusterNode => n instanceof ClusterNode) ?? [];
      // The welcome view, a root error or a changed list of clusters: nothing to keep.
      if (!roots || clusters.length === 0 || clusters.length !== roots.length || clusters.length !== this.connections.clusters().length) {
        this.refresh();
        return;
      }
      const redraw = new Set<KafkaNode>();
      const isOpen = (node: KafkaNode) => node.hasLoadedChildren && !this.collapsed.has(node.id);
      await this.withProgress(Promise.all(clusters.map((c) => c.reloadInPlace(isOpen, redraw))));
      if (redraw.size) this._onDidChangeTreeData.fire([...redraw]);
    } catch (error) {
      this.log.warn(`Kafka explorer: the auto-refresh failed, reading everything again: ${(error as Error).message ?? error}`);
      this.refresh();
    } finally {
      this.reloading = false;
    }
  }

  /** Drops cached children of `node` (or everything) and redraws it; VS Code then asks again for what is expanded. */
  refresh(node?: KafkaNode): void {
    if (node) {
      node.invalidate();
      this._onDidChangeTreeData.fire(node);
    } else {
      this.roots = undefined;
      this._onDidChangeTreeData.fire(undefined);
    }
  }

  /** The status monitor's broker state changed: redraw unless the tree already shows it (the first poll, usually). */
  private onBrokerState(state: PipelineSnapshot['broker']['state']): void {
    if ((state === 'up' || state === 'down') && this.rootsShowUp === (state === 'up')) return;
    this.refresh();
  }

  getTreeItem(node: KafkaNode): vscode.TreeItem {
    return node.toTreeItem();
  }

  resolveTreeItem(item: vscode.TreeItem, node: KafkaNode): vscode.TreeItem {
    item.tooltip ??= node.lazyTooltip();
    return item;
  }

  getParent(node: KafkaNode): KafkaNode | undefined {
    return node.parent;
  }

  getChildren(node?: KafkaNode): Promise<KafkaNode[]> {
    const load = node ? node.children() : (this.roots ??= this.loadRoots());
    return this.withProgress(load);
  }

  /** The progress bar on the view while anything loads (each request has its own timeout). */
  private withProgress<T>(promise: Promise<T>): Promise<T> {
    void vscode.window.withProgress({ location: { viewId: KAFKA_VIEW_ID } }, () => promise.catch(() => undefined));
    return promise;
  }

  private async loadRoots(): Promise<KafkaNode[]> {
    try {
      const clusters = this.connections.clusters().map((entry) => new ClusterNode(entry, this.nodeContext, clusterFolders));
      await Promise.all(clusters.map((c) => c.load()));
      for (const c of clusters)
        if (c.loadError) this.log.warn(`Kafka explorer: ${c.entry.bootstrapServers}: ${(c.loadError as Error).message ?? c.loadError}`);
      const primary = clusters.find((c) => c.entry.primary);
      this.rootsShowUp = primary ? !primary.loadError : undefined;
      // Nothing connected: only the local cluster, and it is not running → the welcome view.
      if (clusters.length === 1 && clusters[0].entry.local && clusters[0].loadError) return [];
      return clusters;
    } catch (error) {
      return [new ErrorNode(undefined, error)];
    }
  }

  /** Clusters currently shown (loaded). */
  async clusterNodes(): Promise<ClusterNode[]> {
    return (await (this.roots ??= this.loadRoots())).filter((n): n is ClusterNode => n instanceof ClusterNode);
  }
}
