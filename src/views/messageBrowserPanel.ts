// The message browser panels: one webview panel per topic, its scans (with progress and Cancel), its pages, and exports to a file.
import { createWriteStream, type WriteStream } from 'node:fs';
import * as vscode from 'vscode';
import type { KafkaAdminClient } from '../kafka/kafkaAdmin';
import type { PartitionOffsets } from '../kafka/kafkaModels';
import { FilterError } from '../kafka/scanFilter';
import { scanTopic } from '../kafka/topicScan';
import type { ScanCursor, ScanPage, ScanProgress, ScanRecord, ScanRequest } from '../kafka/topicScanTypes';
import { Disposable } from '../services/lifecycle';
import type { Log } from '../services/log';
import { errorMessage, UserError } from '../shared/errors';
import { csvHeader, csvLines, exportJsonLine, mergeHistograms, rowsWithGaps } from './messageBrowserModel';
import {
  buildScanRequest,
  defaultForm,
  parseBrowserMessage,
  type BrowserForm,
  type ExportFormat,
  type HostToBrowser,
  type MergedHistogram,
} from './messageBrowserProtocol';
import { webviewPage } from './webviewPage';

const VIEW_TYPE = 'kafkaFlinkLab.messageBrowser';
/** Progress reaches the page at most this often: a fast scan reports per batch, the page need not draw each. */
const PROGRESS_MS = 200;
/** A live tail's page waits this long for new records before it shows what came. */
const TAIL_WAIT_MS = 5_000;
/** An export reads the whole range in pages of this many matching records; only one page is in memory. */
const EXPORT_PAGE = 2_000;

/** What opens or fills a panel: the form to show (or the defaults with these partitions chosen), and whether to run it. */
export interface BrowserOpening {
  form?: BrowserForm;
  preselect?: number[];
  note?: string;
  run?: boolean;
}

/** One topic's browser: the scan it shows, page after page. */
class BrowserPanel {
  private partitions: PartitionOffsets[] = [];
  private request: ScanRequest | undefined;
  private cursor: ScanCursor | undefined;
  private histogram: MergedHistogram | undefined;
  private pageNumber = 0;
  private onScreen: ScanRecord[] = [];
  /** The scan in flight; a newer Run or Next aborts it and its answer is dropped. */
  private scan: AbortController | undefined;
  private ready = false;
  private pendingInit: BrowserOpening | undefined;

  constructor(
    readonly panel: vscode.WebviewPanel,
    readonly topic: string,
    private readonly client: KafkaAdminClient,
    private readonly log: Log,
    opening: BrowserOpening,
  ) {
    this.pendingInit = opening;
    panel.webview.onDidReceiveMessage((raw: unknown) => void this.onMessage(raw));
  }

  /** Fills the form again (a second Browse or a link) and runs it when asked. */
  open(opening: BrowserOpening): void {
    this.panel.reveal(undefined, false);
    this.pendingInit = opening;
    if (this.ready) void this.sendInit();
  }

  dispose(): void {
    this.scan?.abort();
  }

  private post(message: HostToBrowser): void {
    void this.panel.webview.postMessage(message);
  }

  private async sendInit(): Promise<void> {
    const opening = this.pendingInit ?? {};
    this.pendingInit = undefined;
    try {
      this.partitions = await this.client.fetchPartitionOffsets(this.topic);
    } catch (error) {
      this.post({ type: 'failed', field: 'scan', message: `Cannot read the partitions of ${this.topic}: ${errorMessage(error)}` });
      return;
    }
    const known = this.partitions.map((p) => p.partition);
    const form = opening.form ?? defaultForm(known, opening.preselect);
    this.post({ type: 'init', topic: this.topic, partitions: this.partitions, form, note: opening.note, run: opening.run ?? false });
  }

