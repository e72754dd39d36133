// The pipeline's snapshot from one poll's readings (the broker, offsets, lag, the Flink job, the processes), without I/O.
import { errorMessage, UserError } from '../shared/errors';
import { phaseOfFlinkState } from '../flink/flinkJobs';
import { exceptionHeadline } from '../flink/flinkExceptions';
import { isRestarting } from '../flink/flinkTree';
import type { FlinkOverview } from '../flink/flinkRest';
import type { FlinkJobHealth } from '../flink/flinkSnapshot';
import type { GroupPartitionLag, PartitionOffsets } from '../kafka/kafkaModels';
import { summarizeLag } from '../kafka/lag';
import { sumEndOffsets, type RateMeter } from '../kafka/rates';
import type { LagTrend } from './lagTrend';
import type { PipelineSnapshot, ProcessPhase } from './statusModel';

/** The primary cluster as one poll read it: why it did not answer, or its brokers, the topic's offsets and the group's lag. */
export type KafkaReadings =
  | { reachable: false; error: unknown }
  | {
      reachable: true;
      brokers: number;
      offsets: PromiseSettledResult<PartitionOffsets[]>;
      lag: PromiseSettledResult<GroupPartitionLag[]>;
      /** Date.now() when the offsets arrived: the time of the rate's sample. */
      readAt: number;
    };

export interface PipelineReadings {
  /** The cluster the pipeline uses; its key names what the rate and the lag trend sample. */
  primary: { key: string; bootstrapServers: string; local: boolean };
  topic: string;
  groupId: string;
  restAddress: string;
  /** Whether the local stack runs: a local broker that does not answer is then degraded rather than down. */
  localRunning: boolean;
  kafka: KafkaReadings;
  flink: FlinkOverview & { health: FlinkJobHealth };
  generator: ProcessPhase;
  /** The job's Python process (its terminal and its tracked pid), whatever Flink says. */
  jobProcess: ProcessPhase;
  now: number;
}

/** What the monitor keeps from poll to poll: the last end-offset sample (for the rate) and the lag samples. */
export interface PollHistory {
  rate: RateMeter;
  lagTrend: LagTrend;
}

type KafkaPart = Pick<PipelineSnapshot, 'broker' | 'ingestRate' | 'endOffsetTotal'> & { lag?: number; lagNote?: string };

function kafkaPart(readings: PipelineReadings, rate: RateMeter): KafkaPart {
  const { primary, topic, kafka } = readings;
  if (!kafka.reachable) {
    rate.reset();
    const state = primary.local && readings.localRunning ? 'degraded' : 'down';
    // A refusal of ours (no password stored for this cluster, SASL without TLS) says what to do.
    const detail =
      state === 'degraded'
        ? `the broker process runs but does not answer: ${errorMessage(kafka.error)}`
        : kafka.error instanceof UserError
          ? errorMessage(kafka.error)
          : undefined;
    return { broker: { state, address: primary.bootstrapServers, local: primary.local, detail } };
  }
  const part: KafkaPart = { broker: { state: 'up', address: primary.bootstrapServers, local: primary.local, brokers: kafka.brokers } };
  if (kafka.offsets.status === 'fulfilled') {
    part.endOffsetTotal = sumEndOffsets(kafka.offsets.value);
    part.ingestRate = rate.sample(`${primary.key}/${topic}`, part.endOffsetTotal, kafka.readAt);
  } else {
    rate.reset();
    part.broker.detail = errorMessage(kafka.offsets.reason);
  }
  if (kafka.lag.status === 'fulfilled') {
    const summary = summarizeLag(kafka.lag.value.filter((r) => r.topic === topic));
    part.lag = summary.total;
    if (summary.total === undefined) part.lagNote = 'no committed offsets yet';
  } else part.lagNote = errorMessage(kafka.lag.reason);
  return part;
}

/** Flink's state of the job wins while its REST API answers; the process tells the rest (a job process without a job yet is starting). */
function jobPhaseOf(flink: PipelineReadings['flink'], jobProcess: ProcessPhase): ProcessPhase {
  if (flink.reachable && flink.current) return jobProcess === 'stopping' ? 'stopping' : phaseOfFlinkState(flink.current.state);
  if (jobProcess === 'running') return 'starting';
  return jobProcess;
}

/**
 * One picture of the pipeline for the status bar and the Pipeline view. The rate and the lag trend come from
 * `history`, which this records the new samples in.
 */
export function buildSnapshot(readings: PipelineReadings, history: PollHistory): PipelineSnapshot {
  const { primary, topic, groupId, restAddress, flink, now } = readings;
  const kafka = kafkaPart(readings, history.rate);
  const health = flink.health;
  const exception = health.newestException
    ? { headline: exceptionHeadline(health.newestException), at: health.newestException.timestamp }
    : undefined;
  const behindMs = health.source?.emitEventTimeLagMs;
  if (kafka.lag !== undefined || behindMs !== undefined)
    history.lagTrend.add(`${primary.key}/${topic}/${groupId}`, { at: now, records: kafka.lag, behindMs });
  return {
    broker: kafka.broker,
    topic,
    ingestRate: kafka.ingestRate,
    endOffsetTotal: kafka.endOffsetTotal,
    generator: readings.generator,
    job: {
      phase: jobPhaseOf(flink, readings.jobProcess),
      flinkState: flink.current?.state,
      name: flink.current?.name,
      jid: flink.current?.jid,
      restAddress,
      restReachable: flink.reachable,
      groupId,
      lag: kafka.lag,
      lagNote: kafka.lagNote ?? (kafka.broker.state === 'up' ? undefined : 'Kafka is not reachable'),
      behindMs,
      restarts: health.restarts,
      exception,
      restarting: isRestarting(flink.current?.state, health.restarts, exception?.at, now),
      checkpointIntervalMs: health.checkpointIntervalMs,
    },
    lagTrend: [...history.lagTrend.all],
    updatedAt: now,
  };
}
