// One statement run for the results panel: its changelog folded into a capped table and kept as a capped log, its counts and rate, its end.
import type { ReadMode } from './labTables';
import { ChangeLog, ChangelogTable, type Change, type ChangeOp } from './sqlChangelog';
import { sqlProblem, type SqlProblem } from './sqlErrors';
import type { LabSqlSession } from './sqlSession';
import { labTableWrite, statementKind, type SqlStatement } from './sqlStatements';

export type RunState = 'waiting' | 'running' | 'finished' | 'stopped' | 'failed';

/** What the panel shows of a run at one moment. */
export interface RunSnapshot {
  state: RunState;
  kind: ReturnType<typeof statementKind>;
  columns: string[];
  /** The current table (folded), or the newest changes as they came (op first), the first `limit` of them. */
  rows: unknown[][];
  ops?: ChangeOp[];
  /** Rows in the folded table, changes received, of each kind. */
  tableRows: number;
  changes: number;
  counts: Record<ChangeOp, number>;
  /** Rows dropped to keep the table and the log capped, and retractions that matched no kept row. */
  droppedRows: number;
  droppedChanges: number;
  unmatched: number;
  /** Changes per second over the last seconds. */
  rate: number;
  seconds: number;
  waitedSeconds?: number;
  jobId?: string;
  problem?: SqlProblem;
  /** SET, CREATE, DROP…: Flink's one-cell OK answer. */
  ok?: boolean;
  /** Why it still waits, when that is known (every slot taken). */
  waitReason?: string;
}

export type ResultView = 'table' | 'changelog';

/**
 * Runs one statement on the lab session, for the results panel. Never-ending results stay bounded in memory: the
 * table keeps the newest `cap` rows and the log the newest `cap` changes. `stop()` (Stop, a closed panel) closes the
 * statement's operation, which cancels its Flink job.
 */
export class SqlRun {
  private readonly controller = new AbortController();
  private state: RunState = 'waiting';
  private columns: string[] = [];
  private isQuery = false;
  private table = new ChangelogTable([]);
  private readonly log: ChangeLog;
  private received = 0;
  private readonly startedAt = Date.now();
  private endedAt: number | undefined;
  private waited: number | undefined;
  private jobId: string | undefined;
  private problem: SqlProblem | undefined;
  private errors: string[] | undefined;
  private waitReason: string | undefined;
  /** Received counts at recent moments, for the rate. */
  private readonly marks: { at: number; received: number }[] = [];

  constructor(
    private readonly session: Pick<LabSqlSession, 'run'>,
    readonly statement: SqlStatement,
    private readonly mode: ReadMode,
    private readonly cap = 10_000,
    private readonly onChange: () => void = () => undefined,
    private readonly now: () => number = Date.now,
  ) {
    this.log = new ChangeLog(cap);
  }

  get ended(): boolean {
    return this.state === 'finished' || this.state === 'stopped' || this.state === 'failed';
  }

  /** Runs to the end of the results, a stop, or a failure; never rejects (a failure is the run's `problem`). */
  async start(): Promise<void> {
    const refused = labTableWrite(this.statement.text);
    if (refused) return this.fail({ message: refused, line: this.statement.line, column: this.statement.column });
    try {
      const outcome = await this.session.run(
        this.statement.text,
        this.mode,
        {
          onColumns: (columns, isQuery) => {
            this.columns = columns.map((c) => c.name);
            this.isQuery = isQuery;
            this.table = new ChangelogTable(this.columns, this.cap);
            this.onChange();
          },
          onRows: (rows) => {
            this.state = 'running';
            for (const row of rows) {
              this.table.apply(row);
              this.log.push(row);
            }
            this.received += rows.length;
            this.onChange();
          },
          onWaiting: (seconds) => {
            this.waited = seconds;
            this.onChange();
          },
          // Known to the Statements view, to Stop and to the window guard from the moment Flink names it.
          onJob: (jobId) => {
            this.jobId ??= jobId;
            this.onChange();
          },
        },
        this.controller.signal,
      );
      this.jobId ??= outcome.jobId;
      if (outcome.end === 'error') {
        this.errors = outcome.errors;
        return this.fail(sqlProblem(outcome.errors, this.statement));
      }
      this.finish(outcome.end === 'stopped' || this.controller.signal.aborted ? 'stopped' : 'finished');
    } catch (error) {
      this.fail({ message: error instanceof Error ? error.message : String(error) });
    }
  }

  /** Flink's whole answer to a failed statement, stack traces and all: one click away from the panel. */
  get errorDetails(): string | undefined {
    return this.errors?.join('\n\n') ?? this.problem?.message;
  }

  stop(): void {
    this.controller.abort();
  }

  /** Says why the run still waits (shown while it waits, gone with its first rows). */
  explainWait(reason: string): void {
    this.waitReason = reason;
    this.onChange();
  }

  snapshot(view: ResultView, limit: number): RunSnapshot {
    const at = this.endedAt ?? this.now();
    this.marks.push({ at, received: this.received });
    while (this.marks.length > 2 && at - this.marks[0].at > 5000) this.marks.shift();
    const first = this.marks[0];
    const rate = at > first.at ? ((this.received - first.received) * 1000) / (at - first.at) : 0;
    const changes: Change[] | undefined = view === 'changelog' ? this.log.slice(Math.max(0, this.log.size - limit), limit) : undefined;
    const rows = changes ? changes.map((c) => c.fields) : this.table.rows().slice(0, limit);
    const tableRows = this.table.size;
    return {
      state: this.state,
      kind: statementKind(this.statement.text),
      columns: this.columns,
      rows,
      ops: changes?.map((c) => c.op),
      tableRows,
      changes: this.received,
      counts: { ...this.table.counts },
      droppedRows: this.table.dropped,
      droppedChanges: this.log.dropped,
      unmatched: this.table.unmatched,
      rate: this.ended ? 0 : rate,
      seconds: (at - this.startedAt) / 1000,
      waitedSeconds: this.state === 'waiting' ? this.waited : undefined,
      waitReason: this.state === 'waiting' ? this.waitReason : undefined,
      jobId: this.jobId,
      problem: this.problem,
      ok: !this.isQuery && this.columns.length === 1 && this.columns[0] === 'result' && tableRows === 1,
    };
  }

  /** The run's state and counts without its rows: what a list of statements shows. */
  summary(): Pick<RunSnapshot, 'state' | 'kind' | 'tableRows' | 'changes' | 'jobId' | 'problem' | 'seconds'> {
    return {
      state: this.state,
      kind: statementKind(this.statement.text),
      tableRows: this.table.size,
      changes: this.received,
      jobId: this.jobId,
      problem: this.problem,
      seconds: ((this.endedAt ?? this.now()) - this.startedAt) / 1000,
    };
  }

  /** Every kept row, for an export: the folded table, or the kept changes with their op first. */
  exportRows(view: ResultView): { columns: string[]; rows: unknown[][] } {
    if (view === 'table') return { columns: this.columns, rows: this.table.rows() };
    return { columns: ['op', ...this.columns], rows: this.log.slice(0, this.log.size).map((c) => [c.op, ...c.fields]) };
  }

  private finish(state: RunState): void {
    this.state = state;
    this.endedAt = this.now();
    this.onChange();
  }

  private fail(problem: SqlProblem): void {
    this.problem = problem;
    this.finish('failed');
  }
}
