#!/usr/bin/env node
// The results-view benchmark: `node scripts/bench-results.mjs [--rows N] [--dir OUTPUT_DIR] [--keep] [--json]`.
// Bundles src/cli/bench/resultsBench.ts on the fly (DuckDB stays in node_modules), generates the rows in a
// temporary folder unless --dir is given, prints a table, and deletes what it generated unless --keep.
import * as esbuild from 'esbuild';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    rows: { type: 'string' },
    dir: { type: 'string' },
    keep: { type: 'boolean' },
    json: { type: 'boolean' },
    python: { type: 'string' },
  },
});
const rows = values.rows === undefined ? 1_000_000 : Number(values.rows);
if (!Number.isSafeInteger(rows) || rows < 1) {
  console.error(`bench-results: --rows must be a whole number ≥ 1 (got ${values.rows}).`);
  process.exit(2);
}

const build = mkdtempSync(join(tmpdir(), 'kfl-bench-build-'));
try {
  const outfile = join(build, 'resultsBench.cjs');
  await esbuild.build({
    entryPoints: [join(root, 'src/cli/bench/resultsBench.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    outfile,
    external: ['@duckdb/node-api', 'vscode'],
    logLevel: 'warning',
    nodePaths: [join(root, 'node_modules')],
  });
  // Resolve @duckdb/node-api from the repository, not from the temporary build folder.
  const require = createRequire(join(root, 'package.json'));
  const Module = require('node:module');
  process.env.NODE_PATH = [join(root, 'node_modules'), process.env.NODE_PATH].filter(Boolean).join(':');
  Module._initPaths();
  const { benchResults, formatBenchReport } = require(outfile);
  const report = await benchResults({
    rows,
    outputDir: values.dir,
    keep: values.keep,
    python: values.python,
    progress: (line) => console.error(line),
  });
  if (values.json) console.log(JSON.stringify(report, null, 2));
  else console.log('\n' + formatBenchReport(report).join('\n'));
  const over = report.figures.filter((f) => f.budget !== undefined && f.value > f.budget);
  process.exitCode = over.length > 0 ? 1 : 0;
} finally {
  rmSync(build, { recursive: true, force: true });
}
