import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { createKafka } from '../../src/kafka/kafkaClient';
import { commitOffsetsOutsideGroup, type InternalCluster } from '../../src/kafka/kafkajsShims';
import { repoRoot } from '../support/cli';
// kafkajs' own record encoder and decoder (bundled here as in the extension, with esbuild.mjs' patches).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const RecordEncoder = require('kafkajs/src/protocol/recordBatch/record/v0') as (r: object) => { buffer: Buffer };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const RecordDecoder = require('kafkajs/src/protocol/recordBatch/record/v0/decoder') as (
  d: unknown,
  context: object,
) => { offset: string; timestamp: string };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const KafkajsBatch = require('kafkajs/src/consumer/batch') as new (
  topic: string,
  fetchedOffset: string,
  partitionData: object,
) => { messages: { offset: string }[] };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const KafkajsDecoder = require('kafkajs/src/protocol/decoder') as new (b: Buffer) => { readVarIntBytes(): Buffer };

/**
 * The kafkajs timer clamp (src/kafka/kafkajsShims.ts, applied by esbuild.mjs): this test is bundled with kafkajs the
 * way the extension and the CLI are. A stand-in broker on a free loopback port answers every request with just its
 * correlation id, which is enough for kafkajs to settle the request and re-arm its queue's timer, the timer that
 * Node 24 warns about (tulios/kafkajs#1751).
 */
describe('kafkajs work-arounds', () => {
  let server: Server;
  let port = 0;
  let answered = 0;

  before(async () => {
    server = createServer((socket) => {
      let buffered = Buffer.alloc(0);
      socket.on('data', (data) => {
        buffered = Buffer.concat([buffered, data]);
        while (buffered.length >= 4 && buffered.length >= 4 + buffered.readInt32BE(0)) {
          const frame = buffered.subarray(4, 4 + buffered.readInt32BE(0));
          buffered = buffered.subarray(4 + frame.length);
          // Request header: api key (2 bytes), api version (2), correlation id (4).
          const reply = Buffer.alloc(8);
          reply.writeInt32BE(4, 0);
          reply.writeInt32BE(frame.readInt32BE(4), 4);
          socket.write(reply);
          answered++;
        }
      });
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });

  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('talks to a broker without arming a timer with a negative delay (no TimeoutNegativeWarning on Node 24)', async () => {
    const delays: number[] = [];
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    const realSetTimeout = globalThis.setTimeout;
    globalThis.setTimeout = ((handler: () => void, ms?: number, ...args: unknown[]) => {
      delays.push(Number(ms));
      return realSetTimeout(handler, ms, ...args);
    }) as typeof setTimeout;
    process.on('warning', onWarning);
    try {
      const admin = createKafka({ bootstrapServers: [`127.0.0.1:${port}`], retries: 0, connectionTimeoutMs: 2000 }).admin();
      await admin.connect().catch(() => undefined);
      await admin.disconnect().catch(() => undefined);
      await new Promise((resolve) => realSetTimeout(resolve, 50));
    } finally {
      globalThis.setTimeout = realSetTimeout;
      process.off('warning', onWarning);
    }
    assert.ok(answered > 0, 'kafkajs sent a request and got its answer');
    assert.deepEqual(
      delays.filter((ms) => ms < 0),
      [],
    );
    assert.deepEqual(
      warnings.filter((name) => name === 'TimeoutNegativeWarning'),
      [],
    );
  });

  it('the extension and CLI bundles carry the clamp and the record decoder’s number sums', () => {
    for (const bundle of ['extension.js', 'cli.js']) {
      const text = readFileSync(join(repoRoot, 'dist', bundle), 'utf8');
      assert.match(text, /checkPendingRequests\(\)\s*;?\s*\}\s*,\s*Math\.max\(1,\s*[\w$]+\)\)/, `dist/${bundle}`);
      assert.match(text, /__kflSum\(batchContext, "__kflOffset", firstOffset, offsetDelta\)/, `dist/${bundle}`);
      assert.match(text, /rawMessages\.filter\(__kflAtOrAfter\(this\.fetchedOffset, longFetchedOffset\)\)/, `dist/${bundle}`);
    }
  });

  /** One record as kafkajs encodes it, decoded (by this bundle's patched decoder) in a batch starting at `first`. */
  function decodeOne(first: { offset: string; timestamp: string }, deltas: { offset: number; timestamp: number | bigint }) {
    const encoded = RecordEncoder({
      offsetDelta: deltas.offset,
      timestampDelta: deltas.timestamp,
      key: Buffer.from('k'),
      value: Buffer.from('v'),
      headers: { h: Buffer.from('x') },
    }).buffer;
    const context = { firstOffset: first.offset, firstTimestamp: first.timestamp, magicByte: 2 };
    const record = RecordDecoder(new KafkajsDecoder(new KafkajsDecoder(encoded).readVarIntBytes()), context);
    return { offset: record.offset, timestamp: record.timestamp, context: Object.keys(context) };
  }

  it('a fetched batch keeps the records at or after the offset asked for, past 2^53 too', () => {
    const kept = (fetched: string, offsets: string[]) =>
      new KafkajsBatch('t', fetched, {
        partition: 0,
        highWatermark: '0',
        abortedTransactions: [],
        messages: offsets.map((offset) => ({ offset, isControlRecord: false })),
      }).messages.map((m) => m.offset);
    assert.deepEqual(kept('5', ['3', '4', '5', '6', '10']), ['5', '6', '10']);
    assert.deepEqual(kept('9007199254740993', ['9007199254740992', '9007199254740993', '9007199254740994']), [
      '9007199254740993',
      '9007199254740994',
    ]);
    assert.deepEqual(kept('9007199254740990', ['9007199254740989', '9007199254740993']), ['9007199254740993']);
  });

  it('the record decoder’s offsets and timestamps are the same strings as kafkajs’ Long sums, past 2^53 too', () => {
    assert.deepEqual(decodeOne({ offset: '41', timestamp: '1764064800000' }, { offset: 2, timestamp: 123 }), {
      offset: '43',
      timestamp: '1764064800123',
      context: ['firstOffset', 'firstTimestamp', 'magicByte'],
    });
    // Past Number's safe integers the Long sum is kept: a Number would print 9007199254740994 for both.
    assert.deepEqual(decodeOne({ offset: '9007199254740990', timestamp: '0' }, { offset: 3, timestamp: 0 }).offset, '9007199254740993');
    assert.deepEqual(decodeOne({ offset: '9223372036854775800', timestamp: '-1' }, { offset: 7, timestamp: 0 }), {
      offset: '9223372036854775807',
      timestamp: '-1',
      context: ['firstOffset', 'firstTimestamp', 'magicByte'],
    });
    // Timestamp deltas of every length: 1 to 7 bytes read as Numbers, longer ones by kafkajs; negative ones too.
    const base = 1_764_064_800_000n;
    for (const delta of [
      0n,
      1n,
      -1n,
      63n,
      -64n,
      64n,
      123_456n,
      -(2n ** 30n),
      2n ** 47n,
      -(2n ** 48n),
      2n ** 48n,
      2n ** 55n,
      -(2n ** 62n),
    ]) {
      const decoded = decodeOne({ offset: '0', timestamp: String(base) }, { offset: 0, timestamp: delta });
      assert.equal(decoded.timestamp, String(base + delta), `delta ${delta}`);
    }
  });
});

