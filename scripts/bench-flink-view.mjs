#!/usr/bin/env node
// Times the Flink view's refresh against a running job: its REST calls (src/flink/flinkSnapshot.ts) and the tree
// built from them (src/flink/flinkTree.ts), bundled on the fly — what the extension does each refresh, minus drawing.
//
//   node scripts/bench-flink-view.mjs --rest http://127.0.0.1:8081 [--refreshes 20] [--interval 1000] [--output DIR]
//
// Prints each refresh (requests, ms) and the median, p95 and max; the first refresh of a job also learns its
// sources' metric names and its checkpoint interval (two more requests).
import { build } from 'esbuild';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    rest: { type: 'string', default: 'http://127.0.0.1:8081' },
    refreshes: { type: 'string', default: '20' },
    interval: { type: 'string', default: '1000' },
    output: { type: 'string' },
  },
});

const work = mkdtempSync(join(tmpdir(), 'kfl-bench-flink-'));
try {
  const bundle = join(work, 'view.cjs');
  await build({
    stdin: {
      contents:
        "export { FlinkSnapshotReader } from './src/flink/flinkSnapshot';\nexport { buildFlinkTree } from './src/flink/flinkTree';\nexport { flattenRows } from './src/flink/flinkRows';\nexport { CommittedFileIndex } from './src/flink/committedFiles';",
      resolveDir: repo,
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    outfile: bundle,
    logLevel: 'warning',
  });
  const { FlinkSnapshotReader, buildFlinkTree, flattenRows, CommittedFileIndex } = await import(pathToFileURL(bundle).href);
  const reader = new FlinkSnapshotReader(values.rest);
  const index = values.output ? new CommittedFileIndex(resolve(values.output)) : undefined;
  const times = [];
  let previous;
  for (let i = 0; i < Number(values.refreshes); i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, Number(values.interval)));
    const started = performance.now();
    const snapshot = await reader.read();
    const files = index
      ? await index.filesSince(Math.min(...(snapshot.job?.checkpoints?.history ?? []).map((c) => c.latestAckTimestamp ?? Infinity)))
      : undefined;
    const tree = buildFlinkTree(snapshot, { previous, files });
    const ms = performance.now() - started;
    previous = snapshot;
    times.push(ms);
    const operators = snapshot.job?.detail.vertices.length ?? 0;
    console.log(
      `refresh ${i + 1}: ${snapshot.requests} requests, ${operators} operators (tasks), ${flattenRows(tree.rows).length} rows, ${ms.toFixed(1)} ms${snapshot.reachable ? '' : ` (not reachable: ${snapshot.error})`}`,
    );
  }
  const sorted = [...times].sort((a, b) => a - b);
  const q = (p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
  console.log(
    `flink view refresh: median ${q(0.5).toFixed(1)} ms, p95 ${q(0.95).toFixed(1)} ms, max ${sorted.at(-1).toFixed(1)} ms over ${times.length} refreshes`,
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}
