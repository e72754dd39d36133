import * as assert from 'node:assert/strict';
import { consumerPerformanceRate, producerPerformanceRate, readTiming } from '../../src/cli/bench/jobBench';

// Printed by Kafka 4.4.0's tools (kafka-tools, run here against the local broker).
const PRODUCER_OUTPUT = `Reading payloads from: /tmp/exp-ws/payloads.txt
Number of records read: 10000
200000 records sent, 103626.943005 records/sec (16.37 MB/sec), 35.10 ms avg latency, 392.00 ms max latency, 16 ms 50th, 126 ms 95th, 141 ms 99th, 166 ms 99.9th.
`;
const CONSUMER_OUTPUT = `start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec
2026-12-04 18:09:29:168, 2026-12-04 18:09:29:919, 31.6001, 42.0774, 200000, 266311.5846, 358, 393, 80.4075, 508905.8524
`;

describe('the job benchmark', () => {
  it("reads ProducerPerformance's summary line", () => {
    assert.equal(producerPerformanceRate(PRODUCER_OUTPUT), 103626.943005);
    assert.throws(() => producerPerformanceRate('Reading payloads from: x\n'), /no summary/);
  });
  it("reads ConsumerPerformance's fetch rate, without the group join", () => {
    assert.equal(consumerPerformanceRate(CONSUMER_OUTPUT), 508905.8524);
    assert.throws(() => consumerPerformanceRate('WARN something\n'), /no figures/);
  });
  it('times a read from REST samples: average from the first record, steady between 20 % and 80 %', () => {
    const samples = [
      { at: 10, read: 0 },
      { at: 11, read: 50 },
      { at: 12, read: 250 },
      { at: 13, read: 500 },
      { at: 14, read: 850 },
      { at: 15, read: 1000 },
    ];
    const t = readTiming(samples, 1000, 9.5);
    assert.equal(t.runningSeconds, 9.5);
    assert.equal(t.averageRate, 1000 / 4);
    assert.equal(t.steadyRate, (850 - 250) / 2);
    assert.throws(() => readTiming(samples.slice(0, 4), 1000, 9.5), /did not read 1000/);
  });
});
