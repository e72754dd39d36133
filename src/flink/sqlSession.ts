// A SQL Gateway session that knows the lab: opened with its tables, kept alive by heartbeats, reopened once when it expired, running one statement at a time as a stream of result pages.
import { GatewayError, type ResultColumn, type RowKind, type SqlGatewayClient } from './sqlGatewayClient';
import { labTableStatements, type LabTableOptions, type ReadMode } from './labTables';

export interface StatementEvents {
  /** The result's columns, once known. */
  onColumns?(columns: ResultColumn[], isQuery: boolean): void;
  onRows?(rows: { kind: RowKind; fields: unknown[] }[]): void;
  /** While no page has come yet: the seconds waited so far and the job's id once Flink gives it. */
  onWaiting?(seconds: number, jobId?: string): void;
  /** The statement's Flink job, once, as soon as the gateway names it (often on the page that brings the first rows). */
  onJob?(jobId: string): void;
}

export interface StatementOutcome {
  jobId?: string;
  /** How it ended: every result read (EOS), stopped by the caller (limit, Ctrl-C), or failed (`errors`). */
  end: 'eos' | 'stopped' | 'error';
  errors?: string[];
}

const HEARTBEAT_MS = 30_000;
/** SHOW JOBS and STOP JOB answer within seconds; a gateway that does not is down. */
const CONTROL_TIMEOUT_MS = 15_000;

/** A job as the gateway's `SHOW JOBS` lists it. */
export interface SessionJob {
  id: string;
  name: string;
  status: string;
}

