import * as assert from 'node:assert/strict';
import { join } from 'node:path';
import { confluentDir, filterInputsOf, installFailureReason, PartitionEnds } from '../../src/cli/bench/confluentClient';

describe('the browse bench’s librdkafka client', () => {
  it('is installed in the cache, outside the repository', () => {
    assert.equal(confluentDir({ PIPELINE_CACHE_DIR: '/c' }), join('/c', 'bench', 'confluent-kafka-javascript'));
  });

  it('says in one line what to install when the build cannot run or fails', () => {
    assert.match(
      installFailureReason('', ['g++', 'make']),
      /^no g\+\+, make on PATH .*apt-get install -y g\+\+ make python3 libssl-dev zlib1g-dev/,
    );
    assert.match(
      installFailureReason('../src/rdkafka_ssl.h:32:10: fatal error: openssl/ssl.h: No such file or directory\ngyp ERR! build error'),
      /OpenSSL headers .*libssl-dev/,
    );
    assert.match(installFailureReason('rdkafka.c:3:10: fatal error: zlib.h: No such file or directory'), /zlib1g-dev/);
    assert.match(installFailureReason('gyp ERR! find Python Python is not set from command line'), /python3/);
    assert.match(installFailureReason('/bin/sh: 1: make: not found'), /no C\/C\+\+ compiler or make/);
    assert.match(
      installFailureReason(
        'npm error code EAI_AGAIN\nnpm error request to https://registry.npmjs.org/nan failed, reason: getaddrinfo EAI_AGAIN',
      ),
      /npm could not fetch @confluentinc\/kafka-javascript@1\.10\.1 .*EAI_AGAIN/,
    );
    const other = installFailureReason('something\nnpm error gyp failed with exit code: 2\n');
    assert.match(other, /^the build failed \(npm error gyp failed with exit code: 2; needs g\+\+/);
    assert.doesNotMatch(other, /\n/);
  });

  it('hands the filter a batch as the scan hands it kafkajs’: the bytes as they came, sizes and headers as text', () => {
    const key = Buffer.from('k');
    const binary = Buffer.from([0xff, 0xfe]);
    const inputs = filterInputsOf([
      { offset: '7', key, value: Buffer.from('{"temperature":40}'), timestamp: '1700000000000' },
      { offset: '8', key: null, value: binary, timestamp: '1700000000001', headers: {} },
      {
        offset: '9',
        key: null,
        value: null,
        timestamp: '1700000000002',
        headers: { a: Buffer.from('x'), b: [Buffer.from('1'), Buffer.from('22')], c: undefined },
      },
    ]);
    assert.deepEqual(
      inputs.map((r) => ({ offset: r.offset, timestampMs: r.timestampMs, size: r.size, headersJson: r.headersJson() })),
      [
        { offset: 7, timestampMs: 1700000000000, size: 19, headersJson: null },
        { offset: 8, timestampMs: 1700000000001, size: 2, headersJson: null },
        { offset: 9, timestampMs: 1700000000002, size: 1 + 1 + 1 + 1 + 1 + 2 + 1, headersJson: '{"a":"x","b":"22","c":null}' },
      ],
    );
    assert.equal(inputs[0].key, key);
    assert.equal(inputs[1].value, binary);
    assert.equal(inputs[2].value, null);
  });

  it('ends the read when every partition has delivered the offset before its end', () => {
    const ends = new PartitionEnds([
      { partition: 0, low: 0, high: 10 },
      { partition: 1, low: 5, high: 5 },
      { partition: 2, low: 3, high: 6 },
    ]);
    assert.equal(ends.done, false);
    assert.equal(ends.endOf(0), 10);
    assert.equal(ends.endOf(9), -1);
    assert.equal(ends.see(0, 4), true);
    assert.equal(ends.see(2, 5), true);
    assert.equal(ends.done, false);
    assert.equal(ends.see(1, 5), false, 'an empty partition is at its end from the start');
    assert.equal(ends.see(0, 9), true);
    assert.equal(ends.done, true);
    assert.equal(ends.see(0, 12), false, 'records past the end are not the read’s');
  });
});
