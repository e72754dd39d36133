// Two bundles, as the extension samples do: the extension + CLI (node, cjs, `vscode` external) and the
// results webview (browser, esm). `--tests` also bundles every test file to out/test for mocha.
import * as esbuild from 'esbuild';
import { cpSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');
const tests = process.argv.includes('--tests');

/** Native or runtime-resolved modules that must stay in node_modules. */
const nodeExternals = ['vscode', '@duckdb/node-api', '@duckdb/node-bindings', 'mocha', 'playwright-core', '@vscode/test-electron'];

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
    entryPoints: { extension: 'src/extension.ts', cli: 'src/cli.ts' },
    outdir: 'dist',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: nodeExternals,
  },
  {
    ...common,
    entryPoints: { 'webview/results': 'webview-ui/main.ts' },
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
    external: nodeExternals,
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
