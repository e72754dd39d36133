import * as assert from 'node:assert/strict';
import { formatRate, RateMeter, ratePerSecond, sumEndOffsets } from '../../src/kafka/rates';

describe('ingest rate from end-offset deltas', () => {
  it('sums the high watermarks of all partitions', () => {
    assert.equal(
      sumEndOffsets([
        { partition: 0, low: 5, high: 100 },
        { partition: 1, low: 0, high: 50 },
      ]),
      150,
    );
  });

  it('rate = records added / seconds elapsed', () => {
    assert.equal(ratePerSecond({ total: 1000, atMs: 0 }, { total: 1500, atMs: 5000 }), 100);
    assert.equal(ratePerSecond({ total: 1000, atMs: 0 }, { total: 1000, atMs: 2000 }), 0);
  });

  it('no rate without a previous sample, without elapsed time, or when the total shrank (topic recreated)', () => {
    assert.equal(ratePerSecond(undefined, { total: 1, atMs: 1 }), undefined);
    assert.equal(ratePerSecond({ total: 1, atMs: 10 }, { total: 5, atMs: 10 }), undefined);
    assert.equal(ratePerSecond({ total: 500, atMs: 0 }, { total: 20, atMs: 1000 }), undefined);
  });

  it('the meter starts over when what it samples changes', () => {
    const meter = new RateMeter();
    assert.equal(meter.sample('a/sensor-data', 0, 0), undefined);
    assert.equal(meter.sample('a/sensor-data', 250, 2500), 100);
    assert.equal(meter.sample('a/other', 9999, 3000), undefined);
    assert.equal(meter.sample('a/other', 10009, 4000), 10);
    meter.reset();
    assert.equal(meter.sample('a/other', 10019, 5000), undefined);
  });

  it('formats for the status bar', () => {
    assert.equal(formatRate(undefined), '– msg/s');
    assert.equal(formatRate(0), '0 msg/s');
    assert.equal(formatRate(0.5), '0.5 msg/s');
    assert.equal(formatRate(99.6), '100 msg/s');
    assert.equal(formatRate(1234), '1.2k msg/s');
    assert.equal(formatRate(56_789), '57k msg/s');
  });
});
