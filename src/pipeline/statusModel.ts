// The pipeline's state for the status bar and the Pipeline view (a PipelineSnapshot) and its text: labels, colours, tooltips.
import { mdCode, mdText } from '../shared/markdown';
import { lagSawNote, lagWords, type LagSample, lagSparkline } from './lagTrend';
import { formatRate } from '../kafka/rates';

export type ProcessPhase = 'running' | 'starting' | 'stopping' | 'stopped' | 'failed';

/** One picture of the pipeline, rendered by the status bar item and the Pipeline view. */
export interface PipelineSnapshot {
  broker: { state: 'up' | 'down' | 'degraded' | 'unknown'; address: string; local: boolean; detail?: string; brokers?: number };
  topic: string;
  ingestRate?: number;
  endOffsetTotal?: number;
  generator: ProcessPhase;
  job: {
    phase: ProcessPhase;
    flinkState?: string;
    name?: string;
    jid?: string;
    restAddress: string;
    restReachable: boolean;
    groupId: string;
    lag?: number;
    lagNote?: string;
    /** How far behind the records the job's source emits are (ms; Flink's currentEmitEventTimeLag). */
    behindMs?: number;
    restarts?: number;
    /** The newest exception of the job: its first line, and when. */
    exception?: { headline: string; at: number };
    /** Restarting now, or restarted within the last minute. */
    restarting?: boolean;
    checkpointIntervalMs?: number;
  };
  /** The job's lag over the last minutes (newest last). */
  lagTrend?: readonly LagSample[];
  updatedAt: number;
}

export function emptySnapshot(address: string, topic: string, restAddress: string, groupId: string): PipelineSnapshot {
  return {
    broker: { state: 'unknown', address, local: true },
    topic,
    generator: 'stopped',
    job: { phase: 'stopped', restAddress, restReachable: false, groupId },
    updatedAt: 0,
  };
}

/** Lag at or above this many records colours the status bar as a warning. */
export const LAG_WARNING = 10_000;

export type Severity = 'ok' | 'warning' | 'error';

export interface StatusRendering {
  text: string;
  severity: Severity;
  /** Markdown. */
  tooltip: string;
}

const brokerWord = { up: 'up', down: 'down', degraded: 'degraded', unknown: '…' } as const;

export function jobWord(job: PipelineSnapshot['job']): string {
  if (job.flinkState && job.restReachable) return job.flinkState;
  return job.phase;
}

export function renderStatus(s: PipelineSnapshot): StatusRendering {
  const parts = [`$(database) Kafka ${brokerWord[s.broker.state]}`];
  if (s.broker.state === 'up' || s.broker.state === 'degraded') parts.push(formatRate(s.ingestRate));
  const job = jobWord(s.job);
  const restarts = s.job.restarting && s.job.restarts ? ` · ${s.job.restarts} restarts` : '';
  parts.push(`$(zap) Flink ${job}${restarts}${s.job.lag !== undefined && s.job.phase !== 'stopped' ? ` · lag ${s.job.lag}` : ''}`);

  let severity: Severity = 'ok';
  /** Markdown: values in them are escaped. */
  const problems: string[] = [];
  if (s.job.phase === 'failed')
    problems.push(
      `The Flink job failed${s.job.exception ? `: ${mdText(s.job.exception.headline)}` : ''} — see the Flink view's exceptions.`,
    );
  else if (s.job.restarting)
    problems.push(
      `The Flink job keeps restarting (${s.job.restarts ?? '?'} restarts)${s.job.exception ? `: ${mdText(s.job.exception.headline)}` : ''} — see the Flink view's exceptions.`,
    );
  if (s.generator === 'failed') problems.push('The sensor generator exited with an error: see its terminal.');
  if (s.broker.state === 'down' && (s.generator === 'running' || s.job.phase === 'running'))
    problems.push(`Kafka at ${mdCode(s.broker.address)} is down while the pipeline runs.`);
  if (problems.length > 0) severity = 'error';
  else if (s.broker.state === 'degraded' || (s.job.phase === 'running' && (s.job.lag ?? 0) >= LAG_WARNING)) severity = 'warning';

  // The tooltip is trusted with command links: every value from settings, Kafka or Flink goes in escaped.
  const lines = [
    `**Kafka Flink Lab**`,
    '',
    `- **Kafka** at ${mdCode(s.broker.address)}${s.broker.local ? ' (local stack)' : ''}: ${s.broker.state}${s.broker.brokers ? `, ${s.broker.brokers} broker${s.broker.brokers === 1 ? '' : 's'}` : ''}${s.broker.detail ? ` — ${mdText(s.broker.detail)}` : ''}`,
    `- **Ingest** into ${mdCode(s.topic)}: ${formatRate(s.ingestRate)}${s.endOffsetTotal !== undefined ? ` (sum of end offsets ${s.endOffsetTotal})` : ''} — measured from the growth of the partitions' end offsets between refreshes`,
    `- **Sensor generator**: ${s.generator}`,
    `- **Flink job**${s.job.name ? ` ${mdCode(s.job.name)}` : ''}: ${mdText(job)}${s.job.restarts ? `, ${s.job.restarts} restarts` : ''}${s.job.restReachable ? '' : ` (REST API at ${mdCode(s.job.restAddress)} not reachable)`}`,
    `- **Lag** of group ${mdCode(s.job.groupId)}: ${s.job.lag !== undefined ? `${s.job.lag} records not yet processed` : mdText(s.job.lagNote ?? 'unknown')}${s.job.behindMs !== undefined ? `; the job reads ${lagWords(undefined, s.job.behindMs)}` : ''}`,
    ...lagTrendLines(s),
    ...(problems.length ? ['', ...problems.map((p) => `$(error) ${p}`)] : []),
    '',
    '[Actions…](command:kafkaFlinkLab.pipeline.showActions) · [Refresh](command:kafkaFlinkLab.pipeline.refresh) · [Show log](command:kafkaFlinkLab.log.show)',
    '',
    `_Updated ${s.updatedAt ? new Date(s.updatedAt).toLocaleTimeString() : 'never'}_`,
  ];
  return { text: parts.join(' · '), severity, tooltip: lines.join('\n') };
}

/** The lag trend and the note on its saw, for the tooltip (nothing until there are two samples). */
export function lagTrendLines(s: PipelineSnapshot): string[] {
  const records = lagSparkline(s.lagTrend ?? [], 'records');
  const behind = lagSparkline(s.lagTrend ?? [], 'behindMs');
  if (!records && !behind) return [];
  const span = Math.round((records ?? behind)!.spanMs / 1000);
  return [
    `- **Lag trend**, last ${span} s: ${records ? `records \`${records.line}\`` : ''}${records && behind ? ' · ' : ''}${behind ? `seconds behind \`${behind.line}\`` : ''}`,
    `- ${lagSawNote(s.job.checkpointIntervalMs)}`,
  ];
}
