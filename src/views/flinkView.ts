// The Flink view's tree provider: polls Flink's REST API while visible and draws the rows of src/flink/flinkTree.ts.
import { basename } from 'node:path';
import * as vscode from 'vscode';
import { ContextKey, setContextKey } from '../services/contextKeys';
import { Disposable, intervalDisposable, joiningRuns } from '../services/lifecycle';
import type { Log } from '../services/log';
import type { PipelineMonitor } from '../services/pipelineMonitor';
import type { PipelineTerminals } from '../services/terminals';
import { workspaceFolder } from '../services/workspace';
import { CommittedFileIndex } from '../flink/committedFiles';
import { resumableSavepoint } from '../flink/flinkSavepoints';
import { errorMessage } from '../shared/errors';
import { localRestPort } from '../flink/flinkJobs';
import { buildFlinkTree, offerSavepoint, type FlinkTree } from '../flink/flinkTree';
import { flattenRows, type FlinkRow } from '../flink/flinkRows';
import { flinkReaderFor } from '../flink/flinkSnapshot';
import type { FlinkSnapshot } from '../flink/flinkRestTypes';
import { argOf, PipelineProcess } from '../local/pipelineProcesses';
import { affectsAny, jobRestUrl, pipelineOutputFolder, settings } from '../services/settings';

export const FLINK_VIEW_ID = 'kafkaFlinkLab.flink';

/** What a click on a row does. */
const ROW_COMMAND: Partial<Record<FlinkRow['kind'], (row: FlinkRow) => vscode.Command | undefined>> = {
  unreachable: () => ({ command: 'kafkaFlinkLab.flink.refresh', title: 'Retry' }),
  // With arguments the start asks nothing: the job continues from the savepoint as it ran, with the settings' window.
  savepoint: () => ({ command: 'kafkaFlinkLab.job.start', title: 'Start the Flink job from the savepoint', arguments: [{}] }),
  exception: (row) => ({ command: 'kafkaFlinkLab.flink.showException', title: 'Open the stack trace', arguments: [row] }),
  file: (row) =>
    row.filePath ? { command: 'vscode.open', title: 'Open the file', arguments: [vscode.Uri.file(row.filePath)] } : undefined,
};

/**
 * The Flink view: the cluster, the job with its operators, watermarks, checkpoints and exceptions, from Flink's
 * REST API (src/flink/flinkSnapshot.ts, a few requests per refresh; the rows are built in src/flink/flinkModel.ts).
 * It polls only while it is visible; `getChildren` answers from the last snapshot, so a refresh redraws at once.
 * Three states: one row with a retry when the REST API does not answer, the welcome content (`viewsWelcome`,
 * context key flinkView) when no job runs, the tree otherwise.
 */
export class FlinkView extends Disposable implements vscode.TreeDataProvider<FlinkRow> {
  private readonly _onDidChangeTreeData = this._register(new vscode.EventEmitter<FlinkRow | undefined>());
  readonly onDidChangeTreeData = this._onDidChangeTreeData.event;
  readonly view: vscode.TreeView<FlinkRow>;
  private reader: ReturnType<typeof flinkReaderFor> | undefined;
  private files: CommittedFileIndex | undefined;
  private snapshot: FlinkSnapshot | undefined;
  private tree: FlinkTree | undefined;
  private readonly joinedPoll = joiningRuns(
    () => this.poll(),
    (error) => this.log.error('Flink view', error),
  );
  private timer: vscode.Disposable | undefined;
  /** How long the last refreshes took (REST + tree), for the log and the README's figures. */
  private readonly timings: number[] = [];

