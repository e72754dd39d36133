// The results webview panel: its HTML and CSP, its lifecycle, and the VS Code side of what the results session asks for (watcher, dialogs, editors).
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import * as vscode from 'vscode';
import { initialDataBlock, type ExportFormat, type ExportSource, type InitialData } from '../results/resultsProtocol';
import { ResultsSession } from '../results/resultsSession';
import type { SessionStore } from '../results/resultsSessionHost';
import { settings } from '../services/settings';
import { errorMessage } from '../shared/errors';
import { browseAtOfLink, parseRecordLink } from './messageBrowserProtocol';
import { webviewPage } from './webviewPage';

const VIEW_TYPE = 'kafkaFlinkLab.results';
/**
 * How long a new panel's HTML waits for its first screen (summary, page, chart) to be written into it. The
 * webview's frame takes about as long to get ready in any case; data that takes longer (a first load of many
 * files) comes through the messages instead.
 */
const INITIAL_DATA_WAIT_MS = 400;

export interface ResultsViewDeps {
  outputFolder: () => string;
  /** Where the loaded rows are kept between sessions (the extension's workspace storage); none: memory only. */
  cacheDir?: string;
  /** Remembers the chart size the view asked for last, across sessions (the workspace state). */
  memento?: vscode.Memento;
  /** Whether to keep the cache file up to date while the view is closed (the results.indexInBackground setting). */
  indexInBackground?: () => boolean;
  log: (line: string) => void;
}

/** The panel's HTML: strict CSP, everything from dist/webview, one module script with a nonce, no inline code. */
export function resultsHtml(webview: vscode.Webview, root: vscode.Uri, initial?: InitialData): string {
  return webviewPage(webview, root, {
    title: 'Pipeline results',
    codicons: true,
    styles: ['results.css'],
    script: 'results.js',
    before: initialDataBlock(initial),
  });
}

/** Watches every file below `folder` (created, changed, deleted). */
function watchFolder(folder: string, onChange: () => void): vscode.Disposable {
  const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(folder), '**/*'));
  return vscode.Disposable.from(watcher, watcher.onDidCreate(onChange), watcher.onDidChange(onChange), watcher.onDidDelete(onChange));
}

