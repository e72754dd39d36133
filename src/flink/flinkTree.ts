// The Flink view as plain data: a FlinkSnapshot → its tree, with the cluster, the job's header row and the other jobs.
import { escapeMarkdown, formatDuration, isoUtc, plural } from '../shared/format';
import { mdCode, mdFence } from '../shared/markdown';
import { checkpointsRow, type CommittedFile } from './flinkCheckpointRows';
import { exceptionHeadline, exceptionsRow } from './flinkExceptions';
import { phaseOfFlinkState } from './flinkJobs';
import { operatorStats, operatorsRow } from './flinkOperators';
import type { FlinkJobSnapshot, FlinkSnapshot } from './flinkRestTypes';
import type { FlinkRow } from './flinkRows';
import { watermarksRow } from './flinkWatermarks';

export interface FlinkTreeContext {
  /** The previous snapshot of the same address (for rates); none on the first refresh. */
  previous?: FlinkSnapshot;
  /** Committed files of the job's output folder (only for a job on this machine). */
  files?: CommittedFile[];
  /** Whether a Flink job process of this workspace runs or starts (the embedded job serves REST only while it runs). */
  localJobProcess?: boolean;
  /** The REST URL points at this machine. */
  localRest?: boolean;
}

/** What the view shows: rows, or (empty rows) the welcome content for `noJob`. */
export interface FlinkTree {
  /** `noJobSavepoint`: no job, and a start would continue from the savepoint it was stopped with (the view's welcome offers it). */
  state: 'unreachable' | 'noJob' | 'noJobSavepoint' | 'job';
  rows: FlinkRow[];
}

/**
 * The pipeline job was stopped with a savepoint, and a start would continue from it (`findSavepoint` finds it; it is
 * asked only when no job runs): with no job left (the embedded Flink ended with it) the state becomes `noJobSavepoint`, whose welcome
 * offers the start; a session cluster still lists the job as FINISHED, so there a row above it offers the start.
 * Nothing changes while the job's process runs or its job is running.
 */
export function offerSavepoint(
  tree: FlinkTree,
  snapshot: FlinkSnapshot,
  findSavepoint: () => { path: string; at: number } | undefined,
  jobProcessRuns: boolean,
): { tree: FlinkTree; savepoint?: { path: string; at: number } } {
  const phase = snapshot.job ? phaseOfFlinkState(snapshot.job.detail.state) : undefined;
  const stoppedOnCluster = tree.state === 'job' && !jobProcessRuns && phase !== undefined && phase !== 'running' && phase !== 'starting';
  if (tree.state !== 'noJob' && !stoppedOnCluster) return { tree };
  const savepoint = findSavepoint();
  if (!savepoint) return { tree };
  if (tree.state === 'noJob') return { tree: { ...tree, state: 'noJobSavepoint' }, savepoint };
  const name = savepoint.path.split('/').filter(Boolean).at(-1) ?? savepoint.path;
  const row: FlinkRow = {
    id: 'flink/savepoint-offer',
    kind: 'savepoint',
    label: 'Start the Flink job from the savepoint',
    description: `${name} · ${isoUtc(savepoint.at)}`,
    icon: ['debug-continue'],
    tooltip: [
      `The pipeline job was stopped with the savepoint ${mdCode(savepoint.path)}.`,
      '',
      "A savepoint holds the job's state — the windows it was counting and the Kafka offsets it had read — and the job's output files are committed up to it. A start continues from it: no event is lost or counted twice.",
      '',
      'Click to start the job from it. To run it over the whole topic again instead, use **Replay the Pipeline…**.',
    ].join('\n'),
  };
  return { tree: { ...tree, rows: [row, ...tree.rows] }, savepoint };
}

const STATE_ICON: Record<string, [string, string?]> = {
  running: ['pass-filled', 'testing.iconPassed'],
  starting: ['loading~spin'],
  failed: ['error', 'errorForeground'],
  stopped: ['circle-large-outline'],
};

