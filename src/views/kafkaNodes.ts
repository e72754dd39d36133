import * as vscode from 'vscode';
import { errorMessage, UserError } from '../shared/errors';
import { securityDescription, usesSasl } from '../kafka/clusterSecurity';
import { mdCode, mdFence, mdText } from '../shared/markdown';
import type { BrokerModel, ClusterModel, GroupModel, GroupPartitionLag, PartitionDetail, TopicModel } from '../kafka/kafkaModels';
import { summarizeLag, type LagSummary } from '../kafka/lag';
import {
  brokerDescription,
  brokerLabel,
  brokerTooltip,
  contextValueOf,
  groupDescription,
  groupPartitionDescription,
  groupPartitionLabel,
  groupPartitionTooltip,
  groupTooltip,
  partitionDescription,
  partitionLabel,
  partitionTooltip,
  topicDescription,
  topicTooltip,
} from '../kafka/treeModel';
import type { ClusterEntry } from '../services/connections';
import type { KafkaAdminClient } from '../kafka/kafkaAdmin';

/** What nodes need from the outside: a client for their cluster and the pipeline's names. */
export interface NodeContext {
  client(cluster: ClusterEntry): Promise<KafkaAdminClient>;
  pipelineTopic(): string;
  flinkGroupId(): string;
  showInternalTopics(): boolean;
  /** A node's own numbers changed while it fetched its children: redraw it. */
  changed(node: KafkaNode): void;
  /** A line for the extension's log. */
  log(line: string): void;
}

/** A topic list fetched ahead, or why it failed, and how long the fetch took. */
interface TopicList {
  topics?: TopicModel[];
  error?: unknown;
  ms: number;
  /** Date.now() when it arrived. */
  at: number;
}

const markdown = (text: string) => {
  const md = new vscode.MarkdownString(text);
  md.supportThemeIcons = true;
  return md;
};

/**
 * A node of the Kafka explorer. It wraps a domain model (from kafka/kafkaModels) and draws it; children are
 * fetched when first asked for and cached until the node is refreshed.
 */
export abstract class KafkaNode {
  private cachedChildren: Promise<KafkaNode[]> | undefined;

  constructor(
    readonly parent: KafkaNode | undefined,
    readonly id: string,
  ) {}

  abstract toTreeItem(): vscode.TreeItem;

  /** Leaves return undefined. */
  protected fetchChildren(): Promise<KafkaNode[]> | undefined {
    return undefined;
  }

  /** Cached children; a failed fetch becomes an error node with a retry action (and is not retried on its own). */
  children(): Promise<KafkaNode[]> {
    this.cachedChildren ??= (this.fetchChildren() ?? Promise.resolve([])).catch((error) => [new ErrorNode(this, error)]);
    return this.cachedChildren;
  }

  /** Drops the cached children, so the next expand fetches them again. */
  invalidate(): void {
    this.cachedChildren = undefined;
    this.forgetOwnData();
  }

  /** Drops what the node fetched for itself (not its children), so the next fetch reads it again. */
  protected forgetOwnData(): void {}

  /** Takes the numbers of a freshly fetched node with the same id and class. */
  protected adopt(_fresh: this): void {}

  get hasLoadedChildren(): boolean {
    return this.cachedChildren !== undefined;
  }

  /**
   * The tooltip of a node that comes in numbers (topics, partitions, a group's partitions), made only when the
   * user hovers the row (`resolveTreeItem`): a thousand topics' tooltips would otherwise cross to the workbench
   * with every list (about 600 KB).
   */
  lazyTooltip(): vscode.MarkdownString | undefined {
    return undefined;
  }

  /** What VS Code draws for this node, to tell whether a reload changed it. */
  drawKey(): string {
    const item = this.toTreeItem();
    const tooltip = typeof item.tooltip === 'string' ? item.tooltip : (item.tooltip ?? this.lazyTooltip())?.value;
    return JSON.stringify([item.label, item.description, item.contextValue, (item.iconPath as vscode.ThemeIcon | undefined)?.id, tooltip]);
  }

