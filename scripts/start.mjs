#!/usr/bin/env node
// `npm start`: from a fresh clone to VS Code in the browser with the extension and a running local Kafka.
//   1. npm ci when node_modules is missing or stale   2. build the extension
//   3. side by side: Node 24 + code-server (cached in ~/.cache/kafka-flink-lab/e2e);
//      `pipeline setup` (Kafka, connector, job library, PyFlink; cached) then `pipeline stack up` for sample-workspace/;
//      the VSIX packed (only when the extension changed)
//   4. the VSIX installed into .pipeline/code-server/, code-server on http://127.0.0.1:8080 (loopback only, no
//      password) with sample-workspace/ open; a table of the steps and their seconds
//   5. after "ready": the Flink runtime's start-up class archive recorded in the background, at low priority
// Ctrl-C stops everything it started: code-server, the generator and the Flink job, and the broker (unless it was
// already running before). A second `npm start` while one runs says so and exits. Options: --port N (default 8080),
// --workspace DIR (default sample-workspace).
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
// Both need nothing but Node, so code-server's install can begin before npm ci has run.
import * as cs from '../test/e2e/lib/codeServer.mjs';
import { cacheRoot, ensureE2eToolchain } from '../test/e2e/setup.mjs';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values: flags } = parseArgs({ options: { port: { type: 'string' }, workspace: { type: 'string' } } });
const port = Number(flags.port ?? process.env.KFL_START_PORT ?? 8080);
const workspace = resolve(flags.workspace ?? join(repo, 'sample-workspace'));
// KFL_START_STATE_DIR: for the test of the one-npm-start-per-checkout rule.
const stateDir = process.env.KFL_START_STATE_DIR ? resolve(process.env.KFL_START_STATE_DIR) : join(repo, '.pipeline', 'code-server');
const runId = `start-${Date.now().toString(36)}-${process.pid}`;
const t0 = Date.now();
const at = () => (Date.now() - t0) / 1000;
const say = (message) => console.log(`[start ${at().toFixed(0).padStart(3)} s] ${message}`);

/** Every step with the seconds (since npm start began) at which it started and ended, for the table at "ready". */
const steps = [];
async function timed(step, work) {
  const start = at();
  try {
    return await work();
  } finally {
    steps.push({ step, start, end: at() });
  }
}

function printStepTable() {
  const width = Math.max(...steps.map((s) => s.step.length));
  console.log(`  ${'step'.padEnd(width)}   from     to   seconds`);
  for (const s of [...steps].sort((a, b) => a.start - b.start || a.end - b.end)) {
    const cells = [s.start, s.end, s.end - s.start].map((n) => n.toFixed(1).padStart(6));
    console.log(`  ${s.step.padEnd(width)} ${cells[0]} ${cells[1]}    ${cells[2]}`);
  }
  console.log('  (steps whose from–to overlap ran side by side)');
}

function fail(message) {
  say(message);
  process.exit(1);
}

/** Runs a step in the foreground with its output shown; exits with a clear line if it fails. */
function step(title, command, args, { env = process.env, cwd = repo } = {}) {
  say(`${title}…`);
  return new Promise((resolvePromise) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', (error) => void stopEverything(`${title} failed: ${error.message}`, 1));
    child.on('close', (code) =>
      code === 0 ? resolvePromise() : void stopEverything(`${title} failed (exit ${code}); see the lines above`, 1),
    );
  });
}

function needsNpmInstall() {
  const marker = join(repo, 'node_modules', '.package-lock.json');
  if (!existsSync(marker)) return true;
  // A pulled change of dependencies makes package-lock.json newer than what npm last installed.
  return existsSync(join(repo, 'package-lock.json')) && statSync(join(repo, 'package-lock.json')).mtimeMs > statSync(marker).mtimeMs + 1000;
}

