// The .flink.sql editor: a Run and a Run bounded lens on each statement, Run Selection, errors as diagnostics where Flink places them, the local gateway started on request.
import * as vscode from 'vscode';
import type { ReadMode } from '../flink/labTables';
import { noFreeSlot, type SqlProblem } from '../flink/sqlErrors';
import { slotShortage } from '../flink/flinkRest';
import { loadCatalog, suggestions, type Catalog } from '../flink/sqlCatalog';
import { SqlRun } from '../flink/sqlRun';
import type { LabSqlSession } from '../flink/sqlSession';
import { splitStatements, type SqlStatement } from '../flink/sqlStatements';
import { clusterRestUrl, LocalFlinkCluster, SQL_GATEWAY } from '../local/flinkCluster';
import { readGatewayCredentials } from '../local/sqlGateway';
import { pollUntil } from '../local/proc';
import { stopTarget, type ListedStatement } from '../flink/sqlStatementList';
import { ContextKey, setContextKey } from '../services/contextKeys';
import { Disposable, onDeactivate } from '../services/lifecycle';
import { WindowGuard } from '../services/windowGuard';
import { guardStateOf, type GuardedSession } from '../flink/windowGuardState';
import { GatewayDown, SqlWorkbench } from '../services/sqlWorkbench';
import { requireWorkspace } from '../services/workspace';
import { UserError } from '../shared/errors';
import { SqlResultsPanels } from '../views/sqlPanel';
import { SqlStatementsView } from '../views/sqlStatementsView';
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

/** A statement run of this window: its run, its panel, and for an INSERT the job's last known status. */
interface Entry {
  id: number;
  run: SqlRun;
  title: string;
  gateway: string;
  /** Run on the local SQL Gateway, whose jobs run on the local cluster. */
  local: boolean;
  bounded: boolean;
  panel: { reveal: () => boolean };
  jobStatus?: string;
}

const JOB_POLL_MS = 3000;
/** How long a statement waits for its first result before the slots are looked at. */
const SLOT_CHECK_MS = 3000;

class SqlEditor extends Disposable {
  private readonly diagnostics = this._register(vscode.languages.createDiagnosticCollection(LANGUAGE));
  private readonly panels: SqlResultsPanels;
  private readonly workbench: SqlWorkbench;
  /** The catalog of the current session, asked of the gateway once per session and again after a DDL statement. */
  private catalogCache: { session: LabSqlSession; loaded: Promise<Catalog> } | undefined;
  private readonly entries = new Map<number, Entry>();
  private nextId = 1;
  private jobPoll: NodeJS.Timeout | undefined;
  private readonly guard: WindowGuard;
  /** The last session the window guard was told of. */
  private guardedSession: GuardedSession | undefined;
  private shuttingDown = false;
  private readonly onStatements: () => void;

  constructor(
    private readonly s: Services,
    onStatements: () => void,
  ) {
    super();
    this.guard = new WindowGuard(vscode.Uri.joinPath(s.context.extensionUri, 'dist', 'windowGuard.js').fsPath, s.log);
    this.onStatements = () => {
      this.guardStatements();
      onStatements();
    };
    this.panels = this._register(new SqlResultsPanels(s.context.extensionUri, s.log));
    this.workbench = this._register(new SqlWorkbench(requireWorkspace(), s.connections, s.log));
    this._register(vscode.workspace.onDidCloseTextDocument((d) => this.diagnostics.delete(d.uri)));
    this._register({ dispose: () => clearTimeout(this.jobPoll) });
    this._register(onDeactivate(() => this.shutdown()));
  }

  /** Every statement run of this window, as the Statements view lists them. */
  statements(): ListedStatement[] {
    return [...this.entries.values()].map((e) => ({
      id: e.id,
      title: e.title,
      statement: e.run.statement.text,
      gateway: e.gateway,
      bounded: e.bounded,
      snapshot: e.run.summary(),
      jobStatus: e.jobStatus,
    }));
  }

  private listed(id: number): { entry: Entry; listed: ListedStatement } {
    const entry = this.entries.get(id);
    const listed = this.statements().find((l) => l.id === id);
    if (!entry || !listed) throw new UserError('That statement is no longer listed.');
    return { entry, listed };
  }

  /** Stop: a statement still reading closes (its job is cancelled by the gateway); an INSERT's job is cancelled. */
  async stop(id: number): Promise<void> {
    const { entry, listed } = this.listed(id);
    const target = stopTarget(listed);
    if (target === 'statement') entry.run.stop();
    if (target === 'job' && listed.snapshot.jobId) {
      const { session } = await this.workbench.session();
      await session.stopJob(listed.snapshot.jobId);
      entry.jobStatus = 'CANCELLING';
      this.s.log.info(`Flink SQL: job ${listed.snapshot.jobId} of "${entry.title}" cancelled from the Statements view.`);
      this.pollJobs(0);
    }
    this.onStatements();
  }

  /** The statement's panel, brought to the front, or opened again when it was closed. */
  show(id: number): void {
    const { entry } = this.listed(id);
    if (!entry.panel.reveal()) entry.panel = this.panels.show(entry.run, entry.title, () => entry.run.errorDetails);
  }

  /** Forgets the statements that have ended (their panels stay open). */
  clearEnded(): void {
    for (const listed of this.statements()) if (!stopTarget(listed)) this.entries.delete(listed.id);
    this.onStatements();
  }