export class LabSqlSession {
  private handle?: string;
  private heartbeat?: NodeJS.Timeout;
  private mode?: string;
  /**
   * Inside a BEGIN STATEMENT SET … END: the operations of its parts stay open until END has run. Flink collects the
   * INSERTs in the session, and closing their operations first makes END fail ("Trying to access closed classloader").
   */
  private collecting = false;
  private deferred: string[] = [];
  /** The prepare in progress, which the next one waits for. */
  private preparing: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly client: SqlGatewayClient,
    private readonly tables: LabTableOptions,
    private readonly properties: Record<string, string>,
  ) {}

  get sessionHandle(): string | undefined {
    return this.handle;
  }

  /**
   * Opens the session (once) and defines the lab's tables for `mode`; a new mode re-defines them. Calls wait for each
   * other: two statements started together (a run and the editor's catalog) open one session and define its tables once.
   */
  prepare(mode?: ReadMode): Promise<string> {
    const prepared = this.preparing.then(() => this.prepareNow(mode));
    this.preparing = prepared.catch(() => undefined);
    return prepared;
  }

  private async prepareNow(mode: ReadMode | undefined): Promise<string> {
    if (!this.handle) {
      this.handle = await this.client.openSession(this.properties);
      this.heartbeat = setInterval(() => void this.client.heartbeat(this.handle!).catch(() => undefined), HEARTBEAT_MS);
      this.heartbeat.unref();
      this.mode = undefined;
    }
    // No mode: a statement about the cluster (SHOW JOBS, STOP JOB) that reads no lab table.
    if (!mode) return this.handle;
    const key = JSON.stringify({
      from: mode.from,
      bounded: mode.boundedAt && [...mode.boundedAt.sensorData, '|', ...mode.boundedAt.alerts],
    });
    if (this.mode !== key) {
      for (const ddl of labTableStatements(this.tables, mode)) {
        const outcome = await this.runOnce(this.handle, ddl, {}, new AbortController().signal);
        if (outcome.end === 'error') throw new GatewayError(500, outcome.errors ?? ['The lab tables could not be defined.']);
      }
      this.mode = key;
    }
    return this.handle;
  }

  /**
   * Runs one statement of the user's. An expired session (the gateway's idle timeout, or a restarted gateway) is
   * reopened with the same tables and the statement submitted again, once.
   */
  async run(statement: string, mode: ReadMode | undefined, events: StatementEvents, signal: AbortSignal): Promise<StatementOutcome> {
    const words = statement.trim().toUpperCase().split(/\s+/).join(' ');
    if (words === 'BEGIN STATEMENT SET') this.collecting = true;
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          const session = await this.prepare(mode);
          return await this.runOnce(session, statement, events, signal);
        } catch (error) {
          if (attempt === 0 && error instanceof GatewayError && error.sessionGone) {
            this.forget();
            continue;
          }
          throw error;
        }
      }
    } finally {
      if (words === 'END' && this.collecting) {
        this.collecting = false;
        const session = this.handle;
        const operations = this.deferred.splice(0);
        if (session) await Promise.all(operations.map((o) => this.client.closeOperation(session, o).catch(() => undefined)));
      }
    }
  }

  private async runOnce(session: string, statement: string, events: StatementEvents, signal: AbortSignal): Promise<StatementOutcome> {
    const operation = await this.client.submit(session, statement);
    const started = Date.now();
    let next: string | undefined;
    let jobId: string | undefined;
    let announced = false;
    let delay = 50;
    let received = false;
    try {
      for (;;) {
        if (signal.aborted) return { jobId, end: 'stopped' };
        let page;
        try {
          page = await this.client.fetch(session, operation, next);
        } catch (error) {
          // A failed statement answers its result fetch with the error: Flink's message and stack trace.
          if (error instanceof GatewayError && !error.sessionGone) return { jobId, end: 'error', errors: error.errors };
          throw error;
        }
        if (jobId === undefined && page.jobID) {
          jobId = page.jobID;
          events.onJob?.(jobId);
        }
        if (page.results?.columns && !announced) {
          announced = true;
          events.onColumns?.(page.results.columns, page.isQueryResult ?? false);
        }
        if (page.resultType === 'EOS') return { jobId, end: 'eos' };
        const rows = page.results?.data ?? [];
        if (rows.length > 0) {
          events.onRows?.(rows);
          received = true;
          delay = 50;
        } else {
          if (!received) events.onWaiting?.((Date.now() - started) / 1000, jobId);
          await abortableSleep(delay, signal);
          delay = Math.min(delay * 2, 500);
        }
        next = page.nextResultUri ?? next;
        if (!page.nextResultUri && page.resultType === 'PAYLOAD') return { jobId, end: 'eos' };
      }
    } finally {
      // Closing the operation is what cancels a streaming statement's job; a finished one closes quietly.
      if (this.collecting) this.deferred.push(operation);
      else await this.client.closeOperation(session, operation).catch(() => undefined);
    }
  }

  /** The jobs of the cluster the gateway submits to (`SHOW JOBS`): the session's INSERT jobs among them. */
  async jobs(): Promise<SessionJob[]> {
    const { columns, rows } = await this.control('SHOW JOBS');
    const at = (name: string) => columns.indexOf(name);
    return rows.map((r) => ({ id: String(r[at('job id')]), name: String(r[at('job name')]), status: String(r[at('status')]) }));
  }

  /** Cancels a job through the gateway (`STOP JOB 'id'`, no savepoint), on whichever cluster the gateway submits to. */
  async stopJob(jobId: string): Promise<void> {
    if (!/^[0-9a-f]{32}$/.test(jobId)) throw new Error(`"${jobId}" is not a Flink job id.`);
    await this.control(`STOP JOB '${jobId}'`);
  }

  /** A statement about the cluster, its whole (small) answer collected; a failure throws Flink's sentence. */
  private async control(statement: string): Promise<{ columns: string[]; rows: unknown[][] }> {
    let columns: string[] = [];
    const rows: unknown[][] = [];
    const outcome = await this.run(
      statement,
      undefined,
      { onColumns: (c) => (columns = c.map((x) => x.name)), onRows: (page) => rows.push(...page.map((r) => r.fields)) },
      AbortSignal.timeout(CONTROL_TIMEOUT_MS),
    );
    if (outcome.end === 'error') throw new GatewayError(500, outcome.errors ?? [`${statement} failed.`]);
    if (outcome.end === 'stopped') throw new Error(`${statement} got no answer within ${CONTROL_TIMEOUT_MS / 1000} s.`);
    return { columns, rows };
  }

  private forget(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.collecting = false;
    this.deferred = [];
    this.heartbeat = undefined;
    this.handle = undefined;
    this.mode = undefined;
  }

  /** Closes the session: the gateway closes its operations, which cancels their jobs. */
  async close(): Promise<void> {
    const handle = this.handle;
    this.forget();
    if (handle) await this.client.closeSession(handle).catch(() => undefined);
  }
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