// One npm start per checkout: a second one would fight the first over its ports and its code-server folders.
const pidFile = join(stateDir, 'start.pid');
const startTimeOf = cs.processStartTime;
function claimThisCheckout() {
  mkdirSync(stateDir, { recursive: true });
  const me = JSON.stringify({ pid: process.pid, startTime: startTimeOf(process.pid), port });
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(pidFile, me, { flag: 'wx' });
      process.on('exit', () => rmSync(pidFile, { force: true }));
      return;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
    }
    let other;
    try {
      other = JSON.parse(readFileSync(pidFile, 'utf8'));
    } catch {
      other = undefined;
    }
    if (other?.pid && other.startTime !== undefined && startTimeOf(other.pid) === other.startTime) {
      fail(
        `npm start is already running for this checkout (pid ${other.pid}; VS Code at http://127.0.0.1:${other.port}/). ` +
          'Use that one, or stop it with Ctrl-C in its terminal and run npm start again.',
      );
    }
    rmSync(pidFile, { force: true }); // left by an npm start that was killed
  }
  fail(`Could not claim ${pidFile}; delete it and run npm start again.`);
}
claimThisCheckout();

if (!(await cs.isPortFree(port))) {
  fail(`Port ${port} is in use by ${cs.describePortHolder(port) ?? 'another process'}: stop it, or run \`npm start -- --port 8090\`.`);
}

// Every process started from here on (and from code-server's terminals) carries this run's id, so Ctrl-C finds them.
process.env.KFL_RUN_ID = runId;
const env = { ...process.env, PIPELINE_CACHE_DIR: cacheRoot(), VSCODE_IPC_HOOK_CLI: '' };
const cli = (args) => [join(repo, 'dist', 'cli.js'), ...args, '--workspace', workspace];
let server;
let stopping = false;
/** Whether a broker ran before this npm start: undefined until `stack status` said (a broker it did not start is never stopped). */
let stackWasRunning;

