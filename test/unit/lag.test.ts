import * as assert from 'node:assert/strict';
import { computeLag, summarizeLag } from '../../src/kafka/lag';

const ends = new Map([
  [
    'sensor-data',
    [
      { partition: 0, low: 0, high: 120 },
      { partition: 1, low: 10, high: 90 },
      { partition: 2, low: 0, high: 0 },
    ],
  ],
]);

describe('consumer lag = end offset − committed offset', () => {
  it('per partition, with every partition of a committed topic listed', () => {
    const rows = computeLag(
      [
        { topic: 'sensor-data', partition: 0, offset: 100 },
        { topic: 'sensor-data', partition: 1, offset: 90 },
      ],
      ends,
    );
    assert.deepEqual(
      rows.map((r) => [r.partition, r.committed, r.end, r.lag]),
      [
        [0, 100, 120, 20],
        [1, 90, 90, 0],
        [2, undefined, 0, undefined],
      ],
    );
    assert.equal(rows[2].note, 'no committed offset yet');
    assert.deepEqual(summarizeLag(rows), { total: 20, partitions: 3, withoutCommit: 1 });
  });

  it('a group without commits (offset -1, as Kafka answers) has no lag to tell', () => {
    const rows = computeLag(
      [0, 1, 2].map((partition) => ({ topic: 'sensor-data', partition, offset: -1 })),
      ends,
    );
    assert.ok(rows.every((r) => r.committed === undefined && r.lag === undefined));
    assert.equal(summarizeLag(rows).total, undefined);
  });

  it('a committed offset past the end (topic recreated) counts as 0 and says why', () => {
    const [row] = computeLag(
      [{ topic: 'sensor-data', partition: 2, offset: 500 }],
      new Map([['sensor-data', [{ partition: 2, low: 0, high: 3 }]]]),
    );
    assert.equal(row.lag, 0);
    assert.match(row.note ?? '', /past the end/);
  });

  it('a committed offset below the low offset still lags by end − committed (those records are gone)', () => {
    const [row] = computeLag([{ topic: 't', partition: 0, offset: 5 }], new Map([['t', [{ partition: 0, low: 50, high: 60 }]]]));
    assert.equal(row.lag, 55);
  });

  it('a topic whose end offsets are unknown keeps the commit and explains', () => {
    const [row] = computeLag([{ topic: 'gone', partition: 0, offset: 7 }], new Map());
    assert.equal(row.committed, 7);
    assert.equal(row.lag, undefined);
    assert.equal(row.note, 'end offset unknown');
  });
});
