// The .flink.sql editor: a Run and a Run bounded lens on each statement, Run Selection, errors as diagnostics where Flink places them, the local gateway started on request.
import * as vscode from 'vscode';
import type { ReadMode } from '../flink/labTables';
import type { SqlProblem } from '../flink/sqlErrors';
import { loadCatalog, suggestions, type Catalog } from '../flink/sqlCatalog';
import { SqlRun } from '../flink/sqlRun';
import type { LabSqlSession } from '../flink/sqlSession';
import { splitStatements, type SqlStatement } from '../flink/sqlStatements';
import { LocalFlinkCluster, SQL_GATEWAY } from '../local/flinkCluster';
import { readGatewayCredentials } from '../local/sqlGateway';
import { pollUntil } from '../local/proc';
import { Disposable } from '../services/lifecycle';
import { GatewayDown, SqlWorkbench } from '../services/sqlWorkbench';
import { requireWorkspace } from '../services/workspace';
import { UserError } from '../shared/errors';
import { SqlResultsPanels } from '../views/sqlPanel';
import { registerCommandWithLogging, type Services } from './registration';

const LANGUAGE = 'flink-sql';
const START_CLUSTER = 'Start the local Flink cluster';

/** A Run and a Run bounded lens above each statement of a .flink.sql file. */
class StatementLenses implements vscode.CodeLensProvider {
  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    return splitStatements(document.getText()).flatMap((statement) => {
      const at = new vscode.Range(statement.line - 1, 0, statement.line - 1, 0);
      const args = [document.uri, statement.offset];
      return [
        new vscode.CodeLens(at, {
          title: '$(play) Run',
          tooltip: 'Run this statement on the live topic: it follows new events until you stop it',
          command: 'kafkaFlinkLab.sql.run',
          arguments: [...args, false],
        }),
        new vscode.CodeLens(at, {
          title: 'Run bounded',
          tooltip: 'Run this statement over the events in the topic now, then end',
          command: 'kafkaFlinkLab.sql.run',
          arguments: [...args, true],
        }),
      ];
    });
  }
}

/** The session's tables and columns at the cursor: after FROM or JOIN the tables, else the columns of those it reads. */
class StatementCompletions implements vscode.CompletionItemProvider {
  constructor(private readonly editor: () => SqlEditor) {}

  async provideCompletionItems(document: vscode.TextDocument, position: vscode.Position): Promise<vscode.CompletionItem[]> {
    // No workspace or no gateway: no catalog, no suggestions.
    const catalog = await Promise.resolve()
      .then(() => this.editor().catalog())
      .catch(() => undefined);
    if (!catalog) return [];
    const text = document.getText();
    const offset = document.offsetAt(position);
    const statement = [...splitStatements(text)].reverse().find((s) => s.offset <= offset);
    const start = statement?.offset ?? 0;
    const end = Math.max(offset, statement ? start + statement.text.length : text.length);
    return suggestions(text.slice(start, offset), text.slice(start, end), catalog).map((s) => {
      const item = new vscode.CompletionItem(
        s.label,
        s.kind === 'table' ? vscode.CompletionItemKind.Class : vscode.CompletionItemKind.Field,
      );
      item.detail = s.detail;
      item.sortText = `${s.kind === 'column' ? 0 : 1}${s.label}`;
      return item;
    });
  }
}

/** The statements of the selection, placed where they are in the document (Flink's positions then map onto it). */
function selectedStatements(document: vscode.TextDocument, selection: vscode.Selection): SqlStatement[] {
  const base = document.offsetAt(selection.start);
  return splitStatements(document.getText(selection)).map((s) => {
    const position = document.positionAt(base + s.offset);
    return { ...s, offset: base + s.offset, line: position.line + 1, column: position.character + 1 };
  });
}

