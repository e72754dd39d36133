// The Flink view as plain data: Flink's REST answers (a FlinkSnapshot) → rows with labels, descriptions and tooltips.
// No vscode here: src/views/flinkView.ts draws these rows; unit tests read them on answers recorded from a real job.
import {
  escapeMarkdown,
  formatBytes,
  formatDuration,
  formatMillis,
  formatPerSecond,
  formatSpan,
  formatUtcTime,
  isoUtc,
  plural,
} from '../shared/format';
import { mdCode, mdFence } from '../shared/markdown';
import type { FlinkCheckpoint, FlinkException, FlinkJobDetail, FlinkVertex } from './flinkRestTypes';
import { hasWindowOperator, isSourceVertex, type FlinkJobSnapshot, type FlinkSnapshot, type SourceProgress } from './flinkSnapshot';
import { phaseOfFlinkState } from './flinkJobs';

// ---------------------------------------------------------------------------------------------------------------
// Operator chains → readable names
// ---------------------------------------------------------------------------------------------------------------

export interface ChainedOperator {
  /** As Flink names it, e.g. `alerts_jsonl[10]: Writer`. */
  raw: string;
  /** Without the plan id: `alerts_jsonl: Writer`. */
  name: string;
  kind: 'source' | 'sink' | 'window' | 'window-local' | 'transform' | 'other';
  /** The table (source/sink) or the operator's name. */
  subject: string;
}

/** Operators that only reshape records (filters, projections, exchanges): counted, not named. */
const TRANSFORMS =
  /^(Calc|Filter|Project|Expand|Exchange|ChangelogNormalize|WatermarkAssigner|DropUpdateBefore|ConstraintEnforcer|StreamRecordTimestampInserter|Correlate|Map|FlatMap|Timestamps\/Watermarks)$/;

/**
 * The operator names of a chain, in order: `A -> (B -> C, D -> E)` gives A, B, C, D, E. Parentheses at the start of
 * an item group branches; parentheses inside a name (`Window(TumblingEventTimeWindows(10000), …)`) stay in it.
 */
export function splitChain(chain: string): string[] {
  const names: string[] = [];
  let i = 0;
  while (i < chain.length) {
    const c = chain[i];
    if (c === ' ' || c === '(' || c === ')' || c === ',') {
      i++;
      continue;
    }
    if (chain.startsWith('->', i)) {
      i += 2;
      continue;
    }
    const start = i;
    let depth = 0;
    for (; i < chain.length; i++) {
      const ch = chain[i];
      if (ch === '(') depth++;
      else if (ch === ')') {
        if (depth === 0) break;
        depth--;
      } else if (depth === 0 && (ch === ',' || chain.startsWith(' ->', i))) break;
    }
    const name = chain.slice(start, i).trim();
    if (name) names.push(name);
  }
  return names;
}

/** The operators of a chain, each with what it is: a source, a sink, a window, a transformation. */
export function chainedOperators(chain: string): ChainedOperator[] {
  return splitChain(chain).map((raw) => {
    const name = raw.replace(/\[\d+\]/g, '').trim();
    const source = /^Source:\s*(.+)$/.exec(name);
    if (source) return { raw, name, kind: 'source', subject: source[1] };
    const sink = /^Sink:\s*(.+)$/.exec(name) ?? /^(.+?):\s*(?:Writer|Committer)$/.exec(name);
    if (sink) return { raw, name, kind: 'sink', subject: sink[1] };
    if (name === 'LocalWindowAggregate') return { raw, name, kind: 'window-local', subject: name };
    if (hasWindowOperator(name)) return { raw, name, kind: 'window', subject: name };
    if (TRANSFORMS.test(name)) return { raw, name, kind: 'transform', subject: name };
    return { raw, name, kind: 'other', subject: name };
  });
}

/** A window operator's shape from its SQL in the plan: `TUMBLE(… size=[10 s])`. */
export interface WindowShape {
  type: 'tumbling' | 'hopping' | 'cumulating' | 'session';
  sizeMs?: number;
  slideMs?: number;
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, min: 60_000, h: 3_600_000, d: 86_400_000 };

function durationMs(text: string | undefined): number | undefined {
  const m = text ? /^(\d+(?:\.\d+)?)\s*(ms|s|min|h|d)$/.exec(text.trim()) : null;
  return m ? Number(m[1]) * UNIT_MS[m[2]] : undefined;
}

/** The window shape in one plan description (the first window of it), if any. */
export function windowShape(description: string): WindowShape | undefined {
  const m = /\b(TUMBLE|HOP|CUMULATE|SESSION)\(([^)]*)\)/.exec(description);
  if (!m) return undefined;
  const arg = (key: string) => new RegExp(`\\b${key}=\\[([^\\]]+)\\]`).exec(m[2])?.[1];
  const type = ({ TUMBLE: 'tumbling', HOP: 'hopping', CUMULATE: 'cumulating', SESSION: 'session' } as const)[m[1] as 'TUMBLE'];
  return { type, sizeMs: durationMs(arg('size') ?? arg('max_size') ?? arg('gap')), slideMs: durationMs(arg('slide') ?? arg('step')) };
}

