// The Flink view's watermark rows: each source's and window operator's watermark, the window that waits, the source's position.
import { escapeMarkdown, formatDuration, formatMillis, formatSpan, formatUtcTime, isoUtc } from '../shared/format';
import {
  chainedOperators,
  disambiguate,
  hasWindowOperator,
  isSourceVertex,
  planOf,
  shapeWords,
  watermarkDelayMs,
  windowShape,
  type WindowShape,
} from './flinkChains';
import type { FlinkJobSnapshot, SourceProgress } from './flinkRestTypes';
import type { FlinkRow } from './flinkRows';

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

export function watermarksRow(job: FlinkJobSnapshot): FlinkRow {
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