export function buildFlinkTree(snapshot: FlinkSnapshot, ctx: FlinkTreeContext = {}): FlinkTree {
  if (!snapshot.reachable) {
    if (ctx.localRest && !ctx.localJobProcess) return { state: 'noJob', rows: [] };
    return {
      state: 'unreachable',
      rows: [
        {
          id: 'flink/unreachable',
          kind: 'unreachable',
          label: `Flink's REST API at ${snapshot.restUrl} does not answer`,
          description: 'click to retry',
          icon: ['debug-disconnect', 'errorForeground'],
          tooltip: [
            `$(error) ${escapeMarkdown(snapshot.error ?? 'not reachable')}`,
            '',
            ctx.localRest
              ? 'The Flink job started from here runs on the local session cluster (started with it; `pipeline flink status` says whether it runs) or, with `flink.target` `embedded`, inside its own process (a MiniCluster), whose REST API answers only while that process runs. Look at the **Flink job** terminal.'
              : "Is the Flink cluster running, and is `kafkaFlinkLab.flinkRestUrl` its JobManager's REST address?",
            '',
            'Click to retry.',
          ].join('\n'),
        },
      ],
    };
  }
  const rows: FlinkRow[] = [];
  if (snapshot.cluster) rows.push(clusterRow(snapshot));
  const job = snapshot.job;
  if (!job)
    return {
      state: snapshot.jobs.length === 0 ? 'noJob' : 'job',
      rows: snapshot.jobs.length === 0 ? [] : [...rows, otherJobsRow(snapshot.jobs, snapshot)],
    };
  rows.push(jobRow(job, snapshot, ctx));
  const others = snapshot.jobs.filter((j) => j.jid !== job.detail.jid);
  if (others.length > 0) rows.push(otherJobsRow(others, snapshot));
  return { state: 'job', rows };
}

function clusterRow(snapshot: FlinkSnapshot): FlinkRow {
  const c = snapshot.cluster!;
  return {
    id: 'flink/cluster',
    kind: 'cluster',
    label: 'Cluster',
    description: `${plural(c.taskManagers, 'TaskManager')} · ${c.slotsAvailable} of ${c.slotsTotal} slots free${c.flinkVersion ? ` · Flink ${c.flinkVersion}` : ''}`,
    icon: ['server-environment'],
    tooltip: [
      `**Flink cluster** at ${mdCode(snapshot.restUrl)}${c.flinkVersion ? ` — Flink ${escapeMarkdown(c.flinkVersion)}` : ''}`,
      '',
      `- **${plural(c.taskManagers, 'TaskManager')}**: the worker processes that run the jobs' tasks. The local session cluster has two, each a process of its own; a job run with \`flink.target\` \`embedded\` brings its own *MiniCluster*: one TaskManager inside the job's process.`,
      `- **${c.slotsTotal} task slots, ${c.slotsAvailable} free**: each slot runs one parallel instance (subtask) of every operator chain of a job.`,
    ].join('\n'),
  };
}

/**
 * The jobs other than the pipeline job, in a group of their own: SQL statements share the session cluster with the
 * pipeline job, and earlier runs stay listed until Flink forgets them. Open while one of them runs.
 */
function otherJobsRow(jobs: FlinkSnapshot['jobs'], snapshot: FlinkSnapshot): FlinkRow {
  const newestFirst = [...jobs].sort((a, b) => b.startTime - a.startTime);
  const running = jobs.filter((j) => phaseOfFlinkState(j.state) === 'running').length;
  return {
    id: 'flink/other-jobs',
    kind: 'other-jobs',
    label: 'Other jobs',
    description: `${jobs.length}${running ? ` · ${running} running` : ''}`,
    icon: ['layers'],
    tooltip:
      'Jobs on this Flink that are not the pipeline job: the jobs of SQL statements (`pipeline sql`; closing a statement cancels its job) and earlier runs, which Flink lists for a while after they end.',
    children: newestFirst.map((j) => otherJobRow(j, snapshot)),
    expanded: running > 0,
  };
}

