// The pipeline snapshot builder: given one poll's readings (broker, offsets, lag, the Flink job, the processes), the fields the status bar and views show.
import * as assert from 'node:assert/strict';
import { UserError } from '../../src/shared/errors';
import type { FlinkException } from '../../src/flink/flinkRestTypes';
import type { FlinkJobHealth } from '../../src/flink/flinkSnapshot';
import { RateMeter } from '../../src/kafka/rates';
import { LagTrend } from '../../src/pipeline/lagTrend';
import { buildSnapshot, type KafkaReadings, type PipelineReadings, type PollHistory } from '../../src/pipeline/pipelineSnapshot';

const NOW = 1_700_000_000_000;

const history = (): PollHistory => ({ rate: new RateMeter(), lagTrend: new LagTrend() });

const reachable = (high: number[], lagRows: { partition: number; committed?: number; end?: number; lag?: number }[] = [], readAt = NOW) =>
  ({
    reachable: true,
    brokers: 3,
    offsets: { status: 'fulfilled', value: high.map((h, partition) => ({ partition, low: 0, high: h })) },
    lag: { status: 'fulfilled', value: lagRows.map((r) => ({ topic: 'sensor-data', ...r })) },
    readAt,
  }) satisfies KafkaReadings;

/** Flink's REST API answering with one job in `state`. */
function flinkJob(state: string, health: FlinkJobHealth = {}): PipelineReadings['flink'] {
  const job = { jid: 'a1b2', name: 'sensor-processor', state, startTime: NOW - 60_000, duration: 60_000 };
  return { reachable: true, jobs: [job], current: job, health };
}

/** The newest exception of a job, `agoMs` before the poll. */
const thrown = (exceptionName: string, message: string, agoMs: number): FlinkException => ({
  exceptionName,
  stacktrace: `${exceptionName}: ${message}\n\tat x`,
  timestamp: NOW - agoMs,
  concurrent: 0,
});

function readings(patch: Partial<PipelineReadings> = {}): PipelineReadings {
  return {
    primary: { key: '127.0.0.1:9092', bootstrapServers: '127.0.0.1:9092', local: true },
    topic: 'sensor-data',
    groupId: 'flink-sensor-processor',
    restAddress: 'http://127.0.0.1:8081',
    localRunning: true,
    kafka: reachable([100, 200]),
    flink: { reachable: false, jobs: [], health: {} },
    generator: 'stopped',
    jobProcess: 'stopped',
    now: NOW,
    ...patch,
  };
}