  /**
   * Re-reads the loaded part of this subtree in place, for the auto-refresh. A child whose id is still there keeps
   * its object and takes the fresh numbers, so VS Code's handle for its row stays valid (a context-menu command
   * chosen meanwhile still gets its row); open children are re-read the same way, collapsed ones are dropped to be
   * fetched on their next expand. Adds to `redraw` every node whose row or list of children changed.
   */
  async reloadInPlace(isOpen: (node: KafkaNode) => boolean, redraw: Set<KafkaNode>, top = true): Promise<void> {
    if (!this.cachedChildren) return;
    const key = top ? this.drawKey() : '';
    const before = await this.cachedChildren;
    if (top) this.forgetOwnData();
    const fetched = await (this.fetchChildren() ?? Promise.resolve([])).catch((error): KafkaNode[] => [new ErrorNode(this, error)]);
    const old = new Map(before.map((n) => [n.id, n]));
    const kept = new Set<KafkaNode>();
    const merged = fetched.map((fresh) => {
      const existing = old.get(fresh.id);
      if (!existing || existing.constructor !== fresh.constructor || fresh instanceof ErrorNode || fresh instanceof InfoNode) return fresh;
      const drawn = existing.drawKey();
      existing.adopt(fresh);
      if (existing.drawKey() !== drawn) redraw.add(existing);
      kept.add(existing);
      return existing;
    });
    this.cachedChildren = Promise.resolve(merged);
    if (top && this.drawKey() !== key) redraw.add(this);
    if (merged.length !== before.length || merged.some((n, i) => n !== before[i])) redraw.add(this);
    await Promise.all(
      [...kept].map((n) => {
        if (!n.hasLoadedChildren) return undefined;
        if (!isOpen(n)) {
          n.cachedChildren = undefined;
          return undefined;
        }
        return n.reloadInPlace(isOpen, redraw, false);
      }),
    );
  }

  get cluster(): ClusterNode | undefined {
    if (this instanceof ClusterNode) return this;
    return this.parent?.cluster;
  }
}

export class ErrorNode extends KafkaNode {
  readonly message: string;

  constructor(
    readonly retryTarget: KafkaNode | undefined,
    readonly error: unknown,
  ) {
    super(retryTarget, `${retryTarget?.id ?? 'root'}/error`);
    this.message = errorMessage(error);
  }

  toTreeItem(): vscode.TreeItem {
    const item = new vscode.TreeItem(
      this.message.length > 120 ? `${this.message.slice(0, 117)}…` : this.message,
      vscode.TreeItemCollapsibleState.None,
    );
    item.id = this.id;
    item.iconPath = new vscode.ThemeIcon('error', new vscode.ThemeColor('errorForeground'));
    item.tooltip = markdown(
      `$(error) ${mdText(this.message)}${this.error instanceof UserError && this.error.details ? `\n\n${mdFence(this.error.details.slice(0, 1500))}` : ''}\n\nClick to retry.`,
    );
    item.contextValue = contextValueOf('error');
    item.command = { command: 'kafkaFlinkLab.kafka.refresh', title: 'Retry', arguments: [this.retryTarget] };
    return item;
  }
}

export class InfoNode extends KafkaNode {
  constructor(
    parent: KafkaNode,
    readonly text: string,
    private readonly tooltip?: string,
  ) {
    super(parent, `${parent.id}/info`);
  }

  toTreeItem(): vscode.TreeItem {
    const item = new vscode.TreeItem(this.text, vscode.TreeItemCollapsibleState.None);
    item.id = this.id;
    item.iconPath = new vscode.ThemeIcon('info');
    item.contextValue = contextValueOf('info');
    if (this.tooltip) item.tooltip = markdown(this.tooltip);
    return item;
  }
}

export class ClusterNode extends KafkaNode {
  /** Set by `load()`: the cluster's brokers, or why it could not be reached. */
  model: ClusterModel | undefined;
  loadError: unknown;

  constructor(
    readonly entry: ClusterEntry,
    readonly ctx: NodeContext,
  ) {
    super(undefined, `cluster:${entry.key}`);
  }

  async client(): Promise<KafkaAdminClient> {
    return this.ctx.client(this.entry);
  }

  /** The topic list fetched with the cluster, handed to the next Topics folder (see `load`). */
  private topicList?: TopicList;

