// The rows of the Flink SQL Statements view: each statement run in this window, what it is doing now, and whether Stop applies.
import type { RunSnapshot } from './sqlRun';

/** Flink job states after which a job never runs again. */
const ENDED_JOB = new Set(['FINISHED', 'CANCELED', 'FAILED', 'SUSPENDED']);

export const isLiveJobStatus = (status: string | undefined): boolean => status !== undefined && !ENDED_JOB.has(status);

/** One statement run of the editor, as the view sees it. */
export interface ListedStatement {
  id: number;
  /** The statement's first words, as its panel's title. */
  title: string;
  statement: string;
  /** Where it was run: the session's gateway. */
  gateway: string;
  bounded: boolean;
  snapshot: Pick<RunSnapshot, 'state' | 'kind' | 'tableRows' | 'changes' | 'jobId' | 'problem' | 'seconds'>;
  /** An INSERT's job as the gateway's SHOW JOBS last listed it (it runs on after its statement ends). */
  jobStatus?: string;
}

export type StopWhat = 'statement' | 'job' | undefined;

export interface StatementRow {
  id: number;
  label: string;
  description: string;
  tooltip: string;
  icon: 'sync~spin' | 'pass' | 'circle-slash' | 'error' | 'loading~spin' | 'play-circle';
  /** What Stop does: close the statement (its operation, which cancels its job), cancel an INSERT's job, or nothing. */
  stop: StopWhat;
}

const plural = (n: number, word: string) => `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`;

/** What Stop applies to: a statement still reading its results, else an INSERT's job that still runs. */
export function stopTarget(s: ListedStatement): StopWhat {
  const { state, kind, jobId } = s.snapshot;
  if (state === 'waiting' || state === 'running') return 'statement';
  if (
    (kind === 'insert' || kind === 'statement-set') &&
    jobId &&
    state === 'finished' &&
    (s.jobStatus === undefined || isLiveJobStatus(s.jobStatus))
  )
    return 'job';
  return undefined;
}

/** Newest first. */
export function statementRows(statements: readonly ListedStatement[]): StatementRow[] {
  return [...statements]
    .sort((a, b) => b.id - a.id)
    .map((s) => {
      const { state, kind, jobId, problem } = s.snapshot;
      const stop = stopTarget(s);
      const short = jobId ? jobId.slice(0, 8) : '';
      const job = jobId ? ` · job ${short}` : '';
      const mode = s.bounded ? 'bounded' : 'live';
      let description: string;
      let icon: StatementRow['icon'];
      if (stop === 'job') {
        description = `job ${s.jobStatus ?? 'submitted'} · ${short}`;
        icon = 'play-circle';
      } else if (state === 'waiting') {
        description = `${mode} · waiting for the first result${job}`;
        icon = 'loading~spin';
      } else if (state === 'running') {
        description = `${mode} · ${plural(s.snapshot.tableRows, 'row')} · ${plural(s.snapshot.changes, 'change')}${job}`;
        icon = 'sync~spin';
      } else if (state === 'failed') {
        description = `failed: ${problem?.message.slice(0, 80) ?? 'see its panel'}`;
        icon = 'error';
      } else if (state === 'stopped') {
        description = `stopped · ${plural(s.snapshot.tableRows, 'row')}`;
        icon = 'circle-slash';
      } else {
        description =
          kind === 'insert' || kind === 'statement-set'
            ? `job ${s.jobStatus ?? 'ended'}${short ? ` · ${short}` : ''}`
            : kind === 'query'
              ? `finished · ${plural(s.snapshot.tableRows, 'row')}`
              : 'OK';
        icon = 'pass';
      }
      const tooltip = [
        s.statement,
        '',
        `Run ${mode} on the SQL Gateway ${s.gateway}${jobId ? `; Flink job ${jobId}` : ''}.`,
        stop === 'statement'
          ? 'Stop closes the statement: the gateway cancels its Flink job. Closing its panel does the same.'
          : stop === 'job'
            ? 'An INSERT runs as a Flink job of its own, beside the pipeline job, after its statement has ended. Stop cancels it.'
            : '',
      ]
        .filter((line, i, all) => line !== '' || i < all.length - 1)
        .join('\n');
      return { id: s.id, label: s.title, description, tooltip, icon, stop };
    });
}