class SqlEditor extends Disposable {
  private readonly diagnostics = this._register(vscode.languages.createDiagnosticCollection(LANGUAGE));
  private readonly panels: SqlResultsPanels;
  private readonly workbench: SqlWorkbench;
  /** The catalog of the current session, asked of the gateway once per session and again after a DDL statement. */
  private catalogCache: { session: LabSqlSession; loaded: Promise<Catalog> } | undefined;

  constructor(private readonly s: Services) {
    super();
    this.panels = this._register(new SqlResultsPanels(s.context.extensionUri, s.log));
    this.workbench = this._register(new SqlWorkbench(requireWorkspace(), s.connections, s.log));
    this._register(vscode.workspace.onDidCloseTextDocument((d) => this.diagnostics.delete(d.uri)));
  }

  /** The session's catalog for completion; never starts the local cluster (no gateway: no catalog). */
  async catalog(): Promise<Catalog> {
    const { session } = await this.workbench.session();
    if (this.catalogCache?.session !== session) {
      const loaded = loadCatalog(session, { from: 'earliest' });
      this.catalogCache = { session, loaded };
      loaded.catch(() => (this.catalogCache = undefined));
    }
    return this.catalogCache.loaded;
  }

  async runAt(uri: vscode.Uri | undefined, offset: number | undefined, bounded: boolean): Promise<void> {
    const document = uri ? await vscode.workspace.openTextDocument(uri) : vscode.window.activeTextEditor?.document;
    if (!document) throw new UserError('Open a .flink.sql file and put the cursor in a statement.');
    const at = offset ?? document.offsetAt(vscode.window.activeTextEditor?.selection.active ?? new vscode.Position(0, 0));
    const statements = splitStatements(document.getText());
    const statement = [...statements].reverse().find((s) => s.offset <= at) ?? statements[0];
    if (!statement) throw new UserError(`${vscode.workspace.asRelativePath(document.uri)} has no statement to run.`);
    await this.run(document, [statement], bounded);
  }

