// The job's lag over the last minutes: records behind (the consumer group) and seconds behind (the source).
import { formatDuration, formatSpan, sparkline } from '../shared/format';

export interface LagSample {
  at: number;
  /** End offsets − the group's committed offsets (moves only when a checkpoint commits them). */
  records?: number;
  /** How far behind the records the job's source emits are (Flink's currentEmitEventTimeLag), in ms. */
  behindMs?: number;
}

/** The last samples of one group on one topic, up to `keepMs` old (five minutes by default). */
export class LagTrend {
  private samples: LagSample[] = [];
  private key: string | undefined;

  constructor(private readonly keepMs = 300_000) {}

  /** `key` names what is sampled (cluster, topic, group): another key starts over. */
  add(key: string, sample: LagSample): void {
    if (key !== this.key) {
      this.samples = [];
      this.key = key;
    }
    this.samples.push(sample);
    const oldest = sample.at - this.keepMs;
    while (this.samples.length > 0 && this.samples[0].at < oldest) this.samples.shift();
  }

  get all(): readonly LagSample[] {
    return this.samples;
  }

  reset(): void {
    this.samples = [];
    this.key = undefined;
  }
}

/** The trend of the last `count` samples as a sparkline, with the span it covers. */
export function lagSparkline(
  samples: readonly LagSample[],
  field: 'records' | 'behindMs',
  count = 24,
): { line: string; spanMs: number } | undefined {
  const last = samples.slice(-count);
  if (last.filter((s) => s[field] !== undefined).length < 2) return undefined;
  // Below 10 records or 1 s, the line stays low: that much lag is none to speak of.
  return {
    line: sparkline(
      last.map((s) => s[field]),
      field === 'records' ? 10 : 1000,
    ),
    spanMs: last[last.length - 1].at - last[0].at,
  };
}

/**
 * Why the group's lag saws: the Flink source reads continuously but commits its offsets to the group only when a
 * checkpoint completes.
 */
export function lagSawNote(checkpointIntervalMs: number | undefined): string {
  const every = checkpointIntervalMs ? ` (every ${formatSpan(checkpointIntervalMs)})` : '';
  return `The record lag saws with the checkpoint interval: Flink commits the group's offsets to Kafka only when a checkpoint completes${every}, so between checkpoints the committed offset stands still while records keep arriving, then jumps.`;
}

/** How far behind in time: `0.03 s`, `4.2 s`, `3 min 12 s`. */
export const formatBehind = (ms: number) => (ms < 1000 ? `${(ms / 1000).toFixed(2)} s` : formatDuration(ms));

/** `530 records · 0.03 s behind`, from the newest sample. */
export function lagWords(records: number | undefined, behindMs: number | undefined): string {
  const parts: string[] = [];
  if (records !== undefined) parts.push(`${records} records`);
  if (behindMs !== undefined) parts.push(`${formatBehind(behindMs)} behind`);
  return parts.join(' · ');
}
