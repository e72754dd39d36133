// The Flink view's operator rows: records in and out, rates, busy time, backpressure and the bottleneck of each task.
import { escapeMarkdown, formatPerSecond } from '../shared/format';
import { mdFence } from '../shared/markdown';
import { disambiguate, planOf, readableVertexName } from './flinkChains';
import type { FlinkJobDetail, FlinkJobSnapshot, FlinkVertex } from './flinkRestTypes';
import type { FlinkRow } from './flinkRows';

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

const percent = (x: number | undefined) => (x === undefined ? '–' : `${Math.round(x * 100)}%`);

/**
 * Where a back-pressured job is slow: the busiest task that is not itself waiting (its back-pressured inputs wait for
 * it). Undefined while nothing is back-pressured.
 */
export function bottleneck(stats: OperatorStats[]): OperatorStats | undefined {
  if (!stats.some((s) => s.level === 'HIGH' || s.level === 'LOW')) return undefined;
  const candidates = stats.filter((s) => s.level === 'OK' && s.busy !== undefined).sort((a, b) => b.busy! - a.busy!);
  return candidates[0] && candidates[0].busy! >= 0.5 ? candidates[0] : undefined;
}

export function operatorsRow(job: FlinkJobSnapshot, stats: OperatorStats[]): FlinkRow {
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
      ? stats.map((s) => operatorRow(jid, s, s === slowest, job.sourcePartitions?.[s.vertex.id]))
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

/** "partition 0 of sensor-data", "partitions 0, 2 of sensor-data", or per topic when a subtask reads several. */
function partitionsText(parts: { topic: string; partition: number }[]): string {
  const topics = [...new Set(parts.map((p) => p.topic))];
  return topics
    .map((t) => {
      const ps = parts.filter((p) => p.topic === t).map((p) => p.partition);
      return `partition${ps.length === 1 ? '' : 's'} ${ps.join(', ')} of ${t}`;
    })
    .join('; ');
}

/**
 * The Kafka source's subtasks, each with the partitions it reads: Flink's side of a consumer group. Flink assigns the
 * partitions itself (its group has no members); at a parallelism above the partition count a subtask is idle.
 */
export function subtaskRows(jid: string, vertexId: string, subtasks: { topic: string; partition: number }[][]): FlinkRow[] {
  const partitions = new Set(subtasks.flat().map((p) => `${p.topic}/${p.partition}`)).size;
  return subtasks.map((parts, i) => {
    const idle = parts.length === 0;
    return {
      id: `flink/job/${jid}/operator/${vertexId}/subtask/${i}`,
      kind: 'subtask',
      label: `subtask ${i}`,
      description: idle ? 'idle: no partition to read' : `reads ${partitionsText(parts)}`,
      icon: idle ? ['debug-pause', 'list.warningForeground'] : ['arrow-small-right'],
      flags: [idle ? 'idle' : 'reading'],
      jobId: jid,
      vertexId,
      tooltip: idle
        ? `**Subtask ${i} is idle.** The Kafka source gives each partition to exactly one of its subtasks, as a consumer group gives each partition to one member: ${subtasks.length} subtasks share ${partitions} ${partitions === 1 ? 'partition' : 'partitions'} here, so ${subtasks.length - partitions === 1 ? 'one has' : `${subtasks.length - partitions} have`} nothing to read. A lower parallelism (\`kafkaFlinkLab.job.parallelism\`), or more partitions, puts it to work.`
        : `**Subtask ${i}** of the source reads ${escapeMarkdown(partitionsText(parts))}: only this subtask reads ${parts.length === 1 ? 'it' : 'them'}. Flink splits a topic's partitions among the source's ${subtasks.length} subtasks itself — the same idea as a consumer group, but the job's group has no members: Flink only commits offsets to it.`,
    };
  });
}

function operatorRow(jid: string, s: OperatorStats, isBottleneck: boolean, subtasks?: { topic: string; partition: number }[][]): FlinkRow {
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
    ...(subtasks && subtasks.length > 0 ? { children: subtaskRows(jid, v.id, subtasks), expanded: subtasks.length > 1 } : {}),
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