  /**
   * Connects and describes the cluster; failures are kept, not thrown, so the node can show them. The topic list
   * is fetched alongside (the Topics folder is expanded by default): the folder then shows its count at once and
   * the topics arrive with the cluster instead of one more fetch and tree round trip later.
   */
  async load(): Promise<void> {
    try {
      const client = await this.client();
      const started = performance.now();
      const topics = client.listTopicDetails({ includeInternal: this.ctx.showInternalTopics() }).then(
        (list): TopicList => ({ topics: list, ms: performance.now() - started, at: Date.now() }),
        (error: unknown): TopicList => ({ error, ms: performance.now() - started, at: Date.now() }),
      );
      this.model = await client.describeCluster();
      this.loadError = undefined;
      this.topicList = await topics;
    } catch (error) {
      this.model = undefined;
      this.loadError = error;
      this.topicList = undefined;
    }
  }

  /** The topic list fetched by the last `load`, once, while it is fresh (the cluster may be expanded later). */
  takeTopicList(): TopicList | undefined {
    const list = this.topicList;
    this.topicList = undefined;
    return list && Date.now() - list.at < 10_000 ? list : undefined;
  }

  toTreeItem(): vscode.TreeItem {
    const item = new vscode.TreeItem(this.entry.label, vscode.TreeItemCollapsibleState.Expanded);
    item.id = this.id;
    const brokers = this.model?.brokers.length;
    item.description = [
      this.entry.bootstrapServers,
      this.loadError ? 'unreachable' : brokers !== undefined ? `${brokers} broker${brokers === 1 ? '' : 's'}` : undefined,
    ]
      .filter(Boolean)
      .join(' · ');
    item.iconPath = new vscode.ThemeIcon(
      this.loadError ? 'debug-disconnect' : 'server-environment',
      this.loadError ? new vscode.ThemeColor('errorForeground') : undefined,
    );
    item.contextValue = contextValueOf(
      'cluster',
      this.entry.local && 'local',
      this.entry.primary && 'primary',
      !this.entry.primary && 'additional',
      !this.entry.local && usesSasl(this.entry.security) && 'sasl',
      this.loadError !== undefined && 'error',
    );
    item.tooltip = markdown(
      [
        `**${this.entry.local ? 'Local Kafka stack' : 'Kafka cluster'}** at ${mdCode(this.entry.bootstrapServers)}`,
        this.model?.clusterId ? `\nCluster id ${mdCode(this.model.clusterId)}` : '',
        this.entry.local ? '' : `\n${mdText(securityDescription(this.entry.security))}`,
        this.entry.primary
          ? '\nThe pipeline (generator, Flink job, status bar) uses this cluster: setting `kafkaFlinkLab.bootstrapServers`.'
          : '',
        this.loadError ? `\n$(error) ${mdText(errorMessage(this.loadError))}` : '',
      ].join('\n'),
    );
    return item;
  }

  protected fetchChildren(): Promise<KafkaNode[]> {
    return (async () => {
      if (!this.model && !this.loadError) await this.load();
      if (this.loadError || !this.model) return [new ErrorNode(this, this.loadError)];
      return [new BrokersFolderNode(this, this.model), new TopicsFolderNode(this, this.takeTopicList()), new GroupsFolderNode(this)];
    })();
  }

  protected override forgetOwnData(): void {
    this.model = undefined;
    this.loadError = undefined;
  }
}

export class BrokersFolderNode extends KafkaNode {
  constructor(
    readonly clusterNode: ClusterNode,
    private model: ClusterModel | undefined,
  ) {
    super(clusterNode, `${clusterNode.id}/brokers`);
  }

