// The Kafka explorer's node base, its error and info (empty) rows, the cluster node at the top of each tree, and the bases of folder and model rows.
import * as vscode from 'vscode';
import { errorMessage, UserError } from '../shared/errors';
import { securityDescription, usesSasl } from '../kafka/clusterSecurity';
import { mdCode, mdFence, mdText } from '../shared/markdown';
import type { ClusterModel, TopicModel } from '../kafka/kafkaModels';
import { contextValueOf } from '../kafka/treeModel';
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
export interface TopicList {
  topics?: TopicModel[];
  error?: unknown;
  ms: number;
  /** Date.now() when it arrived. */
  at: number;
}

export const markdown = (text: string) => {
  const md = new vscode.MarkdownString(text);
  md.supportThemeIcons = true;
  return md;
};

/**
 * The folders below a cluster node, made by the explorer: their files import this one (their nodes extend
 * `KafkaNode`), so this file cannot name them.
 */
export type ClusterFolders = (cluster: ClusterNode, model: ClusterModel, topics: TopicList | undefined) => KafkaNode[];

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
    private readonly folders: ClusterFolders,
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
      return this.folders(this, this.model, this.takeTopicList());
    })();
  }

  protected override forgetOwnData(): void {
    this.model = undefined;
    this.loadError = undefined;
  }
}

/** What a folder below a cluster shows besides its count, and the row it shows while it holds nothing. */
interface FolderText {
  label: string;
  icon: string;
  tooltip: string;
  empty?: { text: string; tooltip: string };
}

const FOLDERS: Record<'brokers' | 'topics' | 'groups', FolderText> = {
  brokers: { label: 'Brokers', icon: 'server', tooltip: 'The brokers of this cluster, from the metadata every client fetches first.' },
  topics: {
    label: 'Topics',
    icon: 'list-tree',
    tooltip:
      'Topics: named streams of records. Each is split into partitions; each partition is an ordered log where every record gets the next **offset**.',
    empty: {
      text: 'No topics yet',
      tooltip: 'Create one with the + button, or start the local stack, which creates `sensor-data` and `sensor-alerts`.',
    },
  },
  groups: {
    label: 'Consumer groups',
    icon: 'organization',
    tooltip: 'Consumer groups: readers that share a topic’s partitions and remember how far they got (their committed offsets).',
    empty: {
      text: 'No consumer groups yet',
      tooltip: 'A group appears once a consumer joins or commits offsets — the Flink job’s group after its first checkpoint.',
    },
  },
};

/** A folder below a cluster, open by default, with its count once known. */
export abstract class FolderNode extends KafkaNode {
  constructor(
    readonly clusterNode: ClusterNode,
    private readonly kind: keyof typeof FOLDERS,
  ) {
    super(clusterNode, `${clusterNode.id}/${kind}`);
  }

  abstract readonly count: number | undefined;

  toTreeItem(): vscode.TreeItem {
    const folder = FOLDERS[this.kind];
    const item = new vscode.TreeItem(folder.label, vscode.TreeItemCollapsibleState.Expanded);
    item.id = this.id;
    if (this.count !== undefined) item.description = String(this.count);
    item.iconPath = new vscode.ThemeIcon(folder.icon);
    item.contextValue = contextValueOf('folder', this.kind);
    item.tooltip = markdown(folder.tooltip);
    return item;
  }

  /** The children of a folder that holds nothing: a row that says so and how to change it. */
  protected emptyChildren(): KafkaNode[] {
    const empty = FOLDERS[this.kind].empty;
    return empty ? [new InfoNode(this, empty.text, empty.tooltip)] : [];
  }
}

/** A row that draws one model (a broker, topic, partition, group); a reload hands it the fresh model. */
export abstract class ModelNode<M> extends KafkaNode {
  constructor(
    parent: KafkaNode,
    id: string,
    public model: M,
  ) {
    super(parent, id);
  }

  protected override adopt(fresh: this): void {
    this.model = fresh.model;
  }
}