describe('offsets committed outside a group', () => {
  /** A stand-in for kafkajs' internal Cluster whose coordinator refuses the first commits as a fresh broker does. */
  function clusterRefusing(times: number, error: Error & { retriable?: boolean }) {
    const calls = { find: 0, commit: 0 };
    const cluster = {
      findGroupCoordinator: async () => {
        calls.find++;
        return {
          offsetCommit: async () => {
            calls.commit++;
            if (calls.commit <= times) throw error;
            return {};
          },
        };
      },
    } as unknown as InternalCluster;
    return { cluster, calls };
  }
  const notCoordinator = Object.assign(new Error('This is not the correct coordinator for this group'), { retriable: true });

  it('finds the coordinator again while a fresh broker moves or loads it', async () => {
    const { cluster, calls } = clusterRefusing(3, notCoordinator);
    await commitOffsetsOutsideGroup(cluster, 'g', 't', [{ partition: 0, offset: '5' }]);
    assert.deepEqual(calls, { find: 4, commit: 4 });
  });
  it('gives up on an error that is not retriable, and after a bounded number of tries', async function () {
    this.timeout(20_000);
    const refused = Object.assign(new Error('The group has members'), { retriable: false });
    await assert.rejects(commitOffsetsOutsideGroup(clusterRefusing(1, refused).cluster, 'g', 't', []), /has members/);
    await assert.rejects(
      commitOffsetsOutsideGroup(clusterRefusing(1000, notCoordinator).cluster, 'g', 't', []),
      /not the correct coordinator/,
    );
  });
});