  toTreeItem(): vscode.TreeItem {
    const item = new vscode.TreeItem('Brokers', vscode.TreeItemCollapsibleState.Expanded);
    item.id = this.id;
    if (this.model) item.description = String(this.model.brokers.length);
    item.iconPath = new vscode.ThemeIcon('server');
    item.contextValue = contextValueOf('folder', 'brokers');
    item.tooltip = markdown('The brokers of this cluster, from the metadata every client fetches first.');
    return item;
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

export class TopicsFolderNode extends KafkaNode {
  count: number | undefined;

  constructor(
    readonly clusterNode: ClusterNode,
    /** The list fetched with the cluster: the first fetch of children uses it instead of asking again. */
    private prefetched?: TopicList,
  ) {
    super(clusterNode, `${clusterNode.id}/topics`);
    this.count = prefetched?.topics?.length;
  }

  protected override adopt(fresh: this): void {
    this.prefetched = fresh.prefetched;
    if (fresh.count !== undefined) this.count = fresh.count;
  }

  toTreeItem(): vscode.TreeItem {
    const item = new vscode.TreeItem('Topics', vscode.TreeItemCollapsibleState.Expanded);
    item.id = this.id;
    if (this.count !== undefined) item.description = String(this.count);
    item.iconPath = new vscode.ThemeIcon('list-tree');
    item.contextValue = contextValueOf('folder', 'topics');
    item.tooltip = markdown(
      'Topics: named streams of records. Each is split into partitions; each partition is an ordered log where every record gets the next **offset**.',
    );
    return item;
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
    if (topics.length === 0)
      return [
        new InfoNode(
          this,
          'No topics yet',
          'Create one with the + button, or start the local stack, which creates `sensor-data` and `sensor-alerts`.',
        ),
      ];
    return topics.map((t) => new TopicNode(this, t));
  }
}

export class TopicNode extends KafkaNode {
  constructor(
    readonly folder: TopicsFolderNode,
    public model: TopicModel,
  ) {
    super(folder, `${folder.id}/${model.name}`);
  }

  protected override adopt(fresh: this): void {
    this.model = fresh.model;
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

export class PartitionNode extends KafkaNode {
  constructor(
    readonly topic: TopicNode,
    public model: PartitionDetail,
  ) {
    super(topic, `${topic.id}/${model.partition}`);
  }

  protected override adopt(fresh: this): void {
    this.model = fresh.model;
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

export class GroupsFolderNode extends KafkaNode {
  count: number | undefined;

  constructor(readonly clusterNode: ClusterNode) {
    super(clusterNode, `${clusterNode.id}/groups`);
  }

  toTreeItem(): vscode.TreeItem {
    const item = new vscode.TreeItem('Consumer groups', vscode.TreeItemCollapsibleState.Expanded);
    item.id = this.id;
    if (this.count !== undefined) item.description = String(this.count);
    item.iconPath = new vscode.ThemeIcon('organization');
    item.contextValue = contextValueOf('folder', 'groups');
    item.tooltip = markdown(
      'Consumer groups: readers that share a topic’s partitions and remember how far they got (their committed offsets).',
    );
    return item;
  }

  protected async fetchChildren(): Promise<KafkaNode[]> {
    const client = await this.clusterNode.client();
    const groups = (await client.listGroups()).filter((g) => !g.groupId.startsWith('kafka-flink-lab-peek-'));
    this.count = groups.length;
    if (groups.length === 0)
      return [
        new InfoNode(
          this,
          'No consumer groups yet',
          'A group appears once a consumer joins or commits offsets — the Flink job’s group after its first checkpoint.',
        ),
      ];
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

export class GroupNode extends KafkaNode {
  constructor(
    readonly folder: GroupsFolderNode,
    public model: GroupModel,
    /** Lag rows read with the group list; dropped by a refresh of this node. */
    private lag: GroupPartitionLag[] | Error | undefined,
  ) {
    super(folder, `${folder.id}/${model.groupId}`);
  }

  protected override adopt(fresh: this): void {
    this.model = fresh.model;
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
    if (rows.every((r) => r.committed === undefined))
      return [
        new InfoNode(
          this,
          'no committed offsets yet',
          'The group has not committed any offset. The Flink job commits when a checkpoint completes.',
        ),
      ];
    return rows.map((r) => new GroupPartitionNode(this, r));
  }

  protected override forgetOwnData(): void {
    this.lag = undefined;
  }
}

export class GroupPartitionNode extends KafkaNode {
  constructor(
    readonly group: GroupNode,
    public model: GroupPartitionLag,
  ) {
    super(group, `${group.id}/${model.topic}/${model.partition}`);
  }

  protected override adopt(fresh: this): void {
    this.model = fresh.model;
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
