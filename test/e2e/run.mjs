#!/usr/bin/env node
// End-to-end tests in a real VS Code: packs the VSIX, installs it into code-server (Node 24, both from npm, cached
// by ./setup.mjs), starts code-server on 127.0.0.1, and drives Debian's chromium with playwright-core through
//   1. the extension's mocha tests inside the real extension host (test/exthost, the `payload` route), and
//   2. the user journey of issue 6 (./journey.mjs) against a real broker, Flink job and generator.
// Whatever happens, it stops everything it started: the generator, the job and the broker through the CLI, then
// code-server's process group, then any process still carrying this run's KFL_RUN_ID.
// Screenshots and logs: test-results/e2e/. Last line: `e2e: N passed, M failed`; exit 1 on any failure.
//
// Usage: node test/e2e/run.mjs [--only exthost|journey] [--keep]
//   E2E_PORT (default 18080: first free port from there), E2E_PORT_WAIT_S (default 180: how long to wait for a
//   busy 9092/9093/8081), E2E_RUN_DIR (default: a new folder in the system temp folder).
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writeHostileResultsFile, runJourney } from './journey.mjs';
import {
  chromiumLaunchOptions,
  codeServerEnv,
  describePortHolder,
  findFreePort,
  installVsix,
  isPortFree,
  killProcessesOfRun,
  packVsix,
  prepareRunFolders,
  processesOfRun,
  runToEnd,
  sleep,
  startCodeServer,
  stopProcessGroup,
  vsixEntries,
} from './lib/codeServer.mjs';
import { runExtensionHostTests } from './lib/exthost.mjs';
import { Report } from './lib/report.mjs';
import { cacheRoot, ensureE2eToolchain } from './setup.mjs';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values: flags } = parseArgs({ options: { only: { type: 'string' }, keep: { type: 'boolean' } } });
const wants = (suite) => !flags.only || flags.only === suite;
const report = new Report();
const shots = join(repo, 'test-results', 'e2e');
const runId = `e2e-${Date.now().toString(36)}-${process.pid}`;
const runDir = process.env.E2E_RUN_DIR ? resolve(process.env.E2E_RUN_DIR) : mkdtempSync(join(tmpdir(), 'kfl-e2e-'));
const workspace = join(runDir, 'workspace');
const timings = {};
const log = (message) => console.log(`e2e: ${message}`);

let server;
let context;
let env;
let cleanupPromise;
/** How many journey steps ran (./journey.mjs counts them): only then may the broker, Flink and the generator have started. */
const journey = { stepsRun: 0 };
const CONTRACT_PORTS = [9092, 9093, 8081];

/** `node dist/cli.js … --workspace <journey workspace>` with the code-server environment. */
function cli(args, timeoutMs = 60_000) {
  return runToEnd(process.execPath, [join(repo, 'dist', 'cli.js'), ...args, '--workspace', workspace], {
    env: env ?? process.env,
    cwd: workspace,
    timeoutMs,
  });
}

async function check(suite, name, body) {
  const started = Date.now();
  try {
    const note = await body();
    report.pass(suite, name, Date.now() - started, typeof note === 'string' ? note : '');
    return true;
  } catch (error) {
    report.fail(suite, name, error?.message ?? String(error), Date.now() - started);
    return false;
  }
}

async function waitForPorts(ports, waitSeconds) {
  const deadline = Date.now() + waitSeconds * 1000;
  let announced = false;
  for (;;) {
    const busy = [];
    for (const port of ports) if (!(await isPortFree(port))) busy.push(port);
    if (busy.length === 0) return;
    if (Date.now() >= deadline) {
      throw new Error(
        `port${busy.length > 1 ? 's' : ''} ${busy.map((p) => `${p} held by ${describePortHolder(p) ?? 'unknown'}`).join('; ')} — the journey needs the contract ports; stop that process and run again`,
      );
    }
    if (!announced)
      log(`waiting up to ${waitSeconds} s for port(s) ${busy.join(', ')} (held by ${busy.map((p) => describePortHolder(p)).join('; ')})`);
    announced = true;
    await sleep(2000);
  }
}