describe('the pipeline snapshot from one poll’s readings', () => {
  it('a broker that answers: its brokers and the summed end offsets', () => {
    const s = buildSnapshot(readings(), history());
    assert.deepEqual(s.broker, { state: 'up', address: '127.0.0.1:9092', local: true, brokers: 3 });
    assert.equal(s.endOffsetTotal, 300);
    assert.equal(s.ingestRate, undefined, 'one sample is no rate yet');
    assert.equal(s.updatedAt, NOW);
  });

  it('a broker that does not answer is down, or degraded while the local stack runs', () => {
    const refused = new Error('connect ECONNREFUSED 127.0.0.1:9092');
    const down = buildSnapshot(readings({ localRunning: false, kafka: { reachable: false, error: refused } }), history());
    assert.deepEqual(down.broker, { state: 'down', address: '127.0.0.1:9092', local: true, detail: undefined });
    assert.equal(down.job.lagNote, 'Kafka is not reachable');
    assert.equal(down.endOffsetTotal, undefined);

    const degraded = buildSnapshot(readings({ kafka: { reachable: false, error: refused } }), history());
    assert.equal(degraded.broker.state, 'degraded');
    assert.match(degraded.broker.detail!, /the broker process runs but does not answer: .*ECONNREFUSED/);
  });

  it('a refusal of ours says what to do even when the broker is down', () => {
    const noPassword = new UserError('No SASL password is stored for this cluster.');
    const remote = { key: 'kafka.example.com:9093', bootstrapServers: 'kafka.example.com:9093', local: false };
    const s = buildSnapshot(readings({ primary: remote, kafka: { reachable: false, error: noPassword } }), history());
    assert.equal(s.broker.state, 'down');
    assert.equal(s.broker.detail, 'No SASL password is stored for this cluster.');
  });

  it('the offsets that failed leave the broker up with why, and no rate', () => {
    const kafka: KafkaReadings = { ...reachable([]), offsets: { status: 'rejected', reason: new Error('NOT_LEADER_OR_FOLLOWER') } };
    const s = buildSnapshot(readings({ kafka }), history());
    assert.equal(s.broker.state, 'up');
    assert.match(s.broker.detail!, /NOT_LEADER_OR_FOLLOWER/);
    assert.equal(s.endOffsetTotal, undefined);
    assert.equal(s.ingestRate, undefined);
  });

  it('the ingest rate comes from two polls’ end offsets, and starts over on another topic', () => {
    const kept = history();
    buildSnapshot(readings({ kafka: reachable([100, 200], [], NOW) }), kept);
    const second = buildSnapshot(readings({ kafka: reachable([350, 450], [], NOW + 5000), now: NOW + 5000 }), kept);
    assert.equal(second.ingestRate, 100);
    const otherTopic = buildSnapshot(readings({ topic: 'other', kafka: reachable([900], [], NOW + 10_000), now: NOW + 10_000 }), kept);
    assert.equal(otherTopic.ingestRate, undefined);
  });

  it('the group’s lag on the topic, its trend, and why there is none', () => {
    const kept = history();
    const rows = [
      { partition: 0, committed: 90, end: 100, lag: 10 },
      { partition: 1, committed: 170, end: 200, lag: 30 },
    ];
    const first = buildSnapshot(readings({ kafka: reachable([100, 200], rows) }), kept);
    assert.equal(first.job.lag, 40);
    assert.equal(first.job.lagNote, undefined);
    const second = buildSnapshot(readings({ kafka: reachable([100, 200], rows.slice(0, 1)), now: NOW + 2000 }), kept);
    assert.deepEqual(
      second.lagTrend?.map((t) => [t.at, t.records]),
      [
        [NOW, 40],
        [NOW + 2000, 10],
      ],
    );

    const none = buildSnapshot(readings({ kafka: reachable([100], [{ partition: 0, end: 100 }]) }), history());
    assert.equal(none.job.lag, undefined);
    assert.equal(none.job.lagNote, 'no committed offsets yet');
    assert.deepEqual(none.lagTrend, []);

    const kafka: KafkaReadings = { ...reachable([100]), lag: { status: 'rejected', reason: new Error('COORDINATOR_NOT_AVAILABLE') } };
    assert.match(buildSnapshot(readings({ kafka }), history()).job.lagNote!, /COORDINATOR_NOT_AVAILABLE/);
  });

  it('a running job: Flink’s state wins over its process, and its source’s lag in time joins the trend', () => {
    const s = buildSnapshot(
      readings({
        jobProcess: 'running',
        generator: 'running',
        flink: flinkJob('RUNNING', { restarts: 0, checkpointIntervalMs: 10_000, source: { vertexId: 'v1', emitEventTimeLagMs: 30 } }),
      }),
      history(),
    );
    assert.equal(s.generator, 'running');
    assert.equal(s.job.phase, 'running');
    assert.equal(s.job.flinkState, 'RUNNING');
    assert.equal(s.job.jid, 'a1b2');
    assert.equal(s.job.restReachable, true);
    assert.equal(s.job.restarting, false);
    assert.equal(s.job.behindMs, 30);
    assert.equal(s.job.checkpointIntervalMs, 10_000);
    assert.deepEqual(s.lagTrend, [{ at: NOW, records: undefined, behindMs: 30 }]);
  });

  it('a job process without a job yet is starting; one being stopped stays stopping', () => {
    assert.equal(buildSnapshot(readings({ jobProcess: 'running' }), history()).job.phase, 'starting');
    assert.equal(buildSnapshot(readings({ jobProcess: 'stopping', flink: flinkJob('RUNNING') }), history()).job.phase, 'stopping');
  });

  it('a failed job, with its newest exception', () => {
    const exception = thrown('org.apache.flink.runtime.JobException', 'Recovery is suppressed', 600_000);
    const s = buildSnapshot(readings({ flink: flinkJob('FAILED', { restarts: 3, newestException: exception }) }), history());
    assert.equal(s.job.phase, 'failed');
    assert.deepEqual(s.job.exception, { headline: 'JobException: Recovery is suppressed', at: NOW - 600_000 });
    assert.equal(s.job.restarting, false, 'its last restart is ten minutes old');
  });

  it('a restarting job: failing over now, or restarted within the last minute', () => {
    const now = buildSnapshot(readings({ flink: flinkJob('RESTARTING', { restarts: 1 }) }), history());
    assert.equal(now.job.phase, 'starting');
    assert.equal(now.job.restarting, true);

    const exception = thrown('java.lang.RuntimeException', 'boom', 20_000);
    const recent = buildSnapshot(readings({ flink: flinkJob('RUNNING', { restarts: 2, newestException: exception }) }), history());
    assert.equal(recent.job.phase, 'running');
    assert.equal(recent.job.restarting, true);
    assert.equal(recent.job.restarts, 2);
  });
});
