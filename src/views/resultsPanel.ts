import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, relative, resolve, isAbsolute } from 'node:path';
import * as vscode from 'vscode';
import {
  DEFAULT_SORT,
  initialDataBlock,
  parseWebviewMessage,
  type ChartRequest,
  type ExportFormat,
  type ExportSource,
  type HostToWebview,
  type InitialData,
  type PageRequest,
  type RequestChannel,
  type WebviewToHost,
} from '../results/resultsProtocol';
import { CacheUnavailableError, hasResultFiles, ResultsStore } from '../results';

export const RESULTS_OPEN_COMMAND = 'kafkaFlinkLab.results.open';
const VIEW_TYPE = 'kafkaFlinkLab.results';
/** Watcher events arrive in bursts (a Flink commit renames several part files): one refresh per burst. */
const DEBOUNCE_MS = 300;
/**
 * A directory walk while the panel is visible, for what the watcher misses: a folder that did not exist when
 * the watcher started, watchers excluded by files.watcherExclude, remote and network file systems.
 */
const POLL_MS = 1500;
const PAGE_SIZE = 100;
/**
 * How long the loaded data outlives a closed panel: reopening within it shows the results without reading every
 * file again (a million rows take seconds to load). Afterwards DuckDB's memory is given back.
 */
const KEEP_AFTER_CLOSE_MS = 5 * 60_000;
/** The workspace-state key of the chart size the view asked for last (it depends on the panel's width). */
const CHART_SIZE_KEY = 'kafkaFlinkLab.results.chartSize';
/**
 * How long a new panel's HTML waits for its first screen (summary, page, chart) to be written into it. The
 * webview's frame takes about as long to get ready in any case; data that takes longer (a first load of many
 * files) comes through the messages instead.
 */
const INITIAL_DATA_WAIT_MS = 400;
/**
 * Background indexing (while the view is closed or hidden): the cache file is brought up to date at activation,
 * this long after the output folder setting changes, and this long after the last change of a burst (a Flink
 * commit writes several files, a run many), so that opening the view reads the rows from the cache instead of
 * parsing every file.
 */
const INDEX_AFTER_SETTING_MS = 1000;
const INDEX_DEBOUNCE_MS = 2000;
/** A store opened for indexing, with no view to use it, is closed this long after its last refresh. */
const KEEP_AFTER_INDEX_MS = 60_000;

/** The page a new panel starts with: aggregates, newest window first, no filter (the webview's defaults). */
const FIRST_PAGE: PageRequest = { table: 'aggregates', offset: 0, limit: PAGE_SIZE, sort: DEFAULT_SORT.aggregates, filter: {} };

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

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function nonce(): string {
  return randomBytes(18).toString('base64');
}