  private async onMessage(raw: unknown): Promise<void> {
    const message = parseBrowserMessage(raw);
    if (!message) {
      this.log.info(`Message browser ${this.topic}: ignored a malformed message from the page.`);
      return;
    }
    switch (message.type) {
      case 'ready':
        this.ready = true;
        await this.sendInit();
        break;
      case 'run':
        await this.run(message.form);
        break;
      case 'next':
        if (this.request && this.cursor) await this.nextPage();
        break;
      case 'cancel':
        this.scan?.abort();
        break;
      case 'export':
        await this.export(message.format).catch((error) => {
          this.log.error(`Message browser ${this.topic}: export`, error);
          this.post({ type: 'exportStatus', text: `Export failed: ${errorMessage(error)}` });
        });
        break;
    }
  }

  private async run(form: BrowserForm): Promise<void> {
    this.scan?.abort();
    const built = buildScanRequest(
      this.topic,
      form,
      this.partitions.map((p) => p.partition),
    );
    if (built.error !== undefined) {
      this.post({ type: 'failed', field: built.field, message: built.error });
      return;
    }
    this.request = built.request;
    this.cursor = undefined;
    this.histogram = undefined;
    this.pageNumber = 0;
    await this.nextPage();
  }

  private async nextPage(): Promise<void> {
    const request = this.request!;
    this.scan?.abort();
    const controller = new AbortController();
    this.scan = controller;
    const pageNumber = this.pageNumber + 1;
    this.post({ type: 'scanning', pageNumber });
    let lastProgress = 0;
    const onProgress = (progress: ScanProgress) => {
      const now = Date.now();
      if (now - lastProgress < PROGRESS_MS || controller !== this.scan) return;
      lastProgress = now;
      this.post({ type: 'progress', progress });
    };
    const started = performance.now();
    let page: ScanPage;
    try {
      page = await scanTopic(this.client, request, {
        cursor: this.cursor,
        onProgress,
        signal: controller.signal,
        tailWaitMs: request.start.kind === 'tail' ? TAIL_WAIT_MS : undefined,
      });
    } catch (error) {
      if (controller !== this.scan) return;
      this.scan = undefined;
      if (controller.signal.aborted) {
        this.post({ type: 'failed', field: 'scan', message: 'Cancelled.' });
        return;
      }
      // DuckDB's word on a bad expression belongs under the WHERE box.
      const field = error instanceof FilterError ? 'where' : 'scan';
      this.log.info(`Message browser ${this.topic}: ${errorMessage(error)}`);
      this.post({ type: 'failed', field, message: errorMessage(error) });
      return;
    }
    if (controller !== this.scan) return;
    this.scan = undefined;
    const elapsedMs = performance.now() - started;
    this.pageNumber = pageNumber;
    this.cursor = page.cursor;
    this.histogram = mergeHistograms(this.histogram, page.histogram);
    this.onScreen = page.records;
    this.log.info(
      `Message browser ${this.topic}: page ${pageNumber}: ${page.records.length} matching of ${page.progress.scannedMessages} scanned in ${Math.round(elapsedMs)} ms${page.cancelled ? ' (cancelled)' : ''}.`,
    );
    this.post({
      type: 'page',
      pageNumber,
      rows: rowsWithGaps(page.records, page.gaps),
      progress: page.progress,
      histogram: this.histogram,
      hasNext: page.cursor !== undefined,
      cancelled: page.cancelled,
      ...(page.stopped ? { stopped: page.stopped } : {}),
      ...(page.gapsOmitted ? { gapsOmitted: page.gapsOmitted } : {}),
      elapsedMs,
      tail: request.start.kind === 'tail',
    });
  }

