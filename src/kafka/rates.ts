// Ingest rates from the topic's summed end offsets, sampled between polls.
import { rateNumber } from '../shared/format';
import type { PartitionOffsets } from './kafkaModels';

/** Sum of the end offsets (high watermarks) of a topic's partitions: grows by one per record written. */
export function sumEndOffsets(offsets: PartitionOffsets[]): number {
  return offsets.reduce((sum, o) => sum + o.high, 0);
}

export interface OffsetSample {
  total: number;
  atMs: number;
}

/**
 * Records per second between two samples of the summed end offsets. Undefined without a previous sample, when
 * no time passed, or when the total went down (the topic was deleted and recreated): there is no rate to tell.
 */
export function ratePerSecond(previous: OffsetSample | undefined, next: OffsetSample): number | undefined {
  if (!previous) return undefined;
  const elapsedMs = next.atMs - previous.atMs;
  if (elapsedMs <= 0 || next.total < previous.total) return undefined;
  return ((next.total - previous.total) * 1000) / elapsedMs;
}

/** Keeps the last sample of one topic and turns each new one into a rate. */
export class RateMeter {
  private last: OffsetSample | undefined;
  private key: string | undefined;

  /** `key` names what is sampled (cluster + topic): a different key starts over. */
  sample(key: string, total: number, atMs: number): number | undefined {
    const previous = this.key === key ? this.last : undefined;
    this.key = key;
    this.last = { total, atMs };
    return ratePerSecond(previous, this.last);
  }

  reset(): void {
    this.last = undefined;
    this.key = undefined;
  }
}

export function formatRate(rate: number | undefined): string {
  return `${rate === undefined ? '–' : rateNumber(rate)} msg/s`;
}
