// Two bundles, as the extension samples do: the extension + CLI (node, cjs, `vscode` external) and the
// results webview (browser, esm). `--tests` also bundles every test file to out/test for mocha.
import * as esbuild from 'esbuild';
import { cpSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');
const tests = process.argv.includes('--tests');

/** Native or runtime-resolved modules that must stay in node_modules. */
const nodeExternals = ['vscode', '@duckdb/node-api', '@duckdb/node-bindings', 'mocha', 'playwright-core', '@vscode/test-electron'];

/**
 * kafkajs arms its request queue's throttle timer with a negative delay on every connection (tulios/kafkajs#1751):
 * Node runs it after 1 ms, and Node 24 also prints a TimeoutNegativeWarning, in the terminal of the CLI and in the
 * extension host's console. The delay is clamped to that same 1 ms where kafkajs computes it, in every bundle, so
 * no warning (ours or another extension's) has to be filtered. One of the kafkajs work-arounds listed in
 * src/kafka/kafkajsShims.ts; the build fails if the line is not there (another kafkajs version).
 */
const kafkajsTimerClamp = {
  name: 'kafkajs-timer-clamp',
  setup(build) {
    build.onLoad({ filter: /[\\/]kafkajs[\\/]src[\\/]network[\\/]requestQueue[\\/]index\.js$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      const clamped = source.replace('}, scheduleAt)', '}, Math.max(1, scheduleAt))');
      if (clamped === source)
        throw new Error(`kafkajs-timer-clamp: the timer of ${args.path} was not found; see src/kafka/kafkajsShims.ts`);
      return { contents: clamped, loader: 'js' };
    });
  },
};

/**
 * kafkajs makes each record's offset and timestamp by parsing its batch's first offset and timestamp from their
 * decimal text into a Long (a BigInt), adding the delta (its timestamp delta read as a Long too) and printing it
 * again: more than a tenth of a scan's time on the extension host's thread. The base is parsed once per batch
 * instead, a delta of up to 7 bytes is read as a Number, and they are added as Numbers while the sum is a safe
 * integer (kafkajs' Long path stays for anything larger): the same strings. A fetched batch's filter of the records
 * before the offset asked for compares the same way. Listed in src/kafka/kafkajsShims.ts; the
 * build fails if kafkajs' lines are not there.
 */
const kafkajsRecordNumbers = {
  name: 'kafkajs-record-numbers',
  setup(build) {
    build.onLoad({ filter: /[\\/]kafkajs[\\/]src[\\/]protocol[\\/]recordBatch[\\/]record[\\/]v0[\\/]decoder\.js$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      const timestamp = `Long.fromValue(firstTimestamp)
          .add(timestampDelta)
          .toString()`;
      const offset = `Long.fromValue(firstOffset)
    .add(offsetDelta)
    .toString()`;
      const delta = 'const timestampDelta = decoder.readVarLong()';
      if (!source.includes(timestamp) || !source.includes(offset) || !source.includes(delta))
        throw new Error(
          `kafkajs-record-numbers: the offset and timestamp sums of ${args.path} were not found; see src/kafka/kafkajsShims.ts`,
        );
      const helper = `
/** base + delta as kafkajs prints it; the base's Number is kept on the batch's context (null: not a safe integer). */
const __kflSum = (context, slot, base, delta) => {
  let start = context[slot]
  if (start === undefined) {
    const n = Number(base)
    start = Number.isSafeInteger(n) && String(n) === String(base) ? n : null
    Object.defineProperty(context, slot, { value: start, enumerable: false })
  }
  const sum = start === null ? NaN : start + (typeof delta === 'number' ? delta : delta.toNumber())
  return Number.isSafeInteger(sum) ? String(sum) : Long.fromValue(base).add(delta).toString()
}
/** A varlong of up to 7 bytes (within 2^48 of 0) as a Number, as Decoder.readVarLong reads it; longer ones by it. */
const __kflVarLong = decoder => {
  const buffer = decoder.buffer
  let offset = decoder.offset
  let zigzag = 0
  let scale = 1
  for (let i = 0; i < 7; i++) {
    const byte = buffer[offset++]
    zigzag += (byte & 0x7f) * scale
    if (byte < 0x80) {
      decoder.offset = offset
      return zigzag % 2 === 0 ? zigzag / 2 : -(zigzag + 1) / 2
    }
    scale *= 128
  }
  return decoder.readVarLong()
}
`;
      const contents = source
        .replace(delta, 'const timestampDelta = __kflVarLong(decoder)')
        .replace(timestamp, `__kflSum(batchContext, '__kflTimestamp', firstTimestamp, timestampDelta)`)
        .replace(offset, `__kflSum(batchContext, '__kflOffset', firstOffset, offsetDelta)`)
        .replace(
          "const TimestampTypes = require('../../../timestampTypes')",
          `const TimestampTypes = require('../../../timestampTypes')\n${helper}`,
        );
      return { contents, loader: 'js' };
    });
    // A fetched batch keeps the records at or after the offset asked for: compared the same way.
    build.onLoad({ filter: /[\\/]kafkajs[\\/]src[\\/]consumer[\\/]batch\.js$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      const within = `this.rawMessages.filter(message =>
      Long.fromValue(message.offset).gte(longFetchedOffset)
    )`;
      if (!source.includes(within))
        throw new Error(`kafkajs-record-numbers: the offset filter of ${args.path} was not found; see src/kafka/kafkajsShims.ts`);
      const helper = `
/** Whether a record is at or after the offset fetched: as Numbers while both are safe integers, else as Longs. */
const __kflAtOrAfter = (fetchedOffset, longFetchedOffset) => {
  const fetched = Number(fetchedOffset)
  const exact = Number.isSafeInteger(fetched) && String(fetched) === String(fetchedOffset)
  return message => {
    const offset = exact ? Number(message.offset) : NaN
    return Number.isSafeInteger(offset) ? offset >= fetched : Long.fromValue(message.offset).gte(longFetchedOffset)
  }
}
`;
      const contents = source
        .replace(within, 'this.rawMessages.filter(__kflAtOrAfter(this.fetchedOffset, longFetchedOffset))')
        .replace(
          "const filterAbortedMessages = require('./filterAbortedMessages')",
          `const filterAbortedMessages = require('./filterAbortedMessages')\n${helper}`,
        );
      return { contents, loader: 'js' };
    });
  },
};

const common = { bundle: true, sourcemap: !production, minify: production, logLevel: 'warning', legalComments: 'none' };

function listTests(dir) {
  const found = [];
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) found.push(...listTests(full));
    else if (/\.test\.ts$/.test(name) || /^index\.ts$/.test(name)) found.push(full);
  }
  return found;
}