  /**
   * Every matching record of the scan's range goes to the file, read again page by page from the same start up to
   * the ends as the export begins (one page in memory at a time). A live tail has no end: its records on screen go.
   */
  private async export(format: ExportFormat): Promise<void> {
    const request = this.request;
    if (!request) {
      this.post({ type: 'exportStatus', text: 'Run a scan first: the export writes what it matches.' });
      return;
    }
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    const name = `${this.topic}-messages.${format}`;
    const target = await vscode.window.showSaveDialog({
      title: `Export the matching records of ${this.topic}`,
      defaultUri: folder ? vscode.Uri.joinPath(folder, name) : undefined,
      filters: format === 'csv' ? { CSV: ['csv'] } : { 'JSON lines': ['jsonl'] },
      saveLabel: 'Export',
    });
    if (!target) {
      this.post({ type: 'exportStatus', text: 'Export cancelled.' });
      return;
    }
    if (target.scheme !== 'file') throw new UserError('The export writes to a local file: choose a folder on this machine.');
    const lines = (records: ScanRecord[]) => (format === 'csv' ? csvLines(records) : records.map(exportJsonLine).join(''));
    const out = createWriteStream(target.fsPath);
    let written = 0;
    try {
      if (format === 'csv') await write(out, csvHeader());
      if (request.start.kind === 'tail') {
        await write(out, lines(this.onScreen));
        written = this.onScreen.length;
      } else {
        written = await vscode.window.withProgress(
          { location: vscode.ProgressLocation.Notification, title: `Exporting ${this.topic}`, cancellable: true },
          async (progress, token) => {
            const controller = new AbortController();
            token.onCancellationRequested(() => controller.abort());
            let cursor: ScanCursor | undefined;
            let count = 0;
            do {
              const page = await scanTopic(this.client, { ...request, limit: EXPORT_PAGE }, { cursor, signal: controller.signal });
              await write(out, lines(page.records));
              count += page.records.length;
              progress.report({
                message: `${count.toLocaleString('en-US')} records, ${page.progress.scannedMessages.toLocaleString('en-US')} scanned`,
              });
              cursor = page.cancelled ? undefined : page.cursor;
            } while (cursor && !controller.signal.aborted);
            return count;
          },
        );
      }
    } finally {
      await new Promise<void>((done) => out.end(done));
    }
    this.log.info(`Message browser ${this.topic}: exported ${written} records to ${target.fsPath}.`);
    const text = `Exported ${written.toLocaleString('en-US')} records to ${target.fsPath}${request.start.kind === 'tail' ? ' (the live tail: the records on screen)' : ''}.`;
    this.post({ type: 'exportStatus', text });
    void vscode.window.showInformationMessage(text, 'Open').then((choice) => {
      if (choice) void vscode.commands.executeCommand('vscode.open', target);
    });
  }
}

function write(out: WriteStream, text: string): Promise<void> {
  if (!text) return Promise.resolve();
  return new Promise((done, fail) => out.write(text, (error) => (error ? fail(error) : done())));
}

/** The open browsers, one per cluster and topic: a second Browse of a topic reveals its panel and fills its form. */
export class MessageBrowserPanels extends Disposable {
  private readonly open = new Map<string, BrowserPanel>();

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly log: Log,
  ) {
    super();
    this._register({ dispose: () => [...this.open.values()].forEach((p) => p.panel.dispose()) });
  }

  show(clusterKey: string, client: KafkaAdminClient, topic: string, opening: BrowserOpening): void {
    const id = `${clusterKey}\n${topic}`;
    const existing = this.open.get(id);
    if (existing) {
      existing.open(opening);
      return;
    }
    const root = vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview');
    const panel = vscode.window.createWebviewPanel(
      VIEW_TYPE,
      `Messages: ${topic}`,
      vscode.ViewColumn.Active,
      // Retained: the scan's pages live in the page, and a hidden tab should not lose them.
      { enableScripts: true, localResourceRoots: [root], retainContextWhenHidden: true },
    );
    panel.webview.html = webviewPage(panel.webview, root, {
      title: `Messages: ${topic}`,
      styles: ['messageBrowser.css'],
      script: 'messageBrowser.js',
    });
    const browser = new BrowserPanel(panel, topic, client, this.log, opening);
    this.open.set(id, browser);
    panel.onDidDispose(() => {
      browser.dispose();
      this.open.delete(id);
    });
  }
}
