#!/usr/bin/env node
// `npm start`: from a fresh clone to VS Code in the browser with the extension and a running local Kafka.
//   1. npm ci when node_modules is missing or stale   2. build the extension
//   3. Node 24 + code-server (cached in ~/.cache/kafka-flink-lab/e2e)   4. `pipeline setup` (Kafka, connector, job library, PyFlink)
//   5. `pipeline stack up` for sample-workspace/   6. pack the VSIX and install it into .pipeline/code-server/
//   7. code-server on http://127.0.0.1:8080 (loopback only, no password) with sample-workspace/ open
// Ctrl-C stops everything it started: code-server, the generator and the Flink job, and the broker (unless it was
// already running before). Options: --port N (default 8080), --workspace DIR (default sample-workspace).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values: flags } = parseArgs({ options: { port: { type: 'string' }, workspace: { type: 'string' } } });
const port = Number(flags.port ?? process.env.KFL_START_PORT ?? 8080);
const workspace = resolve(flags.workspace ?? join(repo, 'sample-workspace'));
const stateDir = join(repo, '.pipeline', 'code-server');
const runId = `start-${Date.now().toString(36)}-${process.pid}`;
const t0 = Date.now();
const say = (message) => console.log(`[start ${((Date.now() - t0) / 1000).toFixed(0).padStart(3)} s] ${message}`);

/** Runs a step in the foreground with its output shown; exits with a clear line if it fails. */
function step(title, command, args, { env = process.env, cwd = repo } = {}) {
  say(`${title}…`);
  return new Promise((resolvePromise) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', (error) => {
      say(`${title} failed: ${error.message}`);
      process.exit(1);
    });
    child.on('close', (code) => {
      if (code !== 0) {
        say(`${title} failed (exit ${code}); see the lines above.`);
        process.exit(1);
      }
      resolvePromise();
    });
  });
}

function needsNpmInstall() {
  const marker = join(repo, 'node_modules', '.package-lock.json');
  if (!existsSync(marker)) return true;
  // A pulled change of dependencies makes package-lock.json newer than what npm last installed.
  return existsSync(join(repo, 'package-lock.json')) && statSync(join(repo, 'package-lock.json')).mtimeMs > statSync(marker).mtimeMs + 1000;
}

if (needsNpmInstall()) {
  // A fresh clone gets exactly the locked tree; an existing node_modules is updated in place, not wiped.
  const ci = existsSync(join(repo, 'package-lock.json')) && !existsSync(join(repo, 'node_modules'));
  await step(`Installing npm dependencies (npm ${ci ? 'ci' : 'install'}; once)`, process.platform === 'win32' ? 'npm.cmd' : 'npm', [
    ci ? 'ci' : 'install',
    '--no-audit',
    '--no-fund',
  ]);
}

// Only now can the helpers (which need nothing but Node) be loaded from the test folder.
const { cacheRoot, ensureE2eToolchain } = await import(pathToFileURL(join(repo, 'test', 'e2e', 'setup.mjs')).href);
const cs = await import(pathToFileURL(join(repo, 'test', 'e2e', 'lib', 'codeServer.mjs')).href);

await step('Building the extension', process.execPath, [join(repo, 'esbuild.mjs')]);

if (!(await cs.isPortFree(port))) {
  say(`Port ${port} is in use by ${cs.describePortHolder(port) ?? 'another process'}: stop it, or run \`npm start -- --port 8090\`.`);
  process.exit(1);
}

say('Preparing Node 24 and code-server (cached after the first time)…');
const toolchain = await ensureE2eToolchain({ progress: say, browser: false }).catch((error) => {
  say(`Preparing code-server failed: ${error.message}`);
  process.exit(1);
});

const cli = (args) => [join(repo, 'dist', 'cli.js'), ...args, '--workspace', workspace];
await step(
  'Preparing Kafka, the Flink connector, the job library and the PyFlink environment (pipeline setup; cached)',
  process.execPath,
  cli(['setup']),
  { cwd: workspace },
);

const statusBefore = await cs.runToEnd(process.execPath, cli(['stack', 'status', '--json']), { cwd: workspace, timeoutMs: 30_000 });
const stackWasRunning = statusBefore.code === 0;
await step(
  stackWasRunning ? 'Local Kafka is already running; checking it' : 'Starting the local Kafka broker (pipeline stack up)',
  process.execPath,
  cli(['stack', 'up']),
  { cwd: workspace },
);

