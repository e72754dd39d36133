import * as assert from 'node:assert/strict';
import { planOffsetReset, resetRefusal } from '../../src/kafka/offsetReset';

const offsets = [
  { partition: 0, low: 10, high: 100 },
  { partition: 1, low: 0, high: 50 },
];

describe('resetting a consumer group', () => {
  it('earliest, latest and a timestamp per partition', () => {
    assert.deepEqual(planOffsetReset(offsets, 'all', { kind: 'earliest' }), [
      { partition: 0, offset: 10 },
      { partition: 1, offset: 0 },
    ]);
    assert.deepEqual(planOffsetReset(offsets, 1, { kind: 'latest' }), [{ partition: 1, offset: 50 }]);
    assert.deepEqual(
      planOffsetReset(offsets, 'all', { kind: 'timestamp', timestampMs: 5 }, new Map([[0, 20]])),
      [
        { partition: 0, offset: 20 },
        { partition: 1, offset: 50 },
      ],
      'a partition with nothing that new goes to its end',
    );
  });

  it('a given offset must lie within every chosen partition', () => {
    assert.deepEqual(planOffsetReset(offsets, 0, { kind: 'offset', offset: 10 }), [{ partition: 0, offset: 10 }]);
    assert.throws(() => planOffsetReset(offsets, 'all', { kind: 'offset', offset: 60 }), /outside partition 1's range 0–50/);
    assert.throws(() => planOffsetReset(offsets, 0, { kind: 'offset', offset: 5 }), /outside partition 0's range 10–100/);
    assert.throws(() => planOffsetReset(offsets, 4, { kind: 'earliest' }), /no partition 4/);
  });

  it('is refused while the group has members, or while the Flink job that owns it runs', () => {
    const empty = { groupId: 'flink-sensor-processor', state: 'Empty', protocolType: 'consumer', members: 0 };
    assert.match(
      resetRefusal({ ...empty, groupId: 'app', state: 'Stable', members: 2 }, { isFlinkGroup: false, jobRunning: false }) ?? '',
      /has 2 active members \(state Stable\)/,
    );
    assert.match(resetRefusal(empty, { isFlinkGroup: true, jobRunning: true }) ?? '', /stop the Flink job first/);
    assert.equal(resetRefusal(empty, { isFlinkGroup: true, jobRunning: false }), undefined);
    assert.equal(resetRefusal({ ...empty, groupId: 'other' }, { isFlinkGroup: false, jobRunning: true }), undefined);
  });
});