  async runSelection(bounded: boolean): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    if (!editor || editor.selection.isEmpty) return this.runAt(undefined, undefined, bounded);
    const statements = selectedStatements(editor.document, editor.selection);
    if (statements.length === 0) throw new UserError('The selection holds no statement.');
    await this.run(editor.document, statements, bounded);
  }

  private async run(document: vscode.TextDocument, statements: SqlStatement[], bounded: boolean): Promise<void> {
    this.diagnostics.delete(document.uri);
    const { session } = await this.sessionOrStart();
    const mode: ReadMode = bounded ? await this.workbench.boundedMode('earliest') : { from: 'earliest' };
    for (const statement of statements) {
      // The run tells its panel of each change; the panel needs the run first.
      let changed = () => {};
      const run = new SqlRun(session, statement, mode, 10_000, () => changed());
      const title = `${bounded ? 'Bounded' : 'Live'}: ${statement.text
        .replace(/^(--.*\n|\s)+/, '')
        .replace(/\s+/g, ' ')
        .slice(0, 40)}`;
      changed = this.panels.show(run, title, () => run.errorDetails).changed;
      await run.start();
      const { problem, state, kind } = run.snapshot('table', 0);
      if (kind !== 'query' && kind !== 'insert') this.catalogCache = undefined;
      if (state === 'failed' && problem) {
        this.report(document, problem, statement);
        return;
      }
    }
  }

  /** A failed statement's problem as an error at Flink's line and column (the statement's start when it names none). */
  private report(document: vscode.TextDocument, problem: SqlProblem, statement: SqlStatement): void {
    const start = new vscode.Position((problem.line ?? statement.line) - 1, (problem.column ?? statement.column) - 1);
    const end =
      problem.endLine !== undefined && problem.endColumn !== undefined
        ? new vscode.Position(problem.endLine - 1, problem.endColumn)
        : (document.getWordRangeAtPosition(start, /[A-Za-z_][A-Za-z0-9_]*|`[^`]*`/)?.end ?? start.translate(0, 1));
    const diagnostic = new vscode.Diagnostic(new vscode.Range(start, end), problem.message, vscode.DiagnosticSeverity.Error);
    diagnostic.source = 'Flink SQL';
    this.diagnostics.set(document.uri, [diagnostic]);
  }

  /** The lab session; when the local gateway is down, the offer to start the local cluster, and the wait for it. */
  private async sessionOrStart(): Promise<Awaited<ReturnType<SqlWorkbench['session']>>> {
    try {
      return await this.workbench.session();
    } catch (error) {
      if (!(error instanceof GatewayDown)) throw error;
      const choice = await vscode.window.showErrorMessage(error.message, START_CLUSTER);
      if (choice !== START_CLUSTER) throw new UserError('Flink SQL needs the local SQL Gateway: start the local Flink cluster first.');
      const workspace = requireWorkspace();
      await this.s.terminals.start('cluster', ['flink', 'up', `--workspace=${workspace}`]);
      const cluster = new LocalFlinkCluster(workspace);
      const up = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: 'Starting the local Flink cluster and its SQL Gateway…' },
        () => pollUntil(async () => (cluster.pidOf(SQL_GATEWAY) && readGatewayCredentials(cluster) ? true : undefined), 180_000, 1000),
      );
      if (!up) throw new UserError('The local SQL Gateway did not come up within 3 minutes: see the "Flink cluster" terminal.');
      return this.workbench.session();
    }
  }
}

/**
 * The walkthrough's step: the five teaching queries copied into `queries/` of the workspace (a file already there is
 * kept as it is), the first opened and run on the live topic.
 */
async function openSamples(s: Services): Promise<void> {
  const workspace = requireWorkspace();
  const from = vscode.Uri.joinPath(s.context.extensionUri, 'sample-workspace', 'queries');
  const to = vscode.Uri.joinPath(vscode.Uri.file(workspace), 'queries');
  await vscode.workspace.fs.createDirectory(to);
  const names = (await vscode.workspace.fs.readDirectory(from))
    .map(([name]) => name)
    .filter((n) => n.endsWith('.flink.sql'))
    .sort();
  if (names.length === 0) throw new UserError(`No sample queries in ${from.fsPath}.`);
  for (const name of names) {
    const target = vscode.Uri.joinPath(to, name);
    const exists = await vscode.workspace.fs.stat(target).then(
      () => true,
      () => false,
    );
    if (!exists) await vscode.workspace.fs.copy(vscode.Uri.joinPath(from, name), target);
  }
  const first = vscode.Uri.joinPath(to, names[0]);
  await vscode.window.showTextDocument(first);
  await vscode.commands.executeCommand('kafkaFlinkLab.sql.run', first, 0, false);
}

export function sqlCommands(s: Services): vscode.Disposable[] {
  let editor: SqlEditor | undefined;
  const get = () => (editor ??= new SqlEditor(s));
  return [
    { dispose: () => editor?.dispose() },
    // The lenses are there from the start; the sessions, panels and diagnostics come with the first run.
    vscode.languages.registerCodeLensProvider({ language: LANGUAGE }, new StatementLenses()),
    vscode.languages.registerCompletionItemProvider({ language: LANGUAGE }, new StatementCompletions(get)),
    registerCommandWithLogging(
      'kafkaFlinkLab.sql.run',
      (uri?: unknown, offset?: unknown, bounded?: unknown) =>
        get().runAt(uri instanceof vscode.Uri ? uri : undefined, typeof offset === 'number' ? offset : undefined, bounded === true),
      s.log,
    ),
    registerCommandWithLogging('kafkaFlinkLab.sql.runSelection', () => get().runSelection(false), s.log),
    registerCommandWithLogging('kafkaFlinkLab.sql.openSamples', () => openSamples(s), s.log),
    registerCommandWithLogging('kafkaFlinkLab.sql.runSelectionBounded', () => get().runSelection(true), s.log),
  ];
}