/** Asks where to save, writes the rows with a progress notification, and offers to open the file. */
async function exportWithDialog(
  store: SessionStore,
  format: ExportFormat,
  source: ExportSource,
  log: (line: string) => void,
): Promise<{ rows: number; file: string }> {
  const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-');
  const what = source.kind === 'table' ? source.table.replace('_', '-') : 'query';
  const name = `${what}-${stamp}.${format}`;
  const base = vscode.workspace.workspaceFolders?.[0]?.uri ?? vscode.Uri.file(tmpdir());
  const target = await vscode.window.showSaveDialog({
    defaultUri: vscode.Uri.joinPath(base, name),
    filters: format === 'csv' ? { CSV: ['csv'] } : { JSON: ['json'] },
    saveLabel: 'Export',
  });
  if (!target) return { rows: 0, file: '' };
  const { rows } = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Exporting ${what} rows` },
    async (progress) => {
      const report = (n: number) => progress.report({ message: `${n.toLocaleString('en-US')} rows` });
      if (target.scheme === 'file') return store.exportRows(source, format, target.fsPath, report);
      // A remote file system: write locally, then copy through VS Code.
      const dir = await mkdtemp(join(tmpdir(), 'kafka-flink-lab-export-'));
      try {
        const local = join(dir, name);
        const result = await store.exportRows(source, format, local, report);
        await vscode.workspace.fs.writeFile(target, await readFile(local));
        return result;
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  );
  log(`results: exported ${rows} rows to ${target.toString()}`);
  void vscode.window
    .showInformationMessage(`Exported ${rows.toLocaleString('en-US')} rows to ${basename(target.path)}.`, 'Open')
    .then((choice) => {
      if (choice) void vscode.commands.executeCommand('vscode.open', target);
    });
  return { rows, file: basename(target.path) };
}

async function openInEditor(path: string, file: string): Promise<void> {
  try {
    await vscode.commands.executeCommand('vscode.open', vscode.Uri.file(path), { preview: true });
  } catch (error) {
    void vscode.window.showErrorMessage(`Could not open ${file}: ${errorMessage(error)}`);
  }
}

/**
 * The results webview: one panel (revealed when open) whose messages go to a ResultsSession, which holds the
 * store, the watcher and the timers, and outlives the panel.
 */
export class ResultsPanel implements vscode.Disposable {
  private panel?: vscode.WebviewPanel;
  private panelDisposables: vscode.Disposable[] = [];
  private readonly session: ResultsSession;
  private readonly settingsListener: vscode.Disposable;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly deps: ResultsViewDeps,
  ) {
    this.session = new ResultsSession({
      outputFolder: deps.outputFolder,
      cacheDir: deps.cacheDir,
      memory: deps.memento,
      indexInBackground: deps.indexInBackground,
      log: deps.log,
      watchFolder,
      // The first read of a folder can take seconds: say so in the status bar. Later ones are a few new files.
      showIndexing: (work) =>
        vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'Indexing pipeline results' }, () => work),
      exportRows: (store, format, source) => exportWithDialog(store, format, source, deps.log),
      openFile: openInEditor,
    });
    this.settingsListener = vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration('kafkaFlinkLab.outputFolder')) this.session.folderMayHaveChanged();
      if (event.affectsConfiguration('kafkaFlinkLab.results.indexInBackground')) this.session.indexingMayHaveChanged();
    });
  }

  /** Starts watching the output folder and indexes it soon (background indexing). Call once from `activate()`. */
  start(): void {
    this.session.start();
  }

  /** The pipeline's output folder, where the replays' folders are (the view may show one of them instead). */
  outputFolder(): string {
    return resolve(this.deps.outputFolder());
  }

  /** Shows a run's folder (undefined: the output folder again), in the open panel or a new one. */
  showRun(folder: string | undefined): void {
    this.session.chooseRun(folder);
    this.show();
    const run = this.session.runShown();
    if (this.panel) this.panel.title = run ? `Pipeline Results — run ${basename(run)}` : 'Pipeline Results';
  }

  show(): void {
    this.deps.log(`results: opening the view`);
    if (this.panel) {
      this.panel.reveal();
      this.session.viewRevealed();
      return;
    }
    const root = vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview');
    // No retainContextWhenHidden: the webview keeps its sort, filter, tab and scroll in its own state and asks
    // for its page again on `ready`, so a hidden panel costs no renderer memory.
    const panel = vscode.window.createWebviewPanel(VIEW_TYPE, 'Pipeline Results', vscode.ViewColumn.Active, {
      enableScripts: true,
      localResourceRoots: [root],
    });
    this.panel = panel;
    this.deps.log('results: panel created');
    this.panelDisposables.push(
      panel.webview.onDidReceiveMessage((raw: unknown) => {
        // A row's link to the message browser is the editor's business, not the results session's.
        const link = parseRecordLink(raw);
        if (link) void vscode.commands.executeCommand('kafkaFlinkLab.messages.browseAt', browseAtOfLink(link, settings.topic.value));
        else void this.session.handleMessage(raw);
      }),
      panel.onDidChangeViewState(() => this.session.viewStateChanged()),
      panel.onDidDispose(() => this.onPanelClosed()),
    );
    const firstScreen = this.session.viewOpened({
      get visible() {
        return panel.visible;
      },
      post: (message) => void panel.webview.postMessage(message),
    });
    void this.setHtml(panel, root, firstScreen);
  }

  /** Writes the panel's HTML, with its first screen in it when that is ready within INITIAL_DATA_WAIT_MS. */
  private async setHtml(
    panel: vscode.WebviewPanel,
    root: vscode.Uri,
    firstScreen: Promise<InitialData | undefined> | undefined,
  ): Promise<void> {
    if (!firstScreen) {
      panel.webview.html = resultsHtml(panel.webview, root);
      return;
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<undefined>((done) => {
      timer = setTimeout(() => done(undefined), INITIAL_DATA_WAIT_MS);
    });
    const initial = await Promise.race([firstScreen, timeout]);
    clearTimeout(timer);
    if (this.panel !== panel) return; // closed meanwhile
    panel.webview.html = resultsHtml(panel.webview, root, initial);
    this.deps.log(`results: ${initial ? 'the first screen is in the page' : 'the first screen follows the page (still loading)'}`);
  }

  private onPanelClosed(): void {
    this.panel = undefined;
    for (const d of this.panelDisposables.splice(0)) d.dispose();
    this.session.viewClosed();
  }

  /** Closes the panel, the watcher and the DuckDB store. */
  dispose(): void {
    this.settingsListener.dispose();
    this.panel?.dispose();
    this.onPanelClosed();
    this.session.dispose();
  }
}
