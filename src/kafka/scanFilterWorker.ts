// The scan filter's thread (bundled alone as dist/scanFilterWorker.js): DuckDB builds, appends and queries each batch
// here, so the extension host's thread only reads Kafka, and the two overlap. The protocol is scanFilter.ts's.
import { parentPort, workerData } from 'node:worker_threads';
import { DuckDbFilter, FilterError, type PackedBatch } from './scanFilterDb';
import type { FilterReply, FilterRequest } from './scanFilter';

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('scanFilterWorker.js runs as a worker thread of the message browser’s scan.');
  const reply = (message: FilterReply, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);
  const failure = (error: unknown) => ({
    message: error instanceof Error ? error.message : String(error),
    filterError: error instanceof FilterError,
  });
  let filter: DuckDbFilter;
  try {
    filter = await DuckDbFilter.open((workerData as { where?: string }).where);
  } catch (error) {
    reply({ type: 'failed', id: 0, ...failure(error) });
    return;
  }
  reply({ type: 'ready', columns: filter.columns });
  // One batch at a time, in the order they came: the scan applies the answers in that order.
  let queue = Promise.resolve();
  port.on('message', (request: FilterRequest) => {
    if (request.type === 'close') {
      queue = queue.then(() => {
        filter.close();
        port.close();
      });
      return;
    }
    const batch: PackedBatch = request.batch;
    queue = queue.then(() =>
      filter.match(batch).then(
        (rows) => {
          // The batch's arrays go back to be filled again.
          const spent = [batch.numbers.buffer, batch.spans?.buffer, batch.bytes?.buffer].filter(
            (b): b is ArrayBuffer => b instanceof ArrayBuffer,
          );
          reply({ type: 'matched', id: request.id, rows, spent }, [rows.buffer as ArrayBuffer, ...spent]);
        },
        (error: unknown) => reply({ type: 'failed', id: request.id, ...failure(error) }),
      ),
    );
  });
}

void main();
