// The scan's side of its WHERE: each batch is packed into transferable arrays and filtered on a thread of its own
// (scanFilterWorker.ts, DuckDB there), so reading Kafka and filtering overlap. The checks are in scanFilterDb.ts.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { FilterError, type FilterColumns, type PackedBatch } from './scanFilterDb';

export { FilterError, whereTreeRefusal } from './scanFilterDb';

/** One record as the filter takes it: the client's bytes, untouched until the filter's thread reads them. */
export interface FilterInput {
  offset: number;
  timestampMs: number;
  key: Uint8Array | null;
  value: Uint8Array | null;
  /** The headers as a JSON object of text values, or null for none; read only when the WHERE names `headers`. */
  headersJson: () => string | null;
  size: number;
}

export type FilterRequest = { type: 'match'; id: number; batch: PackedBatch } | { type: 'close' };
export type FilterReply =
  | { type: 'ready'; columns: FilterColumns }
  | { type: 'matched'; id: number; rows: Int32Array; spent: ArrayBuffer[] }
  | { type: 'failed'; id: number; message: string; filterError: boolean };

/** Whether a WHERE filters at all (an empty one keeps every record, with no thread). */
export function filtersRecords(where: string | undefined): boolean {
  return Boolean(where?.trim());
}

const WORKER_FILE = 'scanFilterWorker.js';
const OPEN_TIMEOUT_MS = 30_000;
const CLOSE_TIMEOUT_MS = 5000;

/**
 * dist/scanFilterWorker.js: beside this bundle (the extension, the CLI), or in the dist/ of a folder above it (the
 * test bundles under out/test/).
 */
export function filterWorkerPath(from = __dirname): string {
  if (existsSync(join(from, WORKER_FILE))) return join(from, WORKER_FILE);
  for (let dir = from, i = 0; i < 5; i++, dir = dirname(dir)) {
    const candidate = join(dir, 'dist', WORKER_FILE);
    if (existsSync(candidate)) return candidate;
  }
  throw new Error(
    `The message browser's filter thread (dist/${WORKER_FILE}) is missing beside ${from}: build the extension (npm run build).`,
  );
}

/**
 * A batch read by index, so that a scan hands over kafkajs' records without making an object per record (the
 * extension host's thread is the scan's bound).
 */
export interface FilterBatch {
  readonly count: number;
  offset(i: number): number;
  timestampMs(i: number): number;
  size(i: number): number;
  key(i: number): Uint8Array | null;
  value(i: number): Uint8Array | null;
  /** Read only when the WHERE names `headers`. */
  headersJson(i: number): string | null;
}

/** Records as a FilterBatch. */
export function filterBatchOf(records: readonly FilterInput[]): FilterBatch {
  return {
    count: records.length,
    offset: (i) => records[i].offset,
    timestampMs: (i) => records[i].timestampMs,
    size: (i) => records[i].size,
    key: (i) => records[i].key,
    value: (i) => records[i].value,
    headersJson: (i) => records[i].headersJson(),
  };
}

/**
 * The arrays batches cross in, back from the filter's thread once it is done with them. A scan of a million records
 * would otherwise allocate a few hundred MB outside V8's heap, and V8 answers that with full collections on the
 * extension host's thread.
 */
export class ArrayPool {
  private readonly free: ArrayBuffer[] = [];

  constructor(private readonly keep = 12) {}

  /** A buffer of at least `bytes` (a spare one when there is, else a new one with room to spare). */
  take(bytes: number): ArrayBuffer {
    let best = -1;
    for (let i = 0; i < this.free.length; i++)
      if (this.free[i].byteLength >= bytes && (best < 0 || this.free[i].byteLength < this.free[best].byteLength)) best = i;
    if (best >= 0) return this.free.splice(best, 1)[0];
    return new ArrayBuffer(Math.max(64 * 1024, Math.ceil((bytes * 1.25) / 4096) * 4096));
  }

  give(buffers: readonly ArrayBuffer[]): void {
    for (const b of buffers) if (b.byteLength > 0 && this.free.length < this.keep) this.free.push(b);
  }

  get size(): number {
    return this.free.length;
  }
}