/** The watermark delay of a source table, from its SQL: `watermark=[-(rowtime, 5000:INTERVAL …)]`. */
export function watermarkDelayMs(description: string): number | undefined {
  const m = /watermark=\[-\(.*?,\s*(\d+):INTERVAL/.exec(description);
  return m ? Number(m[1]) : undefined;
}

function shapeWords(shape: WindowShape | undefined): string {
  if (!shape) return 'window';
  const size = shape.sizeMs !== undefined ? ` ${formatSpan(shape.sizeMs)}` : '';
  if (shape.type === 'hopping') return `hopping window${size}${shape.slideMs ? ` every ${formatSpan(shape.slideMs)}` : ''}`;
  return `${shape.type} window${size}`;
}

/**
 * A vertex's name as a learner reads it: what it reads, the window it computes, where it writes. From
 * `Source: kafka_src[1] -> (Calc[2] -> LocalWindowAggregate[3], Calc[9] -> (alerts_jsonl[10]: Writer -> …` to
 * `Source kafka_src → window pre-aggregate → 3 sinks: alerts_jsonl, alerts_kafka, dead_letter_jsonl`.
 */
export function readableVertexName(chain: string, planDescription = ''): string {
  const ops = chainedOperators(chain);
  const unique = (xs: string[]) => [...new Set(xs)];
  const sources = unique(ops.filter((o) => o.kind === 'source').map((o) => o.subject));
  const sinks = unique(ops.filter((o) => o.kind === 'sink').map((o) => o.subject));
  const shape = windowShape(planDescription);
  const steps: string[] = [];
  if (sources.length) steps.push(`Source ${sources.join(', ')}`);
  for (const o of ops) {
    if (o.kind === 'window-local') steps.push('window pre-aggregate');
    else if (o.kind === 'window') steps.push(/Window(Join|Rank|Deduplicate|TableFunction)/.test(o.name) ? o.name : shapeWords(shape));
    else if (o.kind === 'other') steps.push(o.name);
  }
  const uniqueSteps = unique(steps);
  if (ops.length === 1 && ops[0].kind === 'sink') {
    const role = /:\s*(Writer|Committer)$/.exec(ops[0].name)?.[1];
    return `Sink ${ops[0].subject}${role ? ` (${role.toLowerCase()})` : ''}`;
  }
  if (uniqueSteps.length === 0 && sinks.length === 0) {
    const only = ops[0];
    if (!only) return chain;
    if (only.name === 'Calc') return `${/where=\[/.test(planDescription) ? 'Filter and compute columns' : 'Compute columns'} (${only.raw})`;
    return only.name;
  }
  const sinkText = sinks.length === 0 ? '' : sinks.length === 1 ? `sink ${sinks[0]}` : `${sinks.length} sinks: ${sinks.join(', ')}`;
  const text = [...uniqueSteps, sinkText].filter(Boolean).join(' → ');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

// ---------------------------------------------------------------------------------------------------------------
// Operators: rates, busy time, backpressure
// ---------------------------------------------------------------------------------------------------------------

export type BackpressureLevel = 'OK' | 'LOW' | 'HIGH';

/** Flink's web UI thresholds: back-pressured up to 10 % of the time is OK, up to 50 % LOW, more HIGH. */
export function backpressureLevel(ratio: number): BackpressureLevel {
  if (ratio <= 0.1) return 'OK';
  if (ratio <= 0.5) return 'LOW';
  return 'HIGH';
}

export interface OperatorStats {
  vertex: FlinkVertex;
  title: string;
  /** Records in per second since the previous snapshot (undefined on the first). */
  rate?: number;
  /** Shares of time since the previous snapshot (or since the start, on the first): busy, back-pressured. */
  busy?: number;
  backPressured?: number;
  level?: BackpressureLevel;
}

/**
 * Busy and back-pressured shares come from the accumulated times in GET /jobs/:id (one request for every vertex):
 * between two snapshots, Δbusy / (Δbusy + Δidle + Δbackpressured); on the first, the same since the start.
 */
/** Each vertex's plan description (what its operators do, as Flink's plan spells it), by vertex id. */
const planOf = (detail: FlinkJobDetail) => new Map((detail.plan ?? []).map((p) => [p.id, p.description]));

export function operatorStats(detail: FlinkJobDetail, previous?: FlinkJobDetail): OperatorStats[] {
  const before = previous?.jid === detail.jid ? new Map(previous.vertices.map((v) => [v.id, v])) : new Map<string, FlinkVertex>();
  const elapsedMs =
    previous && previous.jid === detail.jid && detail.now !== undefined && previous.now !== undefined
      ? detail.now - previous.now
      : undefined;
  const plan = planOf(detail);
  const result = detail.vertices.map((v) => {
    const old = before.get(v.id);
    const stats: OperatorStats = { vertex: v, title: readableVertexName(v.name, plan.get(v.id) ?? '') };
    if (old && elapsedMs && elapsedMs > 0 && v.readRecords >= old.readRecords)
      stats.rate = ((v.readRecords - old.readRecords) * 1000) / elapsedMs;
    const d = (now?: number, then?: number) => (now === undefined ? undefined : now - (then ?? 0));
    let busy = d(v.busyMs, old?.busyMs);
    let bp = d(v.backPressuredMs, old?.backPressuredMs);
    let idle = d(v.idleMs, old?.idleMs);
    // Metrics are fetched every second: two snapshots within that second see the same values; use the totals then.
    if (old && (busy ?? 0) + (bp ?? 0) + (idle ?? 0) <= 0) [busy, bp, idle] = [v.busyMs, v.backPressuredMs, v.idleMs];
    // Flink derives the busy time from the other two, so between two samples it can even step back a little.
    const [b, p, i] = [busy, bp, idle].map((x) => Math.max(0, x ?? 0));
    const total = b + p + i;
    if (busy !== undefined && total > 0) {
      stats.busy = b / total;
      stats.backPressured = p / total;
      stats.level = backpressureLevel(stats.backPressured);
    }
    return stats;
  });
  return disambiguate(
    result,
    (s) => s.title,
    (s, title) => (s.title = title),
    (s) => s.vertex.name,
  );
}

/** Titles that repeat (a job with several sources, chaining off) get the plan id of their first operator: `Source kafka_src [1]`. */
function disambiguate<T>(items: T[], title: (t: T) => string, setTitle: (t: T, title: string) => void, chain: (t: T) => string): T[] {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(title(item), (counts.get(title(item)) ?? 0) + 1);
  for (const item of items) {
    if ((counts.get(title(item)) ?? 0) < 2) continue;
    const id = /\[(\d+)\]/.exec(chain(item))?.[1];
    if (id && !title(item).includes(`[${id}]`)) setTitle(item, `${title(item)} [${id}]`);
  }
  return items;
}

const percent = (x: number | undefined) => (x === undefined ? '–' : `${Math.round(x * 100)}%`);

// ---------------------------------------------------------------------------------------------------------------
// Watermarks and the window that waits
// ---------------------------------------------------------------------------------------------------------------

export interface WindowWait {
  /** The oldest window not fired yet: [start, end). */
  start: number;
  end: number;
  watermark: number;
  /** end − watermark: how far the watermark still has to go. */
  behindMs: number;
  /** "window 12:00:10–12:00:20 fires when the watermark passes 12:00:20 — it is 3.2 s behind" */
  text: string;
}

/**
 * The oldest window a window operator still holds, from its input watermark: Flink fires the window [start, end)
 * once the watermark reaches end − 1 ms, so every window ending at or before watermark + 1 ms has fired and the
 * oldest open one contains watermark + 1 ms. Tumbling windows (aligned to the epoch, no offset) only.
 */
export function waitingWindow(watermark: number, shape: WindowShape | undefined): WindowWait | undefined {
  if (!shape || shape.type !== 'tumbling' || !shape.sizeMs) return undefined;
  const size = shape.sizeMs;
  const start = Math.floor((watermark + 1) / size) * size;
  const end = start + size;
  const behindMs = end - watermark;
  const text = `window ${formatUtcTime(start)}–${formatUtcTime(end)} fires when the watermark passes ${formatUtcTime(end)} — it is ${formatDuration(behindMs)} behind`;
  return { start, end, watermark, behindMs, text };
}

export interface WatermarkRow {
  vertexId: string;
  /** Readable name of the operator the watermark belongs to. */
  operator: string;
  watermark?: number;
  shape?: WindowShape;
  wait?: WindowWait;
  isSource: boolean;
  /** The source's watermark delay (out-of-orderness), when its SQL names it. */
  delayMs?: number;
  /** The vertex's operator chain, as Flink names it. */
  chain: string;
}

/** `Tumbling window 10 s (GlobalWindowAggregate[5])`: the window operator of a chain, by its shape and plan id. */
function windowOperatorName(chain: string, shape: WindowShape | undefined): string {
  const op = chainedOperators(chain).find((o) => o.kind === 'window') ?? chainedOperators(chain).find((o) => o.kind === 'window-local');
  const words = op?.kind === 'window-local' ? 'window pre-aggregate' : shapeWords(shape);
  return `${words.charAt(0).toUpperCase()}${words.slice(1)}${op ? ` (${op.raw})` : ''}`;
}

/** Each window operator's input watermark and the window it waits on, and each source's output watermark. */
export function watermarkRows(job: FlinkJobSnapshot): WatermarkRow[] {
  const plan = planOf(job.detail);
  const rows: WatermarkRow[] = [];
  for (const v of job.detail.vertices) {
    const description = plan.get(v.id) ?? '';
    if (isSourceVertex(v.name)) {
      const source = job.sources.find((s) => s.vertexId === v.id);
      rows.push({
        vertexId: v.id,
        operator: `Source ${chainedOperators(v.name)[0]?.subject ?? ''}`.trim(),
        watermark: source?.outputWatermark,
        isSource: true,
        delayMs: watermarkDelayMs(description),
        chain: v.name,
      });
    } else if (hasWindowOperator(v.name)) {
      const shape = windowShape(description);
      const watermark = job.watermarks[v.id];
      // A local (pre-)aggregate only pre-sums per slice: the window fires in the global one after the shuffle.
      const fires = chainedOperators(v.name).some((o) => o.kind === 'window');
      rows.push({
        vertexId: v.id,
        operator: windowOperatorName(v.name, shape),
        watermark,
        shape,
        wait: watermark !== undefined && fires ? waitingWindow(watermark, shape) : undefined,
        isSource: false,
        chain: v.name,
      });
    }
  }
  return disambiguate(
    rows,
    (r) => r.operator,
    (r, t) => (r.operator = t),
    (r) => r.chain,
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Checkpoints and the files they committed
// ---------------------------------------------------------------------------------------------------------------

/** A committed (visible) output file and when it became visible: its inode change time, set by the commit's rename. */
export interface CommittedFile {
  path: string;
  /** `aggregates`, `alerts`, `dead-letter`. */
  folder: string;
  name: string;
  changedAtMs: number;
  bytes?: number;
}

/**
 * The files each checkpoint committed. Flink's file sink renames a part file to its visible name when the checkpoint
 * that covers it completes (right after its last acknowledgement), so a file belongs to the newest completed
 * checkpoint acknowledged before it appeared. Files from before the oldest checkpoint in the history are left out.
 */
export function filesByCheckpoint(history: FlinkCheckpoint[], files: CommittedFile[]): Map<number, CommittedFile[]> {
  const completed = history
    .filter((c) => c.status === 'COMPLETED' && c.latestAckTimestamp !== undefined)
    .sort((a, b) => a.latestAckTimestamp! - b.latestAckTimestamp!);
  const result = new Map<number, CommittedFile[]>(completed.map((c) => [c.id, []]));
  if (completed.length === 0) return result;
  for (const f of files) {
    let owner: FlinkCheckpoint | undefined;
    for (const c of completed) if (c.latestAckTimestamp! <= f.changedAtMs) owner = c;
    if (owner) result.get(owner.id)!.push(f);
  }
  for (const list of result.values()) list.sort((a, b) => a.folder.localeCompare(b.folder) || a.name.localeCompare(b.name));
  return result;
}

// ---------------------------------------------------------------------------------------------------------------
// The tree
// ---------------------------------------------------------------------------------------------------------------

export type FlinkRowKind =
  | 'cluster'
  | 'unreachable'
  | 'job'
  | 'other-job'
  | 'operators'
  | 'operator'
  | 'watermarks'
  | 'watermark'
  | 'window'
  | 'checkpoints'
  | 'checkpoint'
  | 'file'
  | 'exceptions'
  | 'exception'
  | 'note';

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
  state: 'unreachable' | 'noJob' | 'job';
  rows: FlinkRow[];
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
              ? 'The Flink job started from here runs Flink inside its own process (a MiniCluster): its REST API answers only while that process runs, and for a moment after it started. Look at the **Flink job** terminal.'
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
      rows: snapshot.jobs.length === 0 ? [] : [...rows, ...snapshot.jobs.map((j) => otherJobRow(j, snapshot))],
    };
  rows.push(jobRow(job, snapshot, ctx));
  for (const other of snapshot.jobs.filter((j) => j.jid !== job.detail.jid)) rows.push(otherJobRow(other, snapshot));
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
      `- **${plural(c.taskManagers, 'TaskManager')}**: the worker processes that run the job's tasks. The job started from here runs an embedded *MiniCluster*: one TaskManager inside the job's own process.`,
      `- **${c.slotsTotal} task slots, ${c.slotsAvailable} free**: each slot runs one parallel instance (subtask) of every operator chain of a job.`,
    ].join('\n'),
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

/** The newest exception's first line: `org.apache.kafka…TimeoutException: Timeout expired…` → class simple name + message. */
export function exceptionHeadline(e: Pick<FlinkException, 'exceptionName' | 'stacktrace'>): string {
  // Flink 2 names only the class in exceptionName; the message is the stack trace's first line.
  const stackFirst = e.stacktrace.split('\n')[0] ?? '';
  const name = e.exceptionName.split('\n')[0];
  let first = (name && stackFirst.startsWith(name) ? stackFirst : name || stackFirst || 'unknown exception').trim();
  // "JobException: Recovery is suppressed by NoRestartBackoffTimeStrategy" only says that the job gave up: the
  // failure itself is the exception it wraps.
  const cause = /^Caused by:\s*(.+)$/m.exec(e.stacktrace)?.[1];
  if (cause && /JobException|Recovery is suppressed/.test(first)) first = cause.trim();
  const m = /^([\w$.]+?)(?::\s*(.*))?$/.exec(first);
  if (!m) return first.slice(0, 200);
  const simple = m[1].split('.').pop()!;
  return (m[2] ? `${simple}: ${m[2]}` : simple).slice(0, 200);
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
  const children: FlinkRow[] = [operatorsRow(job, stats), watermarksRow(job), checkpointsRow(job, ctx)];
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

/**
 * Where a back-pressured job is slow: the busiest task that is not itself waiting (its back-pressured inputs wait for
 * it). Undefined while nothing is back-pressured.
 */
export function bottleneck(stats: OperatorStats[]): OperatorStats | undefined {
  if (!stats.some((s) => s.level === 'HIGH' || s.level === 'LOW')) return undefined;
  const candidates = stats.filter((s) => s.level === 'OK' && s.busy !== undefined).sort((a, b) => b.busy! - a.busy!);
  return candidates[0] && candidates[0].busy! >= 0.5 ? candidates[0] : undefined;
}

function operatorsRow(job: FlinkJobSnapshot, stats: OperatorStats[]): FlinkRow {
  const jid = job.detail.jid;
  const high = stats.filter((s) => s.level === 'HIGH').length;
  const slowest = bottleneck(stats);
  return {
    id: `flink/job/${jid}/operators`,
    kind: 'operators',
    label: 'Operators',
    description: `${stats.length} ${stats.length === 1 ? 'task' : 'tasks'} (operator chains)${high ? ` · ${high} back-pressured` : ''}${slowest ? ` · bottleneck: ${slowest.title}` : ''}`,
    icon: ['type-hierarchy'],
    expanded: true,
    tooltip: [
      '**Operators**: Flink *chains* operators that pass records on without a network hop into one task (a vertex of the job graph); each row is one such chain, named by what it reads, computes and writes.',
      '',
      '- **in / out**: records the task received / sent to the next task over the network. A source counts what it read from Kafka; what a sink writes to files or Kafka is not counted as *out* (see *Checkpoints* for the files).',
      '- **/s**: records in per second since the last refresh.',
      '- **busy**: share of time the task was working; **backpressure** OK / LOW / HIGH: share of time it waited for the next task to take its output (≤ 10 %, ≤ 50 %, more). The slow task is the busy one just *after* the back-pressured ones.',
    ].join('\n'),
    jobId: jid,
    // Never a leaf: VS Code keeps a row's first collapse state, so a row drawn once without children (a run that
    // just started) would stay folded when its operators arrive.
    children: stats.length
      ? stats.map((s) => operatorRow(jid, s, s === slowest))
      : [
          {
            id: `flink/job/${jid}/operators/none`,
            kind: 'note',
            label: job.detail.state === 'RUNNING' ? 'no task reports metrics yet' : `no metrics while the job is ${job.detail.state}`,
            icon: ['info'],
            jobId: jid,
          },
        ],
  };
}

function operatorRow(jid: string, s: OperatorStats, isBottleneck: boolean): FlinkRow {
  const v = s.vertex;
  const description = [
    isBottleneck ? 'bottleneck' : undefined,
    `in ${v.readRecords}`,
    `out ${v.writeRecords}`,
    formatPerSecond(s.rate),
    `busy ${percent(s.busy)}`,
    `backpressure ${s.level ?? '–'}`,
  ]
    .filter(Boolean)
    .join(' · ');
  return {
    id: `flink/job/${jid}/operator/${v.id}`,
    kind: 'operator',
    label: s.title,
    description,
    icon: isBottleneck
      ? ['flame', 'errorForeground']
      : s.level === 'HIGH'
        ? ['debug-pause', 'errorForeground']
        : s.level === 'LOW'
          ? ['debug-pause', 'list.warningForeground']
          : ['symbol-event'],
    flags: [s.level?.toLowerCase() ?? 'unknown', isBottleneck ? 'bottleneck' : undefined].filter((f): f is string => Boolean(f)),
    jobId: jid,
    vertexId: v.id,
    tooltip: [
      `**${escapeMarkdown(s.title)}** — ${escapeMarkdown(v.status)}, parallelism ${v.parallelism}`,
      '',
      `- records in **${v.readRecords}**, out **${v.writeRecords}**, ${formatPerSecond(s.rate)} in`,
      `- busy **${percent(s.busy)}**, back-pressured **${percent(s.backPressured)}** (${s.level ?? 'not measured yet'})`,
      isBottleneck
        ? '- **the bottleneck**: the busiest task that is not waiting itself; the back-pressured tasks before it wait for it to take their records'
        : '',
      '',
      'The operator chain as Flink names it:',
      '',
      mdFence(v.name),
    ].join('\n'),
  };
}

function watermarksRow(job: FlinkJobSnapshot): FlinkRow {
  const jid = job.detail.jid;
  const rows = watermarkRows(job);
  const children: FlinkRow[] = [];
  for (const r of rows) {
    const watermarkText = r.watermark !== undefined ? `watermark ${formatUtcTime(r.watermark, 'always')}` : 'no watermark yet';
    children.push({
      id: `flink/job/${jid}/watermark/${r.vertexId}`,
      kind: 'watermark',
      label: r.operator,
      description: [watermarkText, r.isSource && r.delayMs !== undefined ? `newest event time − ${formatSpan(r.delayMs)}` : undefined]
        .filter(Boolean)
        .join(' · '),
      icon: ['watch'],
      jobId: jid,
      vertexId: r.vertexId,
      tooltip: [
        `**${escapeMarkdown(r.operator)}**: ${r.watermark !== undefined ? `watermark **${formatUtcTime(r.watermark, 'always')}** UTC (\`${isoUtc(r.watermark)}\`)` : 'no watermark yet'}`,
        '',
        r.isSource
          ? `A watermark says "no event older than this is still expected". The source computes it per Kafka partition as the newest event time it has read${r.delayMs !== undefined ? ` minus ${formatSpan(r.delayMs)} (the out-of-orderness the job tolerates)` : ''}, and sends the smallest over its partitions downstream. A partition without events holds it back until it counts as idle.`
          : "The smallest watermark over this operator's inputs. A window fires — its row is computed and handed to the sinks — once the watermark passes its end. The row appears in the output files when the next checkpoint completes.",
        r.watermark === undefined ? '\nNo watermark yet: every partition must have delivered an event (or be idle) first.' : '',
      ].join('\n'),
    });
    if (r.wait) {
      children.push({
        id: `flink/job/${jid}/window/${r.vertexId}`,
        kind: 'window',
        label: r.wait.text,
        icon: ['clock'],
        jobId: jid,
        vertexId: r.vertexId,
        tooltip: [
          `**The oldest open window** of ${escapeMarkdown(r.operator)}: \`${isoUtc(r.wait.start)}\` to \`${isoUtc(r.wait.end)}\` (as \`window_start\` / \`window_end\` in the output files).`,
          '',
          `Its events are counted, but its row is only emitted when the watermark passes ${formatUtcTime(r.wait.end)} — the watermark is ${formatDuration(r.wait.behindMs)} short of it. Then the row waits in an in-progress file until the next checkpoint commits it.`,
        ].join('\n'),
      });
    }
  }
  const source = job.sources.find((s) => s.emitEventTimeLagMs !== undefined || s.pendingRecords !== undefined);
  if (source) children.push(sourceLagRow(jid, source));
  if (children.length === 0)
    children.push({
      id: `flink/job/${jid}/watermark/none`,
      kind: 'note',
      label: job.detail.state === 'RUNNING' ? 'no window operator in this job' : `no watermarks while the job is ${job.detail.state}`,
      icon: ['info'],
    });
  return {
    id: `flink/job/${jid}/watermarks`,
    kind: 'watermarks',
    label: 'Watermarks',
    description: 'event time, UTC',
    icon: ['watch'],
    expanded: true,
    jobId: jid,
    tooltip:
      "Event time is the time in each event (`ts`), not the time it is processed. Watermarks carry the job's progress in event time from the sources to the windows; a window produces its row only when the watermark passes its end. Times are UTC, as in the output files.",
    children,
  };
}

function sourceLagRow(jid: string, s: SourceProgress): FlinkRow {
  const parts = [];
  if (s.emitEventTimeLagMs !== undefined) parts.push(`${formatMillis(s.emitEventTimeLagMs)} behind`);
  if (s.pendingRecords !== undefined) parts.push(`${s.pendingRecords} records not read yet`);
  const idle = s.idleMs !== undefined && s.idleMs >= 5000;
  if (idle) parts.push(`no new record for ${formatDuration(s.idleMs!)}`);
  return {
    id: `flink/job/${jid}/source-lag/${s.vertexId}`,
    kind: 'note',
    label: 'Source position',
    description: parts.join(' · '),
    icon: ['dashboard'],
    jobId: jid,
    vertexId: s.vertexId,
    tooltip: [
      "**Where the Kafka source reads** (Flink's own source metrics):",
      '',
      s.emitEventTimeLagMs !== undefined
        ? `- the last records it emitted had been written to Kafka **${formatMillis(s.emitEventTimeLagMs)}** before (\`currentEmitEventTimeLag\`): the job is that far behind in time`
        : '',
      idle
        ? `- no new record for **${formatDuration(s.idleMs!)}**: event time stands still, so the watermark does not move and the open window keeps waiting (an idle partition stops holding the watermark back after the idle timeout, but only new events move it forward)`
        : '',
      s.pendingRecords !== undefined
        ? `- **${s.pendingRecords}** records are in the partitions after its read position (\`pendingRecords\`)`
        : '',
      '',
      "The consumer group's lag in the Pipeline view is larger and saws: Flink commits its read position to Kafka only when a checkpoint completes.",
    ]
      .filter((l) => l !== '')
      .join('\n'),
  };
}

function checkpointsRow(job: FlinkJobSnapshot, ctx: FlinkTreeContext): FlinkRow {
  const jid = job.detail.jid;
  const c = job.checkpoints;
  const now = job.detail.now ?? Date.now();
  const children: FlinkRow[] = [];
  const byCheckpoint = c && ctx.files ? filesByCheckpoint(c.history, ctx.files) : undefined;
  if (c) {
    for (const cp of c.history.slice(0, 6))
      children.push(checkpointRow(jid, cp, now, byCheckpoint?.get(cp.id), cp.id === c.latestCompleted?.id));
    if (c.latestFailed && !c.history.some((h) => h.id === c.latestFailed!.id))
      children.push(checkpointRow(jid, c.latestFailed, now, undefined, false));
    if (c.latestRestored) {
      children.push({
        id: `flink/job/${jid}/restored`,
        kind: 'note',
        label: `restored from ${c.latestRestored.isSavepoint ? 'savepoint' : 'checkpoint'} ${c.latestRestored.id}`,
        description: c.latestRestored.restoreTimestamp ? `${formatDuration(now - c.latestRestored.restoreTimestamp)} ago` : undefined,
        icon: ['history'],
        tooltip: `The job started from the state of ${c.latestRestored.isSavepoint ? 'savepoint' : 'checkpoint'} ${c.latestRestored.id}${c.latestRestored.externalPath ? ` (${mdCode(c.latestRestored.externalPath)})` : ''}: its Kafka offsets, its open windows, its pending files. Records after that point are read again; nothing is counted twice, because what they produced after the checkpoint was never committed.`,
      });
    }
  }
  if (children.length === 0)
    children.push({
      id: `flink/job/${jid}/checkpoints/none`,
      kind: 'note',
      label: c ? 'no checkpoint completed yet' : 'checkpoints could not be read',
      icon: ['info'],
    });
  const interval = job.checkpointIntervalMs;
  const last = c?.latestCompleted;
  return {
    id: `flink/job/${jid}/checkpoints`,
    kind: 'checkpoints',
    label: 'Checkpoints',
    description: c
      ? [
          `${c.completed} completed`,
          `${c.failed} failed`,
          c.inProgress ? `${c.inProgress} in progress` : undefined,
          last?.latestAckTimestamp ? `last ${formatDuration(now - last.latestAckTimestamp)} ago` : undefined,
        ]
          .filter(Boolean)
          .join(' · ')
      : 'unknown',
    icon: ['save-all'],
    expanded: true,
    jobId: jid,
    tooltip: [
      `**Checkpoints**${interval ? ` every ${formatSpan(interval)}` : ''}: Flink writes a consistent copy of the job's state — the Kafka offsets it has read up to, the open windows, the files being written — to ${mdCode(last?.externalPath?.replace(/\/chk-\d+$/, '') ?? 'the checkpoint folder')}.`,
      '',
      "**How exactly-once works here**: output files are written hidden (in progress) and become visible only when the checkpoint that covers them completes — the files listed under each checkpoint. Alerts go to Kafka in a transaction committed at the same moment, and the consumer group's offsets are committed then too. After a crash the job restarts from the last completed checkpoint: whatever it had written after it was never committed, so every event is counted once.",
    ].join('\n'),
    children,
  };
}

function checkpointRow(jid: string, cp: FlinkCheckpoint, now: number, files: CommittedFile[] | undefined, latest: boolean): FlinkRow {
  const kind = cp.isSavepoint ? 'savepoint' : 'chk';
  if (cp.status === 'FAILED') {
    const message = cp.failureMessage ?? 'failed';
    return {
      id: `flink/job/${jid}/checkpoint/${cp.id}`,
      kind: 'checkpoint',
      label: `${kind}-${cp.id} failed`,
      description: `${message.split('\n')[0].slice(0, 120)}${cp.failureTimestamp ? ` · ${formatDuration(now - cp.failureTimestamp)} ago` : ''}`,
      icon: ['error', 'errorForeground'],
      flags: ['failed'],
      tooltip: `**${cp.isSavepoint ? 'Savepoint' : 'Checkpoint'} ${cp.id} failed**${cp.failureTimestamp ? ` at ${escapeMarkdown(isoUtc(cp.failureTimestamp))}` : ''}:\n\n${mdFence(message)}\n\nNothing was committed for it: its files stay in progress and are committed by the next checkpoint that completes.`,
    };
  }
  if (cp.status !== 'COMPLETED') {
    return {
      id: `flink/job/${jid}/checkpoint/${cp.id}`,
      kind: 'checkpoint',
      label: `${kind}-${cp.id}`,
      description: `${cp.status.toLowerCase().replace('_', ' ')} · started ${formatDuration(now - cp.triggerTimestamp)} ago`,
      icon: ['loading~spin'],
      flags: ['in-progress'],
    };
  }
  const fileRows = (files ?? []).slice(0, 50).map((f): FlinkRow => ({
    id: `flink/job/${jid}/checkpoint/${cp.id}/file/${f.folder}/${f.name}`,
    kind: 'file',
    label: f.name,
    description: `${f.folder}${f.bytes !== undefined ? ` · ${formatBytes(f.bytes)}` : ''}`,
    icon: ['file'],
    filePath: f.path,
    tooltip: `${mdCode(f.path)}\n\nCommitted (made visible) ${formatDuration(f.changedAtMs - (cp.latestAckTimestamp ?? f.changedAtMs))} after checkpoint ${cp.id} was acknowledged.`,
  }));
  if (files && files.length > 50)
    fileRows.push({
      id: `flink/job/${jid}/checkpoint/${cp.id}/more`,
      kind: 'note',
      label: `… and ${files.length - 50} more files`,
      icon: ['ellipsis'],
    });
  const ack = cp.latestAckTimestamp;
  const description = [
    latest ? 'latest' : undefined,
    cp.endToEndDurationMs !== undefined ? formatMillis(cp.endToEndDurationMs) : undefined,
    cp.checkpointedSize !== undefined ? formatBytes(cp.checkpointedSize) : undefined,
    ack ? `${formatDuration(now - ack)} ago` : undefined,
    files ? plural(files.length, 'file') + ' committed' : undefined,
  ]
    .filter(Boolean)
    .join(' · ');
  return {
    id: `flink/job/${jid}/checkpoint/${cp.id}`,
    kind: 'checkpoint',
    label: `${kind}-${cp.id}`,
    description,
    icon: cp.isSavepoint ? ['save-as'] : ['pass', 'testing.iconPassed'],
    flags: ['completed', latest ? 'latest' : undefined].filter((f): f is string => Boolean(f)),
    expanded: latest && fileRows.length > 0 && fileRows.length <= 8,
    jobId: jid,
    children: files
      ? fileRows.length
        ? fileRows
        : [
            {
              id: `flink/job/${jid}/checkpoint/${cp.id}/nofiles`,
              kind: 'note',
              label: 'no file committed (no new rows since the one before)',
              icon: ['info'],
            },
          ]
      : undefined,
    tooltip: [
      `**${cp.isSavepoint ? 'Savepoint' : 'Checkpoint'} ${cp.id}** completed${ack ? ` at ${escapeMarkdown(isoUtc(ack))}` : ''}`,
      '',
      cp.endToEndDurationMs !== undefined
        ? `- took **${formatMillis(cp.endToEndDurationMs)}** from trigger to the last acknowledgement`
        : '',
      cp.checkpointedSize !== undefined
        ? `- wrote **${formatBytes(cp.checkpointedSize)}**${cp.stateSize !== undefined ? ` (state ${formatBytes(cp.stateSize)})` : ''}`
        : '',
      cp.externalPath ? `- in ${mdCode(cp.externalPath)}` : '',
      files ? `- committed **${plural(files.length, 'output file')}**: they became visible when it completed` : '',
    ]
      .filter((l) => l !== '')
      .join('\n'),
  };
}

/** The readable name of the task an exception happened in: its vertex's, when the task name starts with one. */
function taskTitler(job: FlinkJobSnapshot): (taskName: string | undefined) => string | undefined {
  const plan = planOf(job.detail);
  const longestFirst = [...job.detail.vertices].sort((a, b) => b.name.length - a.name.length);
  return (taskName) => {
    if (!taskName) return undefined;
    const vertex = longestFirst.find((v) => taskName.startsWith(v.name));
    const subtask = /\((\d+\/\d+)\)(?:#\d+)?$/.exec(taskName)?.[1];
    return vertex
      ? `${readableVertexName(vertex.name, plan.get(vertex.id) ?? '')}${subtask ? ` (${subtask})` : ''}`
      : taskName.slice(0, 80);
  };
}

function exceptionsRow(job: FlinkJobSnapshot, now: number): FlinkRow {
  const jid = job.detail.jid;
  const entries = job.exceptions ?? [];
  const taskTitle = taskTitler(job);
  return {
    id: `flink/job/${jid}/exceptions`,
    kind: 'exceptions',
    label: 'Exceptions',
    description: entries.length ? `${entries.length}, newest ${formatDuration(now - entries[0].timestamp)} ago` : 'none',
    icon: ['bug', entries.length ? 'errorForeground' : undefined],
    expanded: entries.length > 0,
    jobId: jid,
    tooltip: 'The failures that made Flink restart (or fail) the job, newest first. Click one to read its stack trace.',
    children: entries.map((e, i): FlinkRow => ({
      id: `flink/job/${jid}/exception/${e.timestamp}-${i}`,
      kind: 'exception',
      label: exceptionHeadline(e),
      description: [`${formatDuration(now - e.timestamp)} ago`, taskTitle(e.taskName)].filter(Boolean).join(' · '),
      icon: ['error', 'errorForeground'],
      exception: e,
      jobId: jid,
      tooltip: `**${escapeMarkdown(exceptionHeadline(e))}**\n\n${escapeMarkdown(isoUtc(e.timestamp))}${e.taskName ? ` in ${escapeMarkdown(e.taskName)}` : ''}${e.location ? ` on ${escapeMarkdown(e.location)}` : ''}${e.concurrent ? ` (+${e.concurrent} at the same time)` : ''}\n\nClick to open the stack trace.`,
    })),
  };
}

/** The stack trace document of one exception. */
export function exceptionDocument(jobName: string, e: FlinkException): string {
  return [
    `// ${jobName}: ${exceptionHeadline(e)}`,
    `// at ${isoUtc(e.timestamp)}${e.taskName ? ` in ${e.taskName}` : ''}${e.location ? ` on ${e.location}` : ''}`,
    '',
    e.stacktrace || e.exceptionName,
    '',
  ].join('\n');
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