const builds = [
  {
    ...common,
    entryPoints: {
      extension: 'src/extension.ts',
      cli: 'src/cli.ts',
      windowGuard: 'src/windowGuard.ts',
      // The message browser's filter thread (src/kafka/scanFilter.ts starts it from dist/).
      scanFilterWorker: 'src/kafka/scanFilterWorker.ts',
    },
    outdir: 'dist',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: nodeExternals,
    plugins: [kafkajsTimerClamp, kafkajsRecordNumbers],
  },
  {
    ...common,
    entryPoints: {
      'webview/results': 'webview-ui/main.ts',
      'webview/sqlPanel': 'webview-ui/sqlPanel.ts',
      'webview/messageBrowser': 'webview-ui/messageBrowser.ts',
    },
    outdir: 'dist',
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
  },
];
if (tests) {
  builds.push({
    ...common,
    entryPoints: listTests('test').map((f) => ({ in: f, out: f.replace(/^test\//, '').replace(/\.ts$/, '') })),
    outdir: 'out/test',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    sourcemap: true,
    // typescript: the import-graph test parses src/ with it from node_modules.
    external: [...nodeExternals, 'typescript'],
    plugins: [kafkajsTimerClamp, kafkajsRecordNumbers],
  });
}

function copyWebviewAssets() {
  mkdirSync('dist/webview', { recursive: true });
  cpSync('node_modules/@vscode/codicons/dist/codicon.css', 'dist/webview/codicon.css');
  cpSync('node_modules/@vscode/codicons/dist/codicon.ttf', 'dist/webview/codicon.ttf');
}

if (watch) {
  for (const options of builds) await (await esbuild.context(options)).watch();
  copyWebviewAssets();
} else {
  await Promise.all(builds.map((options) => esbuild.build(options)));
  copyWebviewAssets();
}
