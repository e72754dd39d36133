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
    entryPoints: { extension: 'src/extension.ts', cli: 'src/cli.ts', windowGuard: 'src/windowGuard.ts' },
    outdir: 'dist',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: nodeExternals,
    plugins: [kafkajsTimerClamp],
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
    plugins: [kafkajsTimerClamp],
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