mkdirSync(stateDir, { recursive: true });
const dirs = {
  runDir: stateDir,
  userData: join(stateDir, 'user-data'),
  extensions: join(stateDir, 'extensions'),
};
for (const dir of Object.values(dirs)) mkdirSync(dir, { recursive: true });
const settingsFile = join(dirs.userData, 'User', 'settings.json');
if (!existsSync(settingsFile)) {
  mkdirSync(dirname(settingsFile), { recursive: true });
  // Written once; changes made in the UI are kept across runs.
  const settings = {
    'workbench.startupEditor': 'readme',
    'security.workspace.trust.enabled': false,
    'telemetry.telemetryLevel': 'off',
    'update.mode': 'none',
    'extensions.autoCheckUpdates': false,
    'git.openRepositoryInParentFolders': 'never',
    'workbench.secondarySideBar.defaultVisibility': 'hidden',
    'chat.disableAIFeatures': true,
  };
  writeFileSync(settingsFile, JSON.stringify(settings, null, 2));
}

say('Packing the extension (vsce package)…');
const vsix = await cs.packVsix(repo, join(stateDir, 'kafka-flink-lab.vsix')).catch((error) => {
  say(error.message);
  process.exit(1);
});
say(`Packed ${(vsix.bytes / 1024 / 1024).toFixed(1)} MB; installing it into code-server…`);

const env = {
  ...process.env,
  PATH: `${join(toolchain.nodeDir, 'bin')}:${process.env.PATH}`,
  PIPELINE_CACHE_DIR: cacheRoot(),
  KFL_RUN_ID: runId,
  VSCODE_IPC_HOOK_CLI: '',
};
await cs.installVsix(toolchain, dirs, vsix.file, env).catch((error) => {
  say(error.message);
  process.exit(1);
});

let server;
let stopping = false;

async function stopEverything(reason, exitCode) {
  if (stopping) return;
  stopping = true;
  say(`${reason}: stopping everything npm start started…`);
  for (const [args, what] of [
    [['generate', '--stop'], 'generator'],
    [['job', 'stop'], 'Flink job'],
  ]) {
    const result = await cs.runToEnd(process.execPath, cli(args), { cwd: workspace, timeoutMs: 60_000 });
    say(`  ${what}: ${result.out.trim().split('\n').pop() || `exit ${result.code}`}`);
  }
  if (server) {
    await cs.stopProcessGroup(server.pid);
    say('  code-server stopped.');
  }
  if (!stackWasRunning) {
    const down = await cs.runToEnd(process.execPath, cli(['stack', 'down']), { cwd: workspace, timeoutMs: 90_000 });
    say(`  Kafka: ${down.out.trim().split('\n').pop() || `exit ${down.code}`}`);
  } else say('  Kafka was running before npm start; left running (pipeline stack down stops it).');
  // Terminals the user opened in code-server and whatever they started carry this run's id.
  const left = await cs.killProcessesOfRun(runId);
  if (left.length) say(`  stopped ${left.length} leftover process(es) started from code-server.`);
  say('Done.');
  process.exit(exitCode);
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'])
  process.on(signal, () => void stopEverything(signal === 'SIGINT' ? 'Ctrl-C' : signal, 0));

say(`Starting code-server on 127.0.0.1:${port}…`);
try {
  server = await cs.startCodeServer(toolchain, dirs, {
    port,
    workspace,
    env,
    logFile: join(stateDir, 'code-server.log'),
    // code-server's own config; it would otherwise write ~/.config/code-server/config.yaml with a password.
    extraArgs: ['--config', join(stateDir, 'config.yaml')],
  });
} catch (error) {
  say(error.message);
  await stopEverything('code-server did not start', 1);
}

console.log('');
console.log(`  Kafka Flink Lab is ready: open ${server.url}/`);
console.log(`  (workspace ${workspace}; code-server log ${server.log})`);
console.log('  Press Ctrl-C to stop code-server, the pipeline and the broker.');
console.log('');

// If code-server dies on its own, clean up the rest and say so.
const watch = setInterval(() => {
  try {
    process.kill(server.pid, 0);
  } catch {
    clearInterval(watch);
    void stopEverything(`code-server exited (see ${server.log})`, 1);
  }
}, 2000);