async function stopEverything(reason, exitCode) {
  if (stopping) return;
  stopping = true;
  say(`${reason}: stopping everything npm start started…`);
  const started = existsSync(cli([])[0])
    ? [
        [['generate', '--stop'], 'generator'],
        [['job', 'stop'], 'Flink job'],
      ]
    : [];
  for (const [args, what] of started) {
    const result = await cs.runToEnd(process.execPath, cli(args), { cwd: workspace, timeoutMs: 60_000 });
    say(`  ${what}: ${result.out.trim().split('\n').pop() || `exit ${result.code}`}`);
  }
  if (server) {
    await cs.stopProcessGroup(server.pid);
    say('  code-server stopped.');
  }
  if (stackWasRunning === false && started.length) {
    const down = await cs.runToEnd(process.execPath, cli(['stack', 'down']), { cwd: workspace, timeoutMs: 90_000 });
    say(`  Kafka: ${down.out.trim().split('\n').pop() || `exit ${down.code}`}`);
  } else if (stackWasRunning) say('  Kafka was running before npm start; left running (pipeline stack down stops it).');
  // Set-up steps still under way, terminals the user opened in code-server and whatever they started carry this run's id.
  const left = await cs.killProcessesOfRun(runId);
  if (left.length) say(`  stopped ${left.length} leftover process(es) of this run.`);
  say('Done.');
  process.exit(exitCode);
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'])
  process.on(signal, () => void stopEverything(signal === 'SIGINT' ? 'Ctrl-C' : signal, 0));

// code-server's install needs neither npm ci nor the build: it begins now, and npm ci and the build run beside it.
const toolchainReady = prepareCodeServer();

if (needsNpmInstall()) {
  // A fresh clone gets exactly the locked tree; an existing node_modules is updated in place, not wiped.
  const ci = existsSync(join(repo, 'package-lock.json')) && !existsSync(join(repo, 'node_modules'));
  await timed(`npm ${ci ? 'ci' : 'install'}`, () =>
    step(`Installing npm dependencies (npm ${ci ? 'ci' : 'install'}; once)`, process.platform === 'win32' ? 'npm.cmd' : 'npm', [
      ci ? 'ci' : 'install',
      '--no-audit',
      '--no-fund',
    ]),
  );
}

await timed('build the extension', () => step('Building the extension', process.execPath, [join(repo, 'esbuild.mjs')]));

/** A step run side by side with others: its output lines shown with a label, a failure stopping everything. */
async function sideStep(label, args, { keepStdout = false } = {}) {
  let stdout = '';
  const result = await new Promise((resolvePromise) => {
    const child = spawn(process.execPath, cli(args), { cwd: workspace, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const show = (chunk) => {
      for (const line of chunk.toString().split('\n')) if (line.trim()) say(`${label}: ${line}`);
    };
    child.stdout.on('data', (chunk) => (keepStdout ? (stdout += chunk.toString()) : show(chunk)));
    child.stderr.on('data', show);
    child.on('error', (error) => resolvePromise({ code: 127, error }));
    child.on('close', (code) => resolvePromise({ code }));
  });
  if (result.code !== 0) {
    await stopEverything(`${label} failed (exit ${result.code}${result.error ? `: ${result.error.message}` : ''}); see the lines above`, 1);
  }
  return stdout;
}

/** Node 24 and code-server, timed as the steps they are. */
async function prepareCodeServer() {
  let phase = 'Node 24 and code-server check';
  let phaseStart = at();
  const progress = (message) => {
    say(message);
    const next = /Installing Node/.test(message)
      ? 'Node 24 (npm)'
      : /Installing code-server/.test(message)
        ? 'code-server install'
        : undefined;
    if (next) {
      steps.push({ step: phase, start: phaseStart, end: at() });
      phase = next;
      phaseStart = at();
    }
  };
  try {
    return await ensureE2eToolchain({ progress, browser: false });
  } catch (error) {
    await stopEverything(`Preparing code-server failed: ${error.message}`, 1);
  } finally {
    steps.push({ step: phase, start: phaseStart, end: at() });
  }
}

/**
 * `pipeline setup` without the start-up archive (that is recorded after "ready"), and beside it the broker: `stack
 * up` needs only Kafka's jars, which it waits for while setup's Maven run fetches them (they take turns on a lock).
 */
async function prepareEngines() {
  say('Preparing Kafka, the Flink connector, the job library and the PyFlink environment (pipeline setup; cached)…');
  const setupStart = at();
  const runSetup = async () => {
    const out = await sideStep('setup', ['setup', '--json', '--archive', 'skip'], { keepStdout: true });
    const setup = JSON.parse(out.trim().split('\n').pop());
    for (const s of setup.steps)
      steps.push({ step: `setup: ${s.step}`, start: setupStart + s.startedAt, end: setupStart + s.startedAt + s.seconds });
    steps.push({ step: 'pipeline setup (all of it)', start: setupStart, end: at() });
    return setup;
  };
  const startBroker = async () => {
    const status = await cs.runToEnd(process.execPath, cli(['stack', 'status', '--json']), { cwd: workspace, timeoutMs: 30_000 });
    stackWasRunning = status.code === 0;
    say(stackWasRunning ? 'Local Kafka is already running; checking it…' : 'Starting the local Kafka broker (pipeline stack up)…');
    await timed('Kafka broker (stack up)', () => sideStep('kafka', ['stack', 'up']));
  };
  const [setup] = await Promise.all([runSetup(), startBroker()]);
  return setup;
}

/**
 * The files a VSIX is made of (git's tracked files and dist/), by path and content: when they match the last
 * installed pack, the installed extension is current and packing (several seconds) is skipped. The build rewrites
 * dist/ at every start, so modification times would always differ. Without git, it always packs.
 */
function extensionFingerprint() {
  const listed = spawnSync('git', ['ls-files', '-z'], { cwd: repo, encoding: 'utf8' });
  if (listed.status !== 0) return undefined;
  const hash = createHash('sha256');
  const add = (file) => {
    if (statSync(file, { throwIfNoEntry: false })?.isFile()) hash.update(`${file}\0`).update(readFileSync(file));
  };
  for (const file of listed.stdout.split('\0').filter(Boolean)) add(join(repo, file));
  for (const entry of readdirSync(join(repo, 'dist'), { recursive: true })) if (!entry.endsWith('.vsix')) add(join(repo, 'dist', entry));
  return hash.digest('hex');
}

const dirs = { runDir: stateDir, userData: join(stateDir, 'user-data'), extensions: join(stateDir, 'extensions') };
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

/** Packs the VSIX unless the installed one is current; resolves to the file to install, or undefined. */
async function packIfChanged() {
  const fingerprintFile = join(stateDir, 'installed-extension.sha256');
  const fingerprint = extensionFingerprint();
  const installed = readdirSync(dirs.extensions).some((name) => name.startsWith('kafka-flink-lab.kafka-flink-lab-'));
  if (fingerprint && installed && existsSync(fingerprintFile) && readFileSync(fingerprintFile, 'utf8') === fingerprint) {
    say('The extension in code-server is current (no file changed since it was installed).');
    return undefined;
  }
  return timed('pack the VSIX (vsce)', async () => {
    say('Packing the extension (vsce package)…');
    const vsix = await cs.packVsix(repo, join(stateDir, 'kafka-flink-lab.vsix')).catch((error) => stopEverything(error.message, 1));
    say(`Packed ${(vsix.bytes / 1024 / 1024).toFixed(1)} MB.`);
    return { file: vsix.file, fingerprint, fingerprintFile };
  });
}

/** code-server's chain: the toolchain and the pack side by side, then the install and the server (the broker not needed). */
async function startCodeServerChain() {
  const [toolchain, vsix] = await Promise.all([toolchainReady, packIfChanged()]);
  const serverEnv = { ...env, PATH: `${join(toolchain.nodeDir, 'bin')}:${process.env.PATH}` };
  if (vsix) {
    await timed('install the VSIX into code-server', async () => {
      say('Installing the extension into code-server…');
      await cs.installVsix(toolchain, dirs, vsix.file, serverEnv).catch((error) => stopEverything(error.message, 1));
      if (vsix.fingerprint) writeFileSync(vsix.fingerprintFile, vsix.fingerprint);
    });
  }
  say(`Starting code-server on 127.0.0.1:${port}…`);
  return timed('start code-server', () =>
    cs
      .startCodeServer(toolchain, dirs, {
        port,
        workspace,
        env: serverEnv,
        logFile: join(stateDir, 'code-server.log'),
        // code-server's own config; it would otherwise write ~/.config/code-server/config.yaml with a password.
        extraArgs: ['--config', join(stateDir, 'config.yaml')],
      })
      .catch((error) => stopEverything(`code-server did not start: ${error.message}`, 1)),
  );
}

let setup;
[server, setup] = await Promise.all([startCodeServerChain(), prepareEngines()]);

console.log('');
console.log(`  Kafka Flink Lab is ready in ${at().toFixed(1)} s: open ${server.url}/`);
console.log(`  (workspace ${workspace}; code-server log ${server.log})`);
console.log('  Press Ctrl-C to stop code-server, the pipeline and the broker.');
console.log('');
printStepTable();
console.log('');

// The start-up class archive makes each later job start a few seconds faster; it is recorded now, detached and at
// low priority, so that it neither delays "ready" nor takes the CPU from a job the user starts meanwhile.
void (async () => {
  const archive = join(setup.flinkRuntime, 'start-up.jsa');
  if (existsSync(archive)) return;
  const recordStart = at();
  const started = await cs.runToEnd(process.execPath, cli(['setup', '--archive', 'background']), {
    cwd: workspace,
    env,
    timeoutMs: 60_000,
  });
  if (started.code !== 0) return say(`Could not start recording the start-up archive: ${started.out.trim().split('\n').pop()}`);
  say('Recording the Flink start-up class archive in the background (at low priority; a job started meanwhile starts as usual)…');
  const failed = join(setup.flinkRuntime, 'start-up.failed');
  while (!stopping && Date.now() - t0 < 30 * 60_000) {
    await new Promise((r) => setTimeout(r, 1000));
    if (existsSync(archive))
      return say(`Recorded the start-up class archive in ${(at() - recordStart).toFixed(0)} s: job starts are faster from now on.`);
    if (existsSync(failed))
      return say(`The start-up archive could not be recorded (jobs start without it): ${readFileSync(failed, 'utf8').trim()}`);
  }
})();

// If code-server dies on its own, clean up the rest and say so.
const watch = setInterval(() => {
  try {
    process.kill(server.pid, 0);
  } catch {
    clearInterval(watch);
    void stopEverything(`code-server exited (see ${server.log})`, 1);
  }
}, 2000);