/** Stops everything the run started; every caller (signal handler, normal end) waits for the same run of it. */
function cleanup() {
  cleanupPromise ??= stopEverything();
  return cleanupPromise;
}

/** The run's Java and Python processes: the broker, the Flink job or cluster and the generator (the harness runs Node). */
function pipelineProcessesOfRun() {
  return processesOfRun(runId).filter((p) => /^(java|python[0-9.]*)$/.test(p.command.split(' ')[0].split('/').pop() ?? ''));
}

async function busyContractPorts() {
  const busy = [];
  for (const port of CONTRACT_PORTS) if (!(await isPortFree(port))) busy.push(`${port} held by ${describePortHolder(port) ?? 'unknown'}`);
  return busy;
}

/** Polls `probe` (a list of what is still wrong) until it is empty or `timeoutMs` passes; returns the last list. */
async function settled(probe, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const wrong = await probe();
    if (wrong.length === 0 || Date.now() >= deadline) return wrong;
    await sleep(500);
  }
}

/**
 * Stops what the run started, and checks that it is gone. The checks count only for what was started: a run that
 * never started code-server has nothing to clean up, and one whose journey never ran never held the contract ports.
 */
async function stopEverything() {
  const started = Date.now();
  await context?.close().catch(() => {});
  if (existsSync(join(workspace, '.pipeline'))) {
    for (const args of [
      ['generate', '--stop'],
      ['job', 'stop'],
      ['flink', 'down'],
      ['stack', 'down'],
    ]) {
      const result = await cli(args, 90_000);
      log(`cleanup: pipeline ${args.join(' ')} → exit ${result.code}: ${result.out.trim().split('\n').pop() ?? ''}`);
    }
  }
  if (journey.stepsRun > 0) {
    // The product's own stop commands (the journey's Stop Everything, then the CLI's above) end its processes; the
    // sweep below would hide a broker or job they leave behind.
    const left = await settled(async () => pipelineProcessesOfRun(), 15_000);
    if (left.length)
      report.fail(
        'cleanup',
        'the pipeline stop commands end the broker, Flink and the generator',
        left.map((p) => `${p.pid} ${p.command}`).join('; '),
      );
    else report.pass('cleanup', 'the pipeline stop commands end the broker, Flink and the generator', Date.now() - started);
  }
  if (server) await stopProcessGroup(server.pid);
  const left = await killProcessesOfRun(runId);
  if (left.length)
    log(`cleanup: killed ${left.length} leftover process(es): ${left.map((p) => `${p.pid} ${p.command.slice(0, 80)}`).join('; ')}`);
  if (server || context) {
    const wrong = await settled(
      async () => [
        ...processesOfRun(runId).map((p) => `process ${p.pid} ${p.command}`),
        ...(journey.stepsRun > 0 ? (await busyContractPorts()).map((p) => `port ${p}`) : []),
      ],
      10_000,
    );
    const title = `no process of the run is left${journey.stepsRun > 0 ? ` and the ports ${CONTRACT_PORTS.join(', ')} are free` : ''}`;
    if (wrong.length) report.fail('cleanup', title, wrong.join('; '));
    else
      report.pass(
        'cleanup',
        title,
        Date.now() - started,
        left.length ? `${left.length} killed by the final sweep` : 'nothing needed killing',
      );
  }
  if (existsSync(join(runDir, 'code-server.log'))) cpSync(join(runDir, 'code-server.log'), join(shots, 'code-server.log'));
  const state = join(workspace, '.pipeline');
  for (const [from, to] of [
    [join(state, 'kafka', 'single', 'node-1', 'broker.log'), 'broker.log'],
    [join(state, 'flink', 'job.log'), 'flink-job.log'],
    [join(state, 'generator', 'generator.log'), 'generator.log'],
  ]) {
    if (existsSync(from)) cpSync(from, join(shots, to));
  }
  if (!flags.keep) rmSync(runDir, { recursive: true, force: true });
  else log(`kept the run folder ${runDir}`);
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    log(`${signal}: stopping everything the run started…`);
    cleanup().finally(() => {
      console.log(report.summaryLine());
      process.exit(130);
    });
  });
}

