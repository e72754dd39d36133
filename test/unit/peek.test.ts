import * as assert from 'node:assert/strict';
import { UserError } from '../../src/shared/errors';
import { decodePayload, parseOffset, parseTimestamp, planPeek, renderPeekDocument } from '../../src/kafka/peek';

const offsets = [
  { partition: 0, low: 0, high: 100 },
  { partition: 1, low: 40, high: 45 },
  { partition: 2, low: 7, high: 7 },
];

describe('peek: which offsets to read', () => {
  it('earliest reads from the low offset, at most `count`', () => {
    assert.deepEqual(planPeek(offsets, { topic: 't', partition: 'all', start: { kind: 'earliest' }, count: 10 }), [
      { partition: 0, from: 0, to: 10 },
      { partition: 1, from: 40, to: 45 },
      { partition: 2, from: 7, to: 7 },
    ]);
  });

  it('latest is the newest `count` records, never waiting for new ones', () => {
    assert.deepEqual(planPeek(offsets, { topic: 't', partition: 0, start: { kind: 'latest' }, count: 10 }), [
      { partition: 0, from: 90, to: 100 },
    ]);
    assert.deepEqual(planPeek(offsets, { topic: 't', partition: 1, start: { kind: 'latest' }, count: 10 }), [
      { partition: 1, from: 40, to: 45 },
    ]);
  });

  it('an offset is clamped into [low, high]', () => {
    assert.deepEqual(planPeek(offsets, { topic: 't', partition: 1, start: { kind: 'offset', offset: 3 }, count: 2 }), [
      { partition: 1, from: 40, to: 42 },
    ]);
    assert.deepEqual(planPeek(offsets, { topic: 't', partition: 0, start: { kind: 'offset', offset: 500 }, count: 2 }), [
      { partition: 0, from: 100, to: 100 },
    ]);
  });

  it('a timestamp uses the offsets the broker found for it', () => {
    const found = new Map([
      [0, 60],
      [1, 45],
      [2, 7],
    ]);
    assert.deepEqual(planPeek(offsets, { topic: 't', partition: 'all', start: { kind: 'timestamp', timestampMs: 1 }, count: 5 }, found), [
      { partition: 0, from: 60, to: 65 },
      { partition: 1, from: 45, to: 45 },
      { partition: 2, from: 7, to: 7 },
    ]);
  });

  it('refuses a missing partition and counts outside 1–1000', () => {
    assert.throws(() => planPeek(offsets, { topic: 't', partition: 9, start: { kind: 'earliest' }, count: 1 }), /no partition 9/);
    assert.throws(() => planPeek(offsets, { topic: 't', partition: 0, start: { kind: 'earliest' }, count: 0 }), UserError);
    assert.throws(() => planPeek(offsets, { topic: 't', partition: 0, start: { kind: 'earliest' }, count: 1001 }), UserError);
  });

  it('reads offsets and times the way people type them', () => {
    assert.equal(parseOffset(' 42 '), 42);
    assert.equal(parseOffset('-1'), undefined);
    assert.equal(parseOffset('4e3'), undefined);
    assert.equal(parseTimestamp('1764064800123'), 1764064800123);
    assert.equal(parseTimestamp('2025-11-25T10:00:00Z'), Date.UTC(2025, 10, 25, 10));
    assert.equal(parseTimestamp('2025-11-25T10:00:00'), Date.UTC(2025, 10, 25, 10), 'no zone means UTC');
    assert.equal(parseTimestamp('2025-11-25T11:00:00+01:00'), Date.UTC(2025, 10, 25, 10));
    assert.equal(parseTimestamp('yesterday'), undefined);
  });
});

describe('peek: the JSON document', () => {
  it('pretty JSON values, text keys, decoded headers, ISO timestamps, sorted by partition and offset', () => {
    const doc = JSON.parse(
      renderPeekDocument(
        { topic: 'sensor-data', partition: 'all', start: { kind: 'earliest' }, count: 2 },
        [{ partition: 0, from: 0, to: 2 }],
        [
          {
            partition: 1,
            offset: '0',
            timestamp: '1764064800123',
            key: Buffer.from('sensor-2'),
            value: Buffer.from('not json'),
            headers: {},
          },
          { partition: 0, offset: '1', timestamp: '1764064800000', key: null, value: Buffer.from([0xff, 0x00]), headers: {} },
          {
            partition: 0,
            offset: '0',
            timestamp: '1764064800000',
            key: Buffer.from('sensor-1'),
            value: Buffer.from('{"temperature": 21.5}'),
            headers: { source: Buffer.from('generator'), multi: [Buffer.from('a'), 'b'] },
          },
        ],
        { cluster: '127.0.0.1:9092', fetchedAt: new Date(0), complete: true },
      ),
    );
    assert.equal(doc.received, 3);
    assert.deepEqual(
      doc.messages.map((m: { partition: number; offset: number }) => [m.partition, m.offset]),
      [
        [0, 0],
        [0, 1],
        [1, 0],
      ],
    );
    assert.deepEqual(doc.messages[0], {
      partition: 0,
      offset: 0,
      timestamp: '2025-11-25T10:00:00.000Z',
      timestampMs: 1764064800000,
      key: 'sensor-1',
      headers: { source: 'generator', multi: ['a', 'b'] },
      value: { temperature: 21.5 },
    });
    assert.equal(doc.messages[1].valueEncoding, 'base64');
    assert.equal(doc.messages[1].key, null);
    assert.equal(doc.messages[2].valueEncoding, 'text');
    assert.equal(doc.note, undefined);
  });

  it('says so when fewer records arrived than planned', () => {
    const doc = JSON.parse(
      renderPeekDocument({ topic: 't', partition: 0, start: { kind: 'latest' }, count: 5 }, [], [], {
        cluster: 'x:1',
        fetchedAt: new Date(0),
        complete: false,
      }),
    );
    assert.match(doc.note, /Fewer records/);
  });

  it('decodes payloads as JSON, text, base64 or null', () => {
    assert.deepEqual(decodePayload(Buffer.from('[1,2]')), { encoding: 'json', value: [1, 2] });
    assert.deepEqual(decodePayload(Buffer.from('42')), { encoding: 'json', value: 42 });
    assert.deepEqual(decodePayload(Buffer.from('{broken')), { encoding: 'text', value: '{broken' });
    assert.deepEqual(decodePayload(null), { encoding: 'null', value: null });
    assert.equal(decodePayload(Buffer.from([0xc3, 0x28])).encoding, 'base64');
  });
});
