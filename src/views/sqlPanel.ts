// The Flink SQL results panels: one webview panel per statement run, its updates at most four times a second, Stop, the changelog switch, export.
import { writeFile } from 'node:fs/promises';
import * as vscode from 'vscode';
import type { PanelRequest, PanelUpdate } from '../flink/sqlPanelProtocol';
import { PanelUpdates } from '../flink/sqlPanelUpdates';
import type { ResultView, SqlRun } from '../flink/sqlRun';
import { Disposable } from '../services/lifecycle';
import type { Log } from '../services/log';
import { toCsv } from '../shared/csv';
import { webviewPage } from './webviewPage';

const VIEW_TYPE = 'kafkaFlinkLab.sqlResults';
/** Rows drawn in the panel; the kept rows (the table's and the log's cap) all go into an export. */
const SHOWN_ROWS = 500;
const UPDATE_MS = 250;

/** Opens one results panel per run; closing a panel stops its run (which cancels the statement's Flink job). */
export class SqlResultsPanels extends Disposable {
  private readonly open = new Set<vscode.WebviewPanel>();

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly log: Log,
  ) {
    super();
    this._register({ dispose: () => [...this.open].forEach((p) => p.dispose()) });
  }

  /** How many panels are open (a test hook's view of them). */
  get count(): number {
    return this.open.size;
  }

  /** A panel for `run`; `reveal` brings it to the front, and answers false once the panel is closed. */
  show(run: SqlRun, title: string, details: () => string | undefined): { changed: () => void; reveal: () => boolean } {
    const root = vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview');
    const panel = vscode.window.createWebviewPanel(
      VIEW_TYPE,
      title,
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      { enableScripts: true, localResourceRoots: [root], retainContextWhenHidden: true },
    );
    panel.webview.html = webviewPage(panel.webview, root, { title: 'Flink SQL results', styles: ['sqlPanel.css'], script: 'sqlPanel.js' });
    this.open.add(panel);
    let view: ResultView = 'table';
    let closed = false;
    const updates = new PanelUpdates(() => {
      const update: PanelUpdate = {
        type: 'update',
        statement: run.statement.text,
        view,
        limit: SHOWN_ROWS,
        snapshot: run.snapshot(view, SHOWN_ROWS),
      };
      void panel.webview.postMessage(update);
    }, UPDATE_MS);
    panel.webview.onDidReceiveMessage(async (message: PanelRequest) => {
      switch (message.type) {
        case 'ready':
          updates.setReady();
          break;
        case 'stop':
          run.stop();
          break;
        case 'view':
          view = message.view === 'changelog' ? 'changelog' : 'table';
          updates.flush();
          break;
        case 'export':
          await this.export(run, view, message.format === 'json' ? 'json' : 'csv');
          break;
        case 'flinkView':
          await vscode.commands.executeCommand('kafkaFlinkLab.flink.focus');
          break;
        case 'details': {
          const text = details();
          if (text) await vscode.window.showTextDocument(await vscode.workspace.openTextDocument({ content: text, language: 'log' }));
          break;
        }
      }
    });
    panel.onDidDispose(() => {
      closed = true;
      updates.dispose();
      this.open.delete(panel);
      if (!run.ended) this.log.info(`Flink SQL: the panel "${title}" closed: its statement stops.`);
      run.stop();
    });
    return {
      changed: () => updates.changed(run.ended),
      reveal: () => {
        if (!closed) panel.reveal(undefined, false);
        return !closed;
      },
    };
  }

  private async export(run: SqlRun, view: ResultView, format: 'csv' | 'json'): Promise<void> {
    const target = await vscode.window.showSaveDialog({
      title: `Export the ${view === 'table' ? 'current table' : 'changelog'} as ${format.toUpperCase()}`,
      filters: format === 'csv' ? { CSV: ['csv'] } : { JSON: ['json'] },
      defaultUri: vscode.workspace.workspaceFolders?.[0]
        ? vscode.Uri.joinPath(vscode.workspace.workspaceFolders[0].uri, `flink-sql-${view}.${format}`)
        : undefined,
    });
    if (!target) return;
    const { columns, rows } = run.exportRows(view);
    const text =
      format === 'csv'
        ? toCsv(columns, rows)
        : JSON.stringify(
            rows.map((r) => Object.fromEntries(columns.map((c, i) => [c, r[i]]))),
            null,
            2,
          ) + '\n';
    await writeFile(target.fsPath, text);
    void vscode.window.showInformationMessage(`Exported ${rows.length} rows to ${target.fsPath}.`);
  }
}
