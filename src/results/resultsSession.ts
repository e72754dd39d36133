// The results view's state on the extension host: the store over the folder shown, its timers (refresh, poll, background indexing, release) and the answers to the webview's messages; no vscode.
import { existsSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { errorMessage } from '../shared/errors';
import { CacheUnavailableError } from './errors';
import { firstScreen, PAGE_SIZE, rememberChartSize } from './firstScreen';
import { hasResultFiles } from './outputScan';
import { parseWebviewMessage, type HostToWebview, type InitialData, type RequestChannel, type WebviewToHost } from './resultsProtocol';
import { ResultsStore, type ResultsStoreOptions } from './resultsStore';
import { systemClock, type Clock, type ResultsSessionHost, type ResultsView, type SessionStore } from './resultsSessionHost';

/** Watcher events arrive in bursts (a Flink commit renames several part files): one refresh per burst. */
const DEBOUNCE_MS = 300;
/**
 * A directory walk while the panel is visible, for what the watcher misses: a folder that did not exist when
 * the watcher started, watchers excluded by files.watcherExclude, remote and network file systems.
 */
const POLL_MS = 1500;
/**
 * How long the loaded data outlives a closed panel: reopening within it shows the results without reading every
 * file again (a million rows take seconds to load). Afterwards DuckDB's memory is given back.
 */
const KEEP_AFTER_CLOSE_MS = 5 * 60_000;
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

/** The reply to a request for a page, a chart or a query result. */
async function resultOf(
  store: SessionStore,
  message: Extract<WebviewToHost, { type: 'page' | 'chart' | 'query' }>,
): Promise<HostToWebview> {
  const requestId = message.requestId;
  switch (message.type) {
    case 'page':
      return { type: 'pageResult', requestId, result: await store.page(message.request) };
    case 'chart':
      return { type: 'chartResult', requestId, result: await store.chart(message.request) };
    case 'query':
      return { type: 'queryResult', requestId, result: await store.query(message.request) };
  }
}

/**
 * The results view's host side without the webview panel itself: one store over the folder shown while a view
 * needs it, a debounced watcher plus a light poll that bring newly committed files in within about a second, and
 * a cache file kept up to date in the background while no view is visible.
 */
export class ResultsSession {
  private view?: ResultsView;
  private folder?: string;
  private store?: Promise<SessionStore>;
  private watcher?: { dispose(): void };
  /** The folder the watcher is on: the output folder, from activation on, whether the view is open or not. */
  private watchedFolder?: string;
  private pollTimer?: unknown;
  private debounceTimer?: unknown;
  private indexTimer?: unknown;
  private indexing = false;
  private disposed = false;
  private releaseTimer?: unknown;
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
  private readonly clock: Clock;
  private readonly openStoreOf: (folder: string, options: ResultsStoreOptions) => Promise<SessionStore>;

  constructor(private readonly host: ResultsSessionHost) {
    this.clock = host.clock ?? systemClock;
    this.openStoreOf = host.openStore ?? ((folder, options) => ResultsStore.open(folder, options));
  }

  /** The folder the view shows: the output folder, or the run chosen with "Show Another Run…". */
  folderShown(): string {
    return this.chosenRun ?? resolve(this.host.outputFolder());
  }

  /** The run shown instead of the output folder, if any. */
  runShown(): string | undefined {
    return this.chosenRun;
  }

  /** Shows a run's folder (undefined: the output folder again). */
  chooseRun(folder: string | undefined): void {
    this.chosenRun = folder && resolve(folder) !== resolve(this.host.outputFolder()) ? resolve(folder) : undefined;
    this.folderMayHaveChanged();
  }

  /** Starts watching the output folder and indexes it soon (background indexing). */
  start(): void {
    this.watch(this.folderShown());
    // At once: the extension activates once the window has started (onStartupFinished).
    this.scheduleIndex(0);
  }

  /**
   * A new panel shows `view`: reuses the store kept since the last panel when it is over the same folder, else
   * opens one. Returns what the panel's first screen will hold when that is worth waiting for: when the rows are
   * loaded already or come from the cache file (a first read of the folder may take seconds).
   */
  viewOpened(view: ResultsView): Promise<InitialData | undefined> | undefined {
    const folder = this.folderShown();
    this.view = view;
    this.ready = false;
    this.cancelRelease();
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
    const store = this.store;
    if (!quick || !store) return undefined;
    return firstScreen(store, { reused, memory: this.host.memory, log: this.host.log, isCurrent: () => store === this.store });
  }

  /** The open panel was brought to the front: it shows the folder it should. */
  viewRevealed(): void {
    const folder = this.folderShown();
    if (folder !== this.folder) this.useFolder(folder);
  }

  /** The panel was hidden or shown. */
  viewStateChanged(): void {
    // A hidden panel's webview is destroyed (no retainContextWhenHidden); it sends `ready` again when shown.
    if (!this.view?.visible) this.ready = false;
    this.updatePolling();
  }

  viewClosed(): void {
    this.view = undefined;
    this.ready = false;
    this.clock.clearInterval(this.pollTimer);
    this.pollTimer = undefined;
    this.clock.clearTimeout(this.debounceTimer);
    this.scheduleRelease(KEEP_AFTER_CLOSE_MS, 'the view has been closed for a while');
  }

  private cacheFileOf(folder: string): string | undefined {
    return this.host.cacheDir ? ResultsStore.cacheFileFor(this.host.cacheDir, folder) : undefined;
  }

  /** The output folder setting changed: follow it (the open panel reads the new folder; a closed one indexes it). */
  folderMayHaveChanged(): void {
    const folder = this.folderShown();
    if (this.view) {
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
    this.clock.clearTimeout(this.indexTimer);
    this.indexTimer = this.clock.setTimeout(() => void this.indexNow(), delayMs);
  }

  /**
   * Brings the cache file up to date while nobody looks: loads the files committed since it was last written, so
   * the next "Open Results" (in this window or a new one) reads rows from DuckDB instead of parsing every file.
   * Nothing happens while the view is visible (it refreshes itself), without a cache folder, with the setting off,
   * for a folder without result files, or when another window holds the cache.
   */
  private async indexNow(): Promise<void> {
    if (this.view?.visible || !this.host.cacheDir || !(this.host.indexInBackground?.() ?? true)) return;
    if (this.indexing) {
      this.scheduleIndex(INDEX_DEBOUNCE_MS);
      return;
    }
    this.indexing = true;
    const folder = this.folderShown();
    try {
      if (!(await hasResultFiles(folder)) || this.disposed || this.view?.visible) return;
      const started = performance.now();
      const opened = !this.store || this.storeFailed || folder !== this.folder;
      if (opened) this.openStore(folder, { cacheOnly: true });
      const store = this.store;
      if (!store) return;
      if (opened) {
        await this.host.showIndexing(store);
        this.host.log(`results: indexed ${folder} in the background in ${Math.round(performance.now() - started)} ms`);
      } else {
        const result = await (await store).refresh();
        if (result.changed)
          this.host.log(
            `results: indexed ${result.added} new, ${result.rewritten} rewritten, ${result.removed} removed file(s) in the background in ${Math.round(performance.now() - started)} ms`,
          );
      }
    } catch (error) {
      if (error instanceof CacheUnavailableError) this.host.log(`results: not indexing in the background: ${error.message}`);
      else this.host.log(`results: background indexing of ${folder} failed: ${errorMessage(error)}`);
    } finally {
      this.indexing = false;
      if (!this.view) this.scheduleRelease(KEEP_AFTER_INDEX_MS);
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
    this.host.log(`results: reading ${folder}`);
    const store = this.openStoreOf(folder, { log: this.host.log, cacheFile: this.cacheFileOf(folder), cacheOnly: options.cacheOnly });
    store.catch((error: unknown) => {
      if (this.store !== store) return;
      this.storeFailed = true;
      // A panel opened while an indexing store waited for a cache another window holds: read into memory for it.
      if (error instanceof CacheUnavailableError) {
        if (this.view) this.useFolder(folder);
      } else this.host.log(`results: could not open ${folder}: ${errorMessage(error)}`);
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
      this.watcher = this.host.watchFolder(folder, () => this.filesChanged());
    } catch (error) {
      this.host.log(`results: no file watcher for ${folder} (${errorMessage(error)}); polling only`);
    }
  }

  /** A watcher event: the visible view refreshes at once (debounced); otherwise the cache catches up later. */
  private filesChanged(): void {
    if (this.ready) this.scheduleRefresh();
    else this.scheduleIndex(INDEX_DEBOUNCE_MS);
  }

  private unwatch(): void {
    this.clock.clearTimeout(this.debounceTimer);
    this.watchedFolder = undefined;
    this.watcher?.dispose();
    this.watcher = undefined;
  }

  private cancelRelease(): void {
    this.clock.clearTimeout(this.releaseTimer);
    this.releaseTimer = undefined;
  }

  /** Closes the store `delayMs` from now unless a panel uses it then (a later release already set stands). */
  private scheduleRelease(delayMs: number, why = 'nothing has used it for a while'): void {
    const at = this.clock.now() + delayMs;
    if (this.releaseTimer && this.releaseAt >= at) return;
    this.cancelRelease();
    this.releaseAt = at;
    this.releaseTimer = this.clock.setTimeout(() => {
      this.releaseTimer = undefined;
      if (this.view || !this.store) return;
      this.host.log(`results: released the loaded data (${why})`);
      this.closeStore();
      this.folder = undefined;
    }, delayMs);
  }

  private closeStore(): void {
    this.cancelRelease();
    this.clock.clearTimeout(this.debounceTimer);
    const old = this.store;
    this.store = undefined;
    old?.then(
      (s) => s.close(),
      () => undefined,
    );
  }

  private updatePolling(): void {
    const visible = this.view?.visible ?? false;
    if (visible && !this.pollTimer) this.pollTimer = this.clock.setInterval(() => void this.refreshNow('filesChanged'), POLL_MS);
    else if (!visible && this.pollTimer) {
      this.clock.clearInterval(this.pollTimer);
      this.pollTimer = undefined;
    }
  }

  private post(message: HostToWebview): void {
    this.view?.post(message);
  }

  private scheduleRefresh(): void {
    this.clock.clearTimeout(this.debounceTimer);
    this.debounceTimer = this.clock.setTimeout(() => void this.refreshNow('filesChanged'), DEBOUNCE_MS);
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
    return `Could not read the output folder ${this.folder ?? ''}: ${errorMessage(error)}`;
  }

  private async answer(channel: RequestChannel, requestId: number, work: (store: SessionStore) => Promise<HostToWebview>): Promise<void> {
    const started = performance.now();
    try {
      if (!this.store) throw new Error('The results are not open.');
      let store: SessionStore;
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
      this.post({ type: 'error', requestId, channel, message: errorMessage(error) });
    }
  }

  /** Answers one message of the webview (anything malformed is logged and dropped). */
  async handleMessage(raw: unknown): Promise<void> {
    const message: WebviewToHost | undefined = parseWebviewMessage(raw);
    if (!message) {
      this.host.log('results: ignored a malformed message from the webview');
      return;
    }
    switch (message.type) {
      case 'ready':
        this.host.log('results: the webview is ready');
        this.ready = true;
        this.initSent = this.sendInit();
        await this.initSent;
        break;
      case 'refresh':
        await this.refreshNow('refresh');
        break;
      case 'page':
      case 'chart':
      case 'query':
        if (message.type === 'chart') rememberChartSize(this.host.memory, message.request);
        await this.answer(message.type, message.requestId, (s) => resultOf(s, message));
        break;
      case 'export':
        await this.answer('export', message.requestId, async (s) => ({
          type: 'exported',
          requestId: message.requestId,
          ...(await this.host.exportRows(s, message.format, message.source)),
        }));
        break;
      case 'openFile':
        await this.openFile(message.file);
        break;
    }
  }

  /** Opens a file named in a message, only if it lies inside the folder shown. */
  private async openFile(file: string): Promise<void> {
    if (!this.folder || isAbsolute(file)) return;
    const full = resolve(this.folder, file);
    const rel = relative(this.folder, full);
    if (rel.startsWith('..') || isAbsolute(rel)) return;
    await this.host.openFile(full, file);
  }

  dispose(): void {
    this.disposed = true;
    this.viewClosed();
    this.clock.clearTimeout(this.indexTimer);
    this.unwatch();
    this.closeStore();
    this.folder = undefined;
  }
}