function otherJobRow(j: FlinkSnapshot['jobs'][number], snapshot: FlinkSnapshot): FlinkRow {
  const phase = phaseOfFlinkState(j.state);
  return {
    id: `flink/job/${j.jid}`,
    kind: 'other-job',
    label: j.name,
    description: `${j.state} · ${j.jid.slice(0, 8)}`,
    icon: STATE_ICON[phase],
    tooltip: `**${escapeMarkdown(j.name)}** (${mdCode(j.jid)}): ${escapeMarkdown(j.state)}; started ${escapeMarkdown(isoUtc(j.startTime))}. Another job known to ${escapeMarkdown(snapshot.restUrl)}.`,
    jobId: j.jid,
    flags: [phase],
  };
}

/** A job that is failing over now, or that restarted within the last minute (its exception still news). */
export function isRestarting(
  state: string | undefined,
  restarts: number | undefined,
  newestExceptionAt: number | undefined,
  now: number,
): boolean {
  return (
    state === 'RESTARTING' ||
    state === 'FAILING' ||
    ((restarts ?? 0) > 0 && newestExceptionAt !== undefined && now - newestExceptionAt < 60_000)
  );
}

function jobRow(job: FlinkJobSnapshot, snapshot: FlinkSnapshot, ctx: FlinkTreeContext): FlinkRow {
  const d = job.detail;
  const phase = phaseOfFlinkState(d.state);
  const now = d.now ?? snapshot.fetchedAt;
  const newest = job.exceptions?.[0];
  const restarting = isRestarting(d.state, job.restarts, newest?.timestamp, now);
  const parts = [d.state];
  if (d.startTime && phase === 'running') parts.push(`up ${formatDuration(now - d.startTime)}`);
  if (job.restarts !== undefined) parts.push(plural(job.restarts, 'restart'));
  if (newest && (restarting || phase === 'failed')) parts.push(exceptionHeadline(newest));
  const icon: [string, string?] =
    phase === 'failed' ? STATE_ICON.failed : restarting ? ['warning', 'list.warningForeground'] : STATE_ICON[phase];
  const previousDetail = ctx.previous?.job?.detail;
  const stats = operatorStats(d, previousDetail);
  const children: FlinkRow[] = [operatorsRow(job, stats), watermarksRow(job), checkpointsRow(job, ctx.files)];
  if ((job.exceptions?.length ?? 0) > 0 || (job.restarts ?? 0) > 0) children.push(exceptionsRow(job, now));
  return {
    id: `flink/job/${d.jid}`,
    kind: 'job',
    label: d.name,
    description: parts.join(' · '),
    icon,
    flags: [phase, restarting ? 'restarting' : undefined].filter((f): f is string => Boolean(f)),
    expanded: true,
    jobId: d.jid,
    tooltip: [
      `**${escapeMarkdown(d.name)}** — ${escapeMarkdown(d.state)}`,
      '',
      `- Job id ${mdCode(d.jid)}`,
      d.startTime
        ? `- Started ${escapeMarkdown(isoUtc(d.startTime))}${phase === 'running' ? `, up ${formatDuration(now - d.startTime)}` : ''}`
        : '',
      job.restarts !== undefined
        ? `- **${plural(job.restarts, 'restart')}**: after a failure Flink restarts the job from its last completed checkpoint (here every 5 s, without limit).`
        : '',
      newest
        ? `\n**Root exception** (${escapeMarkdown(isoUtc(newest.timestamp))}${newest.taskName ? `, in ${escapeMarkdown(newest.taskName)}` : ''}):\n\n${mdFence(newest.stacktrace.split('\n').slice(0, 6).join('\n') || newest.exceptionName)}`
        : '',
      '',
      'Actions: stop with a savepoint, cancel, restart from the latest checkpoint, open the Flink web UI.',
    ]
      .filter((l) => l !== '')
      .join('\n'),
    children,
  };
}
