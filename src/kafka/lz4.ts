// LZ4 frame decompression in plain code, for the record batches the generator's producer compresses with lz4 (kafkajs ships no LZ4 codec).

const FRAME_MAGIC = 0x184d2204;

/** A byte buffer that grows; matches may reach back into earlier blocks (linked blocks), so there is one for the frame. */
class Output {
  /** The size the last frame decoded to: a batch's records are about as large as the one before. */
  static lastSize = 64 * 1024;
  buf = Buffer.allocUnsafe(Output.lastSize);
  length = 0;

  ensure(extra: number): void {
    if (this.length + extra <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.length + extra));
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }
}

function fail(why: string): never {
  throw new Error(`LZ4: ${why}`);
}

/** Below this many bytes a copy is a loop: a native copy costs more to call than it saves (most sequences of JSON are short). */
const SHORT_COPY = 16;

/**
 * Decodes one LZ4 block (the sequence format: token, literals, offset, match) onto `out`. The hot loop of every
 * kafkajs read of lz4 batches: no allocation per sequence, and short copies done in place.
 */
function decodeBlock(src: Buffer, start: number, end: number, out: Output): void {
  let i = start;
  while (i < end) {
    const token = src[i++];
    // A length whose 4-bit start is 15 goes on in the next bytes, each added, until one is not 255.
    let literals = token >> 4;
    if (literals === 15) {
      let b: number;
      do {
        if (i >= end) fail('literal length runs past the block');
        b = src[i++];
        literals += b;
      } while (b === 255);
    }
    if (i + literals > end) fail('literals run past the block');
    out.ensure(literals);
    let buf = out.buf;
    let o = out.length;
    if (literals < SHORT_COPY) for (let k = 0; k < literals; k++) buf[o++] = src[i++];
    else {
      src.copy(buf, o, i, i + literals);
      o += literals;
      i += literals;
    }
    out.length = o;
    if (i >= end) return; // the last sequence has literals only
    if (i + 2 > end) fail('offset runs past the block');
    const offset = src[i] | (src[i + 1] << 8);
    i += 2;
    if (offset === 0 || offset > o) fail(`offset ${offset} outside the ${o} bytes decoded`);
    let match = token & 15;
    if (match === 15) {
      let b: number;
      do {
        if (i >= end) fail('match length runs past the block');
        b = src[i++];
        match += b;
      } while (b === 255);
    }
    match += 4;
    out.ensure(match);
    buf = out.buf;
    let from = o - offset;
    // In one copy where the match does not overlap what it writes and is long; byte by byte otherwise (a run).
    if (offset >= match && match >= SHORT_COPY) {
      buf.copyWithin(o, from, from + match);
      o += match;
    } else for (let k = 0; k < match; k++) buf[o++] = buf[from++];
    out.length = o;
  }
}

/** Decompresses one or more concatenated LZ4 frames (skippable frames are skipped; checksums are not verified). */
export function lz4DecompressFrames(src: Buffer): Buffer {
  const out = new Output();
  let i = 0;
  while (i < src.length) {
    if (i + 4 > src.length) fail('truncated frame header');
    const magic = src.readUInt32LE(i);
    i += 4;
    if ((magic & 0xfffffff0) === 0x184d2a50) {
      i += 4 + src.readUInt32LE(i);
      continue;
    }
    if (magic !== FRAME_MAGIC) fail(`not an LZ4 frame (magic 0x${magic.toString(16)})`);
    const flags = src[i];
    if (flags >> 6 !== 1) fail(`frame version ${flags >> 6}`);
    const blockChecksum = (flags & 0x10) !== 0;
    const contentSize = (flags & 0x08) !== 0;
    const contentChecksum = (flags & 0x04) !== 0;
    const dictionary = (flags & 0x01) !== 0;
    i += 2 + (contentSize ? 8 : 0) + (dictionary ? 4 : 0) + 1; // FLG, BD, the optional fields, the header checksum
    for (;;) {
      if (i + 4 > src.length) fail('truncated block size');
      const word = src.readUInt32LE(i);
      i += 4;
      if (word === 0) break;
      const size = word & 0x7fffffff;
      if (i + size > src.length) fail('truncated block');
      if (word & 0x80000000) {
        out.ensure(size);
        src.copy(out.buf, out.length, i, i + size);
        out.length += size;
      } else decodeBlock(src, i, i + size, out);
      i += size + (blockChecksum ? 4 : 0);
    }
    if (contentChecksum) i += 4;
  }
  Output.lastSize = Math.max(64 * 1024, Math.min(out.length, 4 * 1024 * 1024));
  return out.buf.subarray(0, out.length);
}