/** The panel's HTML: strict CSP, everything from dist/webview, one module script with a nonce, no inline code. */
export function resultsHtml(webview: vscode.Webview, root: vscode.Uri, initial?: InitialData): string {
  const n = nonce();
  const uri = (file: string) => webview.asWebviewUri(vscode.Uri.joinPath(root, file)).toString();
  const csp = [
    `default-src 'none'`,
    `script-src 'nonce-${n}'`,
    `style-src ${webview.cspSource} 'nonce-${n}'`,
    `font-src ${webview.cspSource}`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${uri('codicon.css')}" nonce="${n}" id="vscode-codicon-stylesheet">
<link rel="stylesheet" href="${uri('results.css')}" nonce="${n}">
<title>Pipeline results</title>
</head>
<body>
${initialDataBlock(initial)}<script type="module" src="${uri('results.js')}" nonce="${n}"></script>
</body>
</html>`;
}

/**
 * The results webview: one panel (revealed when open), a ResultsStore over the output folder while it is open,
 * and a debounced watcher plus a light poll that bring newly committed files in within about a second.
 */
class ResultsPanel implements vscode.Disposable {
  private panel?: vscode.WebviewPanel;
  private panelDisposables: vscode.Disposable[] = [];
  private folder?: string;
  private store?: Promise<ResultsStore>;
  private watcherDisposables: vscode.Disposable[] = [];
  /** The folder the watcher is on: the output folder, from activation on, whether the view is open or not. */
  private watchedFolder?: string;
  private pollTimer?: NodeJS.Timeout;
  private debounceTimer?: NodeJS.Timeout;
  private indexTimer?: NodeJS.Timeout;
  private indexing = false;
  private disposed = false;
  private releaseTimer?: NodeJS.Timeout;
  private releaseAt = 0;
  /** The store of `folder` could not be opened: the next show opens it again. */
  private storeFailed = false;
  /** The store's first read has finished. */
  private storeLoaded = false;
  private refreshing = false;
  private refreshAgain = false;
  private ready = false;
  /**
   * The `init` of the webview's latest `ready`. The webview asks for its first page and chart right after `ready`
   * (it knows its own sort, filter and page), so they load with the data instead of one round trip after it;
   * their answers wait for this, so the summary always arrives first.
   */
  private initSent: Promise<void> = Promise.resolve();

  /** A replay's folder (output/runs/<time>) the user chose to see instead of the output folder. */
  private chosenRun?: string;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly deps: ResultsViewDeps,
  ) {}

  /** The folder the view shows: the output folder, or the run chosen with "Show Another Run…". */
  folderShown(): string {
    return this.chosenRun ?? resolve(this.deps.outputFolder());
  }

  /** Shows a run's folder (undefined: the output folder again), in the open panel or a new one. */
  showRun(folder: string | undefined): void {
    this.chosenRun = folder && resolve(folder) !== resolve(this.deps.outputFolder()) ? resolve(folder) : undefined;
    this.folderMayHaveChanged();
    this.show();
    if (this.panel) this.panel.title = this.chosenRun ? `Pipeline Results — run ${basename(this.chosenRun)}` : 'Pipeline Results';
  }

  show(): void {
    const folder = this.folderShown();
    this.deps.log(`results: opening the view`);
    if (this.panel) {
      this.panel.reveal();
      if (folder !== this.folder) this.useFolder(folder);
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
    this.ready = false;
    this.deps.log('results: panel created');
    this.panelDisposables.push(
      panel.webview.onDidReceiveMessage((raw: unknown) => void this.onMessage(raw)),
      panel.onDidChangeViewState(() => {
        // A hidden panel's webview is destroyed (no retainContextWhenHidden); it sends `ready` again when shown.
        if (!panel.visible) this.ready = false;
        this.updatePolling();
      }),
      panel.onDidDispose(() => this.onPanelClosed()),
    );
    this.cancelRelease();
    // The first screen is worth waiting for when the rows are loaded already or come from the cache file; a
    // first read of the folder may take seconds, and the webview would wait for nothing.
    const cacheFile = this.cacheFileOf(folder);
    const reused = this.store !== undefined && !this.storeFailed && folder === this.folder;
    const quick = (reused && this.storeLoaded) || (cacheFile !== undefined && existsSync(cacheFile));
    if (reused) {
      // Reopened soon after closing, or indexed in the background: the loaded data is there (or on its way);
      // sendInit (on `ready`) reads what changed.
      this.watch(folder);
      this.updatePolling();
    } else {
      this.useFolder(folder);
    }
    void this.setHtml(panel, root, quick ? this.firstScreen(reused) : undefined);
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

  /**
   * What a new panel shows first, computed while its webview loads: the summary, the first page in the default
   * order and the chart at the size asked for last time. Their answers also stay in the store's caches. A store
   * kept from an earlier panel reads what changed first; a new one has just read everything.
   */
  private async firstScreen(reused: boolean): Promise<InitialData | undefined> {
    const store = this.store;
    if (!store) return undefined;
    const size = this.deps.memento?.get<Pick<ChartRequest, 'maxPoints' | 'maxSensors'>>(CHART_SIZE_KEY);
    const chart: ChartRequest | undefined = size ? { maxPoints: size.maxPoints, maxSensors: size.maxSensors, filter: {} } : undefined;
    try {
      const s = await store;
      if (store !== this.store) return undefined;
      const started = performance.now();
      if (reused) await s.refresh();
      const ready = await s.prefetch({ page: FIRST_PAGE, chart });
      this.deps.log(`results: the first screen computed in ${Math.round(performance.now() - started)} ms`);
      return {
        summary: ready.summary,
        pageSize: PAGE_SIZE,
        page: ready.page && { request: FIRST_PAGE, result: ready.page },
        chart: ready.chart && chart && { request: chart, result: ready.chart },
      };
    } catch {
      return undefined; // the view's own requests report the error
    }
  }

  /** The chart size of the next new panel's first screen; written only when it changed (a live view asks often). */
  private rememberChartSize({ maxPoints, maxSensors }: ChartRequest): void {
    const memento = this.deps.memento;
    const last = memento?.get<Pick<ChartRequest, 'maxPoints' | 'maxSensors'>>(CHART_SIZE_KEY);
    if (memento && (last?.maxPoints !== maxPoints || last?.maxSensors !== maxSensors))
      void memento.update(CHART_SIZE_KEY, { maxPoints, maxSensors });
  }

  private cacheFileOf(folder: string): string | undefined {
    return this.deps.cacheDir ? ResultsStore.cacheFileFor(this.deps.cacheDir, folder) : undefined;
  }

  /** Starts watching the output folder and indexes it soon (background indexing). */
  start(): void {
    this.watch(this.folderShown());
    // At once: the extension activates once the window has started (onStartupFinished).
    this.scheduleIndex(0);
  }

  /** The output folder setting changed: follow it (the open panel reads the new folder; a closed one indexes it). */
  folderMayHaveChanged(): void {
    const folder = this.folderShown();
    if (this.panel) {
      if (folder !== this.folder) this.useFolder(folder);
      return;
    }
    this.watch(folder);
    if (this.store && folder !== this.folder) {
      this.closeStore();
      this.folder = undefined;
    }
    this.scheduleIndex(INDEX_AFTER_SETTING_MS);
  }

  /** Background indexing was switched on: catch up now. */
  indexingMayHaveChanged(): void {
    this.scheduleIndex(INDEX_AFTER_SETTING_MS);
  }

  private scheduleIndex(delayMs: number): void {
    clearTimeout(this.indexTimer);
    this.indexTimer = setTimeout(() => void this.indexNow(), delayMs);
  }

  /**
   * Brings the cache file up to date while nobody looks: loads the files committed since it was last written, so
   * the next "Open Results" (in this window or a new one) reads rows from DuckDB instead of parsing every file.
   * Nothing happens while the view is visible (it refreshes itself), without a cache folder, with the setting off,
   * for a folder without result files, or when another window holds the cache.
   */
  private async indexNow(): Promise<void> {
    if (this.panel?.visible || !this.deps.cacheDir || !(this.deps.indexInBackground?.() ?? true)) return;
    if (this.indexing) {
      this.scheduleIndex(INDEX_DEBOUNCE_MS);
      return;
    }
    this.indexing = true;
    const folder = this.folderShown();
    try {
      if (!(await hasResultFiles(folder)) || this.disposed || this.panel?.visible) return;
      const started = performance.now();
      const opened = !this.store || this.storeFailed || folder !== this.folder;
      if (opened) this.openStore(folder, { cacheOnly: true });
      const store = this.store;
      if (!store) return;
      if (opened) {
        // The first read of a folder can take seconds: say so in the status bar. Later ones are a few new files.
        await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'Indexing pipeline results' }, () => store);
        this.deps.log(`results: indexed ${folder} in the background in ${Math.round(performance.now() - started)} ms`);
      } else {
        const result = await (await store).refresh();
        if (result.changed)
          this.deps.log(
            `results: indexed ${result.added} new, ${result.rewritten} rewritten, ${result.removed} removed file(s) in the background in ${Math.round(performance.now() - started)} ms`,
          );
      }
    } catch (error) {
      if (error instanceof CacheUnavailableError) this.deps.log(`results: not indexing in the background: ${error.message}`);
      else this.deps.log(`results: background indexing of ${folder} failed: ${errorText(error)}`);
    } finally {
      this.indexing = false;
      if (!this.panel) this.scheduleRelease(KEEP_AFTER_INDEX_MS);
    }
  }

  private useFolder(folder: string): void {
    this.openStore(folder);
    this.watch(folder);
    this.updatePolling();
    if (this.ready) this.initSent = this.sendInit();
  }

  /** Replaces the store with one over `folder` (its rows load in the background; `this.store` is the promise). */
  private openStore(folder: string, options: { cacheOnly?: boolean } = {}): void {
    this.closeStore();
    this.folder = folder;
    this.deps.log(`results: reading ${folder}`);
    const store = ResultsStore.open(folder, { log: this.deps.log, cacheFile: this.cacheFileOf(folder), cacheOnly: options.cacheOnly });
    store.catch((error: unknown) => {
      if (this.store !== store) return;
      this.storeFailed = true;
      // A panel opened while an indexing store waited for a cache another window holds: read into memory for it.
      if (error instanceof CacheUnavailableError) {
        if (this.panel) this.useFolder(folder);
      } else this.deps.log(`results: could not open ${folder}: ${errorText(error)}`);
    });
    store.then(
      () => {
        if (this.store === store) this.storeLoaded = true;
      },
      () => undefined,
    );
    this.storeFailed = false;
    this.storeLoaded = false;
    this.store = store;
  }

  /** Watches `folder` (kept across panels; replaced when the folder changes). */
  private watch(folder: string): void {
    if (folder === this.watchedFolder) return;
    this.unwatch();
    this.watchedFolder = folder;
    try {
      const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(folder), '**/*'));
      this.watcherDisposables.push(
        watcher,
        watcher.onDidCreate(() => this.filesChanged()),
        watcher.onDidChange(() => this.filesChanged()),
        watcher.onDidDelete(() => this.filesChanged()),
      );
    } catch (error) {
      this.deps.log(`results: no file watcher for ${folder} (${errorText(error)}); polling only`);
    }
  }

  /** A watcher event: the visible view refreshes at once (debounced); otherwise the cache catches up later. */
  private filesChanged(): void {
    if (this.ready) this.scheduleRefresh();
    else this.scheduleIndex(INDEX_DEBOUNCE_MS);
  }

  private unwatch(): void {
    clearTimeout(this.debounceTimer);
    this.watchedFolder = undefined;
    for (const d of this.watcherDisposables.splice(0)) d.dispose();
  }

  private cancelRelease(): void {
    clearTimeout(this.releaseTimer);
    this.releaseTimer = undefined;
  }

  /** Closes the store `delayMs` from now unless a panel uses it then (a later release already set stands). */
  private scheduleRelease(delayMs: number, why = 'nothing has used it for a while'): void {
    const at = Date.now() + delayMs;
    if (this.releaseTimer && this.releaseAt >= at) return;
    this.cancelRelease();
    this.releaseAt = at;
    this.releaseTimer = setTimeout(() => {
      this.releaseTimer = undefined;
      if (this.panel || !this.store) return;
      this.deps.log(`results: released the loaded data (${why})`);
      this.closeStore();
      this.folder = undefined;
    }, delayMs);
  }

  private closeStore(): void {
    this.cancelRelease();
    clearTimeout(this.debounceTimer);
    const old = this.store;
    this.store = undefined;
    old?.then(
      (s) => s.close(),
      () => undefined,
    );
  }

  private onPanelClosed(): void {
    this.panel = undefined;
    this.ready = false;
    for (const d of this.panelDisposables.splice(0)) d.dispose();
    clearInterval(this.pollTimer);
    this.pollTimer = undefined;
    clearTimeout(this.debounceTimer);
    this.scheduleRelease(KEEP_AFTER_CLOSE_MS, 'the view has been closed for a while');
  }

  private updatePolling(): void {
    const visible = this.panel?.visible ?? false;
    if (visible && !this.pollTimer) this.pollTimer = setInterval(() => void this.refreshNow('filesChanged'), POLL_MS);
    else if (!visible && this.pollTimer) {
      clearInterval(this.pollTimer);
      this.pollTimer = undefined;
    }
  }

  private post(message: HostToWebview): void {
    void this.panel?.webview.postMessage(message);
  }

  private scheduleRefresh(): void {
    clearTimeout(this.debounceTimer);
    this.debounceTimer = setTimeout(() => void this.refreshNow('filesChanged'), DEBOUNCE_MS);
  }

  /** Loads what changed on disk; tells the webview only when something did (or when the user asked). */
  private async refreshNow(reason: 'filesChanged' | 'refresh'): Promise<void> {
    if (!this.ready || !this.store) return;
    if (this.refreshing) {
      this.refreshAgain = true;
      return;
    }
    this.refreshing = true;
    const store = this.store;
    try {
      const s = await store;
      const result = await s.refresh();
      if ((result.changed || reason === 'refresh') && store === this.store)
        this.post({ type: 'summary', summary: await s.summary(), reason });
    } catch (error) {
      if (store === this.store) this.post({ type: 'error', channel: 'load', message: this.loadError(error) });
    } finally {
      this.refreshing = false;
      if (this.refreshAgain) {
        this.refreshAgain = false;
        void this.refreshNow('filesChanged');
      }
    }
  }

  private async sendInit(): Promise<void> {
    const store = this.store;
    if (!store) return;
    this.post({ type: 'busy', busy: true, label: 'Reading the output folder…' });
    try {
      const s = await store;
      await s.refresh();
      if (store === this.store) this.post({ type: 'init', summary: await s.summary(), pageSize: PAGE_SIZE });
    } catch (error) {
      if (store === this.store) this.post({ type: 'error', channel: 'load', message: this.loadError(error) });
    } finally {
      this.post({ type: 'busy', busy: false });
    }
  }

  private loadError(error: unknown): string {
    return `Could not read the output folder ${this.folder ?? ''}: ${errorText(error)}`;
  }

  private async answer(channel: RequestChannel, requestId: number, work: (store: ResultsStore) => Promise<HostToWebview>): Promise<void> {
    const started = performance.now();
    try {
      if (!this.store) throw new Error('The results are not open.');
      let store: ResultsStore;
      try {
        store = await this.store;
      } catch (error) {
        // The same words as the load error, which the view shows once.
        throw new Error(this.loadError(error));
      }
      const reply = await work(store);
      await this.initSent;
      // The time from the request's arrival to its answer (waits for the store included), for the view's tooltip.
      if ('result' in reply) reply.hostMs = performance.now() - started;
      this.post(reply);
    } catch (error) {
      this.post({ type: 'error', requestId, channel, message: errorText(error) });
    }
  }

  private async onMessage(raw: unknown): Promise<void> {
    const message: WebviewToHost | undefined = parseWebviewMessage(raw);
    if (!message) {
      this.deps.log('results: ignored a malformed message from the webview');
      return;
    }
    switch (message.type) {
      case 'ready':
        this.deps.log('results: the webview is ready');
        this.ready = true;
        this.initSent = this.sendInit();
        await this.initSent;
        break;
      case 'refresh':
        await this.refreshNow('refresh');
        break;
      case 'page':
        await this.answer('page', message.requestId, async (s) => ({
          type: 'pageResult',
          requestId: message.requestId,
          result: await s.page(message.request),
        }));
        break;
      case 'chart':
        this.rememberChartSize(message.request);
        await this.answer('chart', message.requestId, async (s) => ({
          type: 'chartResult',
          requestId: message.requestId,
          result: await s.chart(message.request),
        }));
        break;
      case 'query':
        await this.answer('query', message.requestId, async (s) => ({
          type: 'queryResult',
          requestId: message.requestId,
          result: await s.query(message.request),
        }));
        break;
      case 'export':
        await this.answer('export', message.requestId, (s) => this.exportRows(s, message.requestId, message.format, message.source));
        break;
      case 'openFile':
        await this.openFile(message.file);
        break;
    }
  }

  private async exportRows(store: ResultsStore, requestId: number, format: ExportFormat, source: ExportSource): Promise<HostToWebview> {
    const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-');
    const what = source.kind === 'table' ? source.table.replace('_', '-') : 'query';
    const name = `${what}-${stamp}.${format}`;
    const base = vscode.workspace.workspaceFolders?.[0]?.uri ?? vscode.Uri.file(tmpdir());
    const target = await vscode.window.showSaveDialog({
      defaultUri: vscode.Uri.joinPath(base, name),
      filters: format === 'csv' ? { CSV: ['csv'] } : { JSON: ['json'] },
      saveLabel: 'Export',
    });
    if (!target) return { type: 'exported', requestId, rows: 0, file: '' };
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
    this.deps.log(`results: exported ${rows} rows to ${target.toString()}`);
    void vscode.window
      .showInformationMessage(`Exported ${rows.toLocaleString('en-US')} rows to ${basename(target.path)}.`, 'Open')
      .then((choice) => {
        if (choice) void vscode.commands.executeCommand('vscode.open', target);
      });
    return { type: 'exported', requestId, rows, file: basename(target.path) };
  }

  /** Opens a file named in a message, only if it lies inside the output folder. */
  private async openFile(file: string): Promise<void> {
    if (!this.folder || isAbsolute(file)) return;
    const full = resolve(this.folder, file);
    const rel = relative(this.folder, full);
    if (rel.startsWith('..') || isAbsolute(rel)) return;
    try {
      await vscode.commands.executeCommand('vscode.open', vscode.Uri.file(full), { preview: true });
    } catch (error) {
      void vscode.window.showErrorMessage(`Could not open ${file}: ${errorText(error)}`);
    }
  }

  dispose(): void {
    this.disposed = true;
    this.panel?.dispose();
    this.onPanelClosed();
    clearTimeout(this.indexTimer);
    this.unwatch();
    this.closeStore();
    this.folder = undefined;
  }
}

/** The replays' folders (`<output>/runs/<time>`), newest first. */
function listRuns(output: string): { name: string; folder: string }[] {
  const runs = join(output, 'runs');
  if (!existsSync(runs)) return [];
  return readdirSync(runs, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => ({ name: d.name, folder: join(runs, d.name) }))
    .sort((a, b) => b.name.localeCompare(a.name));
}

/**
 * Registers `kafkaFlinkLab.results.open` and everything behind it. Call once from `activate()`; the returned
 * disposable closes the panel, the watcher and the DuckDB store.
 */
export function registerResultsView(context: vscode.ExtensionContext, deps: ResultsViewDeps): vscode.Disposable {
  const panel = new ResultsPanel(context.extensionUri, deps);
  const command = vscode.commands.registerCommand('kafkaFlinkLab.results.open', () => {
    try {
      panel.show();
    } catch (error) {
      deps.log(`results: ${errorText(error)}`);
      void vscode.window.showErrorMessage(`Could not open the results: ${errorText(error)}`);
    }
  });
  const chooseRun = vscode.commands.registerCommand('kafkaFlinkLab.results.chooseRun', async (folder?: unknown) => {
    try {
      if (typeof folder === 'string') return panel.showRun(folder);
      const output = resolve(deps.outputFolder());
      const runs = listRuns(output);
      const picked = await vscode.window.showQuickPick(
        [
          { label: "The pipeline's output folder", description: output, folder: undefined as string | undefined },
          ...runs.map((r) => ({ label: `Run ${r.name}`, description: `replay into ${r.folder}`, folder: r.folder })),
        ],
        {
          title: 'Pipeline Results: which run?',
          placeHolder: runs.length ? 'A replay writes into output/runs/<time>' : 'No replay yet: "Replay the Pipeline…" makes one',
        },
      );
      if (picked) panel.showRun(picked.folder);
    } catch (error) {
      deps.log(`results: ${errorText(error)}`);
      void vscode.window.showErrorMessage(`Could not open the results: ${errorText(error)}`);
    }
  });
  const settings = vscode.workspace.onDidChangeConfiguration((event) => {
    if (event.affectsConfiguration('kafkaFlinkLab.outputFolder')) panel.folderMayHaveChanged();
    if (event.affectsConfiguration('kafkaFlinkLab.results.indexInBackground')) panel.indexingMayHaveChanged();
  });
  panel.start();
  return vscode.Disposable.from(command, chooseRun, settings, panel);
}
