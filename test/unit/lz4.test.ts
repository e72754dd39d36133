import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { lz4DecompressFrames } from '../../src/kafka/lz4';
import { repoRoot } from '../support/cli';

const fixture = (name: string) => readFileSync(join(repoRoot, 'test/fixtures/lz4', name));

/** The text of the two block fixtures (see test/fixtures/lz4/README.md). */
function repeated(): string {
  let s = '';
  for (let i = 0; i < 30_000; i++) s += `${i % 5000 === 0 ? `#${i}#` : ''}sensor-00${i % 3},`;
  return s;
}

describe('LZ4 frames (kafkajs has no LZ4 codec; the generator compresses with lz4)', () => {
  it('decodes linked 64 KB blocks with block checksums and a content size, matches reaching into earlier blocks', () => {
    const text = lz4DecompressFrames(fixture('linked-blocks-checksums.lz4')).toString('latin1');
    assert.equal(text.length, 330_037);
    assert.equal(text, repeated());
  });

  it('decodes long literals, long runs that overlap what they write (offsets 1 and 3), and long matches far back', () => {
    const text = readFileSync(join(repoRoot, 'test/fixtures/lz4/mixed.txt'), 'latin1');
    assert.equal(lz4DecompressFrames(fixture('mixed.lz4')).toString('latin1'), text);
  });

  it('decodes independent blocks, JSON lines, a stored (uncompressed) block, and frames back to back', () => {
    assert.equal(lz4DecompressFrames(fixture('independent-blocks.lz4')).toString('latin1'), repeated());
    const lines = readFileSync(join(repoRoot, 'test/fixtures/lz4/json-lines.txt'), 'utf8');
    assert.equal(lz4DecompressFrames(fixture('json-lines.lz4')).toString('utf8'), lines);
    assert.equal(lz4DecompressFrames(fixture('incompressible.lz4')).toString('latin1').length, 64);
    const both = Buffer.concat([fixture('json-lines.lz4'), fixture('incompressible.lz4')]);
    assert.equal(lz4DecompressFrames(both).length, Buffer.byteLength(lines) + 64);
  });

  it('refuses what is not an LZ4 frame, and a frame cut short', () => {
    assert.throws(() => lz4DecompressFrames(Buffer.from('{"not":"lz4"}')), /not an LZ4 frame/);
    const frame = fixture('json-lines.lz4');
    assert.throws(() => lz4DecompressFrames(frame.subarray(0, frame.length - 40)), /LZ4: truncated/);
  });
});
