// A row of the Flink view as plain data (no vscode: src/views/flinkView.ts draws it), and where a row leads.
import { phaseOfFlinkState } from './flinkJobs';
import type { FlinkException } from './flinkRestTypes';

export type FlinkRowKind =
  | 'cluster'
  | 'unreachable'
  | 'job'
  | 'other-job'
  | 'other-jobs'
  | 'operators'
  | 'operator'
  | 'subtask'
  | 'watermarks'
  | 'watermark'
  | 'window'
  | 'checkpoints'
  | 'checkpoint'
  | 'file'
  | 'exceptions'
  | 'exception'
  | 'note'
  | 'savepoint';

export interface FlinkRow {
  id: string;
  kind: FlinkRowKind;
  label: string;
  description?: string;
  /** Markdown; every value that came from Flink is escaped. */
  tooltip?: string;
  /** A codicon id and an optional theme colour id. */
  icon?: [string, string?];
  /** Extra parts of the row's contextValue (menus match on `flink<kind>-<flags>`). */
  flags?: string[];
  children?: FlinkRow[];
  expanded?: boolean;
  /** What the row stands for, for its commands. */
  jobId?: string;
  vertexId?: string;
  filePath?: string;
  exception?: FlinkException;
}

/** Every row of a tree, depth first (for tests and for finding a row by id). */
export function flattenRows(rows: FlinkRow[]): FlinkRow[] {
  return rows.flatMap((r) => [r, ...flattenRows(r.children ?? [])]);
}

/** The web UI's address of a job, or of one of its operators (`#/job/running/<jid>/overview/<vertex>/detail`). */
export function webUiUrl(base: string, job: { jid: string; state: string } | undefined, row: FlinkRow | undefined): string {
  if (!job) return `${base}/#/overview`;
  const root = `${base}/#/job/${['running', 'starting'].includes(phaseOfFlinkState(job.state)) ? 'running' : 'completed'}/${job.jid}`;
  switch (row?.kind) {
    case 'operator':
      return `${root}/overview/${row.vertexId}/detail`;
    case 'watermark':
    case 'window':
      return row.vertexId ? `${root}/overview/${row.vertexId}/watermarks` : `${root}/overview`;
    case 'checkpoints':
    case 'checkpoint':
    case 'file':
      return `${root}/checkpoints`;
    case 'exceptions':
    case 'exception':
      return `${root}/exceptions`;
    default:
      return `${root}/overview`;
  }
}