/** A batch as it crosses to the filter's thread: only what the WHERE names, in arrays that move rather than copy. */
export function packBatch(
  partition: number,
  records: FilterBatch,
  columns: FilterColumns,
  pool = new ArrayPool(0),
): { batch: PackedBatch; transfer: ArrayBuffer[] } {
  const count = records.count;
  const numbers = new Float64Array(pool.take(3 * count * 8), 0, 3 * count);
  for (let i = 0; i < count; i++) {
    numbers[3 * i] = records.offset(i);
    numbers[3 * i + 1] = records.timestampMs(i);
    numbers[3 * i + 2] = records.size(i);
  }
  const batch: PackedBatch = { partition, count, numbers };
  const transfer: ArrayBuffer[] = [numbers.buffer];
  if (columns.key || columns.value) {
    let total = 0;
    for (let i = 0; i < count; i++)
      total += (columns.key ? (records.key(i)?.length ?? 0) : 0) + (columns.value ? (records.value(i)?.length ?? 0) : 0);
    const bytes = new Uint8Array(pool.take(total), 0, total);
    const spans = new Int32Array(pool.take(4 * count * 4), 0, 4 * count);
    let at = 0;
    for (let i = 0; i < count; i++)
      for (let side = 0; side < 2; side++) {
        const part = side === 0 ? (columns.key ? records.key(i) : null) : columns.value ? records.value(i) : null;
        spans[4 * i + 2 * side] = at;
        spans[4 * i + 2 * side + 1] = part === null ? -1 : part.length;
        if (part !== null) {
          bytes.set(part, at);
          at += part.length;
        }
      }
    batch.bytes = bytes;
    batch.spans = spans;
    transfer.push(bytes.buffer, spans.buffer);
  }
  if (columns.headers) batch.headers = Array.from({ length: count }, (_, i) => records.headersJson(i));
  return { batch, transfer };
}

/**
 * The user's filter, on its own thread. Batches may be handed over before the last one's answer: the thread takes
 * them in order, and their answers come back in that order.
 */
export class BatchFilter {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (rows: number[]) => void; reject: (error: Error) => void }>();
  private ended: Error | undefined;
  private readonly pool = new ArrayPool();

  private constructor(
    private readonly worker: Worker | undefined,
    readonly columns: FilterColumns,
  ) {
    if (!worker) return;
    worker.on('message', (reply: FilterReply) => {
      if (reply.type === 'ready') return;
      const waiter = this.waiting.get(reply.id);
      this.waiting.delete(reply.id);
      if (reply.type === 'matched') {
        this.pool.give(reply.spent);
        waiter?.resolve(Array.from(reply.rows));
      } else if (reply.type === 'failed') waiter?.reject(reply.filterError ? new FilterError(reply.message) : new Error(reply.message));
    });
    const end = (error: Error) => {
      this.ended ??= error;
      for (const w of this.waiting.values()) w.reject(this.ended);
      this.waiting.clear();
    };
    worker.on('error', end);
    worker.on('exit', () => end(new Error('The filter’s thread has ended.')));
  }

  /** Checks `where` (empty: every record) before anything is consumed; a bad one is a FilterError with DuckDB's words. */
  static async open(where: string | undefined): Promise<BatchFilter> {
    // No WHERE, no thread: every record is kept.
    if (!filtersRecords(where)) return new BatchFilter(undefined, { key: false, value: false, headers: false });
    const worker = new Worker(filterWorkerPath(), { workerData: { where } });
    try {
      const first = await new Promise<FilterReply>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`The filter’s thread did not start within ${OPEN_TIMEOUT_MS / 1000} s.`)),
          OPEN_TIMEOUT_MS,
        );
        worker.once('message', (reply: FilterReply) => {
          clearTimeout(timer);
          resolve(reply);
        });
        worker.once('error', (error) => {
          clearTimeout(timer);
          reject(error);
        });
      });
      if (first.type === 'failed') throw first.filterError ? new FilterError(first.message) : new Error(first.message);
      if (first.type !== 'ready') throw new Error(`The filter’s thread answered ${first.type} first.`);
      return new BatchFilter(worker, first.columns);
    } catch (error) {
      await worker.terminate();
      throw error;
    }
  }

  /** The indexes of the records that match, in order. */
  match(partition: number, records: readonly FilterInput[] | FilterBatch): Promise<number[]> {
    const indexed = 'count' in records ? records : filterBatchOf(records);
    if (!this.worker) return Promise.resolve(Array.from({ length: indexed.count }, (_, i) => i));
    if (this.ended) return Promise.reject(this.ended);
    const id = this.nextId++;
    const { batch, transfer } = packBatch(partition, indexed, this.columns, this.pool);
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker?.postMessage({ type: 'match', id, batch } satisfies FilterRequest, transfer);
    });
  }

  /** Closes DuckDB on its thread after the batches handed over, and ends the thread. */
  async close(): Promise<void> {
    const worker = this.worker;
    if (!worker || this.ended) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage({ type: 'close' } satisfies FilterRequest);
    const timer = setTimeout(() => void worker.terminate(), CLOSE_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  }
}