  /** The status of the INSERT jobs still running, from the gateway's SHOW JOBS, every few seconds while there are any. */
  private pollJobs(delay = JOB_POLL_MS): void {
    clearTimeout(this.jobPoll);
    if (this.isDisposed || !this.statements().some((l) => stopTarget(l) === 'job')) return;
    this.jobPoll = setTimeout(async () => {
      try {
        const { session } = await this.workbench.session();
        const jobs = await session.jobs();
        for (const e of this.entries.values()) {
          const job = jobs.find((j) => j.id === e.run.summary().jobId);
          if (job && e.jobStatus !== undefined) e.jobStatus = job.status;
        }
        this.onStatements();
      } catch (error) {
        this.s.log.info(`Flink SQL: the jobs' status could not be read (${error instanceof Error ? error.message : error}).`);
      }
      this.pollJobs();
    }, delay);
  }

  /**
   * The window closes: every statement still reading is closed and every INSERT job still running is cancelled, then the
   * session is closed (which closes whatever operation is left). No job of this window is left RUNNING.
   */
  private async shutdown(): Promise<void> {
    // From here on the guard keeps what it was last told: the host may be ended at any point of this.
    this.shuttingDown = true;
    const jobs: string[] = [];
    for (const listed of this.statements()) {
      const target = stopTarget(listed);
      if (target === 'statement') this.entries.get(listed.id)?.run.stop();
      if (target === 'job' && listed.snapshot.jobId) jobs.push(listed.snapshot.jobId);
    }
    try {
      if (jobs.length > 0) {
        const { session } = await this.workbench.session();
        await Promise.allSettled(jobs.map((job) => session.stopJob(job)));
      }
    } finally {
      await this.workbench.close();
    }
    this.guard.release();
  }

  /** Tells the window guard what to stop should the window end without `deactivate()`: the running statements' jobs, their session. */
  private guardStatements(): void {
    if (this.shuttingDown) return;
    const running = this.statements()
      .filter((l) => stopTarget(l) !== undefined)
      .map((l) => ({ jobId: l.snapshot.jobId, local: this.entries.get(l.id)?.local ?? true }));
    const open = this.workbench.openSession();
    const state = guardStateOf({ workspace: requireWorkspace(), running, open, last: this.guardedSession, localRestUrl: clusterRestUrl() });
    if (open) this.guardedSession = open;
    this.guard.update(state);
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
    const { session, gateway, local } = await this.sessionOrStart();
    const mode: ReadMode = bounded ? await this.workbench.boundedMode('earliest') : { from: 'earliest' };
    for (const statement of statements) {
      // The run tells its panel of each change; the panel needs the run first.
      let changed = () => {};
      const run = new SqlRun(session, statement, mode, 10_000, () => {
        changed();
        this.onStatements();
      });
      const title = `${bounded ? 'Bounded' : 'Live'}: ${statement.text
        .replace(/^(--.*\n|\s)+/, '')
        .replace(/\s+/g, ' ')
        .slice(0, 40)}`;
      const panel = this.panels.show(run, title, () => run.errorDetails);
      changed = panel.changed;
      const entry: Entry = { id: this.nextId++, run, title, gateway, local, bounded, panel };
      this.entries.set(entry.id, entry);
      void setContextKey(ContextKey.SqlStatementsShown, true);
      this.onStatements();
      if (local) this.watchForSlots(run);
      await run.start();
      const { problem, state, kind, jobId } = run.summary();
      if ((kind === 'insert' || kind === 'statement-set') && jobId && state === 'finished') {
        entry.jobStatus = 'submitted';
        this.pollJobs(0);
      }
      if (kind !== 'query' && kind !== 'insert') this.catalogCache = undefined;
      if (state === 'failed' && problem) {
        this.report(document, problem, statement);
        return;
      }
    }
  }

  /** A run still waiting for its first result is told, within seconds, when it waits for a free slot, and what to do. */
  private watchForSlots(run: SqlRun): void {
    const timer = setInterval(async () => {
      const { state, jobId } = run.summary();
      if (state !== 'waiting') return clearInterval(timer);
      const total = await slotShortage(clusterRestUrl(), jobId);
      if (total === undefined || run.summary().state !== 'waiting') return;
      run.explainWait(noFreeSlot(total, 'Stop in the Flink SQL Statements view'));
      clearInterval(timer);
    }, SLOT_CHECK_MS);
    // It ends with the wait: a stop (Stop, a closed panel or window) ends that too.
    timer.unref();
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
  const view = new SqlStatementsView(() => editor?.statements() ?? []);
  const get = () => (editor ??= new SqlEditor(s, () => view.refresh()));
  const id = (value: unknown): number => {
    const n = typeof value === 'number' ? value : (value as { id?: unknown } | undefined)?.id;
    if (typeof n !== 'number') throw new UserError('Choose a statement in the Flink SQL Statements view.');
    return n;
  };
  return [
    { dispose: () => editor?.dispose() },
    view,
    registerCommandWithLogging('kafkaFlinkLab.sql.stopStatement', (row?: unknown) => get().stop(id(row)), s.log),
    registerCommandWithLogging('kafkaFlinkLab.sql.showStatement', (row?: unknown) => get().show(id(row)), s.log),
    registerCommandWithLogging('kafkaFlinkLab.sql.clearStatements', () => editor?.clearEnded(), s.log),
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