  constructor(
    private readonly terminals: PipelineTerminals,
    monitor: PipelineMonitor,
    private readonly log: Log,
  ) {
    super();
    this.view = this._register(vscode.window.createTreeView(FLINK_VIEW_ID, { treeDataProvider: this, showCollapseAll: true }));
    this._register(this.view.onDidChangeVisibility(() => this.schedule()));
    this._register(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (settings.refreshIntervalSeconds.affects(e)) this.schedule();
        if (affectsAny(e, settings.flinkRestUrl, settings.flinkTarget, settings.outputFolder) && this.view.visible) void this.refresh();
      }),
    );
    // The job starting or stopping shows here at once, not at the next tick.
    this._register(terminals.onDidChange((role) => role === 'job' && this.view.visible && void this.refresh()));
    let lastJobState = monitor.snapshot.job.flinkState;
    this._register(
      monitor.onDidChange((s) => {
        if (s.job.flinkState !== lastJobState && this.view.visible) void this.refresh();
        lastJobState = s.job.flinkState;
      }),
    );
    this._register({ dispose: () => this.timer?.dispose() });
    this.schedule();
  }

  /** Polls every refresh interval while the view is visible, and once when it becomes visible; nothing while hidden. */
  private schedule(): void {
    this.timer?.dispose();
    this.timer = undefined;
    if (!this.view.visible) return;
    void this.refresh();
    const seconds = settings.refreshIntervalSeconds.value;
    if (seconds > 0) this.timer = intervalDisposable(() => void this.refresh(), Math.max(1, seconds) * 1000);
  }

  get currentSnapshot(): FlinkSnapshot | undefined {
    return this.snapshot;
  }

  /** The row with this id in the current tree. */
  row(id: string): FlinkRow | undefined {
    return flattenRows(this.tree?.rows ?? []).find((r) => r.id === id);
  }

  /** One refresh now (joins the one in flight). Never rejects. */
  refresh(): Promise<void> {
    return this.joinedPoll();
  }

  private async poll(): Promise<void> {
    const restUrl = jobRestUrl();
    const reader = flinkReaderFor(restUrl);
    if (this.reader !== reader) {
      this.reader = reader;
      this.snapshot = undefined;
    }
    const first = this.tree === undefined;
    if (first) this.view.message = `Reading Flink's REST API at ${restUrl}…`;
    const started = performance.now();
    const folder = workspaceFolder();
    const jobProcess = folder ? new PipelineProcess(folder, 'job') : undefined;
    const jobRecord = jobProcess?.record();
    const snapshot = await reader.read(jobProcess?.flinkJobId(jobRecord));
    const localRest = localRestPort(restUrl) !== undefined;
    const terminalPhase = this.terminals.phase('job');
    const localJobProcess = jobRecord !== undefined || terminalPhase === 'running' || terminalPhase === 'starting';
    let files;
    const acks = (snapshot.job?.checkpoints?.history ?? []).map((c) => c.latestAckTimestamp).filter((t): t is number => t !== undefined);
    // Output files are on this machine only when the JobManager is: a remote cluster writes where it runs.
    if (localRest && acks.length > 0) {
      const output = this.outputFolder(jobRecord?.args);
      if (this.files?.outputFolder !== output) this.files = new CommittedFileIndex(output);
      files = await this.files.filesSince(Math.min(...acks)).catch((error) => {
        this.log.info(`Flink view: cannot list ${output}: ${errorMessage(error)}`);
        return undefined;
      });
    }
    const tree = buildFlinkTree(snapshot, { previous: this.snapshot, files, localRest, localJobProcess });
    const ms = performance.now() - started;
    this.timings.push(ms);
    if (this.timings.length >= 20) {
      const sorted = [...this.timings].sort((a, b) => a - b);
      this.log.info(
        `Flink view: ${this.timings.length} refreshes, median ${sorted[sorted.length >> 1].toFixed(0)} ms, max ${sorted[sorted.length - 1].toFixed(0)} ms (${snapshot.requests} requests, ${snapshot.job?.detail.vertices.length ?? 0} tasks).`,
      );
      this.timings.length = 0;
    }
    this.snapshot = snapshot;
    this.view.message = undefined;
    // Stopped with a savepoint: the welcome (or a row, on a session cluster) offers to start from it, the description names it.
    const { tree: offered, savepoint } = offerSavepoint(
      tree,
      snapshot,
      () => (folder ? resumableSavepoint(folder, settings.topic.value) : undefined),
      localJobProcess,
    );
    this.tree = offered;
    await setContextKey(ContextKey.FlinkView, offered.state);
    this.view.description = savepoint
      ? `stopped with ${basename(savepoint.path)} (${new Date(savepoint.at).toLocaleTimeString()})`
      : snapshot.reachable
        ? snapshot.job
          ? snapshot.job.detail.state
          : 'no job'
        : 'not reachable';
    this._onDidChangeTreeData.fire(undefined);
  }

  /** The output folder of the job this workspace started (its `--output`), else the setting. */
  private outputFolder(jobArgs: string[] | undefined): string {
    return (jobArgs && argOf(jobArgs, '--output')) || pipelineOutputFolder();
  }

  getChildren(row?: FlinkRow): FlinkRow[] {
    if (!row) return this.tree?.rows ?? [];
    return row.children ?? [];
  }

  getTreeItem(row: FlinkRow): vscode.TreeItem {
    const state = row.children?.length
      ? row.expanded
        ? vscode.TreeItemCollapsibleState.Expanded
        : vscode.TreeItemCollapsibleState.Collapsed
      : vscode.TreeItemCollapsibleState.None;
    const item = new vscode.TreeItem(row.label, state);
    item.id = row.id;
    item.description = row.description;
    if (row.icon) item.iconPath = new vscode.ThemeIcon(row.icon[0], row.icon[1] ? new vscode.ThemeColor(row.icon[1]) : undefined);
    item.contextValue = ['flink', row.kind, ...(row.flags ?? [])].join('-');
    if (row.tooltip) {
      // Untrusted, no HTML: every value from Flink in it is escaped by the model; theme icons are the model's own.
      const md = new vscode.MarkdownString(row.tooltip, true);
      md.isTrusted = false;
      md.supportHtml = false;
      item.tooltip = md;
    }
    item.command = ROW_COMMAND[row.kind]?.(row);
    return item;
  }
}