async function main() {
  rmSync(shots, { recursive: true, force: true });
  mkdirSync(shots, { recursive: true });
  const t0 = Date.now();
  log(`run ${runId} in ${runDir}`);

  const toolchain = await ensureE2eToolchain({ progress: (m) => log(m) });
  timings.setup = Date.now() - t0;

  const built = await runToEnd(process.execPath, [join(repo, 'esbuild.mjs'), '--tests'], { cwd: repo, timeoutMs: 180_000 });
  if (built.code !== 0) throw new Error(`building the extension and its tests failed:\n${built.out.slice(-3000)}`);

  const vsixFile = join(runDir, 'kafka-flink-lab.vsix');
  let vsix;
  await check('package', 'vsce packs the VSIX with dist/, media/, flink-jobs and the DuckDB native module', async () => {
    vsix = await packVsix(repo, vsixFile);
    const entries = vsixEntries(vsixFile);
    const missing = [
      'extension/package.json',
      'extension/dist/extension.js',
      'extension/dist/cli.js',
      'extension/dist/windowGuard.js',
      // The message browser's filter thread: without it, every filtered scan fails.
      'extension/dist/scanFilterWorker.js',
      'extension/flink-jobs/requirements.txt',
      'extension/flink-jobs/flink_job.py',
      'extension/flink-jobs/data_generator.py',
      'extension/dist/webview/sqlPanel.js',
      'extension/media/flink-sql/flink-sql.tmLanguage.json',
      'extension/sample-workspace/queries/01-tumbling-window.flink.sql',
    ].filter((e) => !entries.includes(e));
    if (!entries.some((e) => e.startsWith('extension/media/'))) missing.push('extension/media/*');
    // Whatever the manifest points at (icons, walkthrough pages, the entry point) must be inside.
    const manifestText = readFileSync(join(repo, 'package.json'), 'utf8');
    const main = JSON.parse(manifestText).main?.replace(/^\.\//, '');
    for (const file of new Set([
      ...(manifestText.match(/media\/[A-Za-z0-9_./-]+/g) ?? []),
      ...(main ? [main.endsWith('.js') ? main : `${main}.js`] : []),
    ])) {
      if (!entries.includes(`extension/${file}`)) missing.push(`extension/${file}`);
    }
    if (!entries.some((e) => e.startsWith('extension/node_modules/@duckdb/node-bindings-linux-x64/')))
      missing.push('extension/node_modules/@duckdb/node-bindings-linux-x64/*');
    if (!entries.some((e) => e.startsWith('extension/node_modules/@duckdb/node-api/')))
      missing.push('extension/node_modules/@duckdb/node-api/*');
    const unwanted = entries.filter(
      (e) => /^extension\/(src|test|out|webview-ui|\.pipeline|output|test-results)\//.test(e) || (/\.ts$/.test(e) && !/\.d\.ts$/.test(e)),
    );
    if (missing.length) throw new Error(`missing from the VSIX: ${missing.join(', ')}`);
    if (unwanted.length)
      throw new Error(`the VSIX carries sources/tests: ${unwanted.slice(0, 5).join(', ')}${unwanted.length > 5 ? '…' : ''}`);
    return `${(vsix.bytes / 1024 / 1024).toFixed(1)} MB, ${entries.length} files`;
  });
  if (!vsix) throw new Error('no VSIX, nothing to install');

  const dirs = prepareRunFolders(runDir, {
    settings: {
      'terminal.integrated.tabs.hideCondition': 'never',
      'workbench.secondarySideBar.defaultVisibility': 'hidden',
      'chat.commandCenter.enabled': false,
    },
  });
  env = codeServerEnv(toolchain, dirs, { runId, cacheDir: cacheRoot() });
  await installVsix(toolchain, dirs, vsixFile, env);

  // The journey's workspace: small windows so results appear fast; a hostile value in a committed results file. Its
  // first part runs the job embedded (the journey's "cluster" step then removes the key, and Start Everything uses
  // the default target, the local session cluster).
  mkdirSync(join(workspace, '.vscode'), { recursive: true });
  writeFileSync(
    join(workspace, '.vscode', 'settings.json'),
    JSON.stringify(
      {
        'kafkaFlinkLab.windowSeconds': 5,
        'kafkaFlinkLab.generator.rate': 50,
        'kafkaFlinkLab.generator.sensors': 5,
        'kafkaFlinkLab.refreshInterval': 2,
        'kafkaFlinkLab.flink.target': 'embedded',
      },
      null,
      2,
    ),
  );
  writeHostileResultsFile(workspace);
  // The sample queries a learner opens, as the repository ships them.
  cpSync(join(repo, 'sample-workspace', 'queries'), join(workspace, 'queries'), { recursive: true });

  const port = await findFreePort(Number(process.env.E2E_PORT || 18080));
  const started = Date.now();
  server = await startCodeServer(toolchain, dirs, { port, workspace, env, smokeTestDriver: true });
  timings.codeServerUp = Date.now() - started;
  log(`code-server ${server.url} (pid ${server.pid}) up in ${(timings.codeServerUp / 1000).toFixed(1)} s`);

  const { chromium } = createRequire(join(repo, 'package.json'))('playwright-core');
  context = await chromium.launchPersistentContext(
    join(runDir, 'chromium-profile'),
    chromiumLaunchOptions(toolchain, { env: { ...process.env, KFL_RUN_ID: runId } }),
  );

  if (wants('exthost')) {
    const t = Date.now();
    await runExtensionHostTests({
      context,
      server,
      repo,
      testsEntry: join(repo, 'out', 'test', 'exthost', 'index.js'),
      workspace: join(runDir, 'exthost-workspace'),
      report,
      shots,
    });
    timings.exthost = Date.now() - t;
  }

  if (wants('journey')) {
    const t = Date.now();
    const prerequisites = await check('journey', 'pipeline setup prepares Kafka, the Flink connector and the PyFlink venv', async () => {
      const result = await runToEnd(process.execPath, [join(repo, 'dist', 'cli.js'), 'setup'], {
        env,
        cwd: workspace,
        timeoutMs: 45 * 60_000,
        onLine: (l) => /Downloading|Creating|pip:/.test(l) && log(l),
      });
      if (result.code !== 0) throw new Error(result.out.slice(-1500));
    });
    const portsFree = await check('journey', 'the contract ports 9092, 9093 and 8081 are free', () =>
      waitForPorts([9092, 9093, 8081], Number(process.env.E2E_PORT_WAIT_S || 180)),
    );
    if (prerequisites && portsFree) {
      const page = await context.newPage();
      const dialogs = [];
      page.on('dialog', (dialog) => {
        dialogs.push(`${dialog.type()}: ${dialog.message()}`);
        dialog.dismiss().catch(() => {});
      });
      const manifest = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));
      await runJourney({
        page,
        manifest,
        server,
        workspace,
        report,
        shots,
        cli,
        dialogs,
        logsDir: join(dirs.userData, 'logs'),
        runId,
        progress: journey,
      });
      if (journey.stepsRun === 0) report.fail('journey', 'the journey ran its steps', 'no step ran');
    } else {
      report.fail('journey', 'the user journey', 'not started: its prerequisites failed (above)');
    }
    timings.journey = Date.now() - t;
  }
}

const t0 = Date.now();
let exitCode = 0;
try {
  await main();
} catch (error) {
  report.fail('harness', 'the e2e harness ran to the end', error?.stack ?? String(error));
} finally {
  await cleanup();
  timings.total = Date.now() - t0;
  log(
    `times: ${Object.entries(timings)
      .map(([k, v]) => `${k} ${(v / 1000).toFixed(1)} s`)
      .join(', ')}; screenshots in ${shots}`,
  );
  console.log(report.summaryLine());
  exitCode = report.failed > 0 || report.passed === 0 ? 1 : 0;
}
process.exit(exitCode);
