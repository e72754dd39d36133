// Packs the VSIX, installs it into an isolated code-server, starts and stops code-server, and finds every process
// a run left behind. Shared by test/e2e/run.mjs and scripts/start.mjs.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { node24Env } from '../setup.mjs';

/** User settings for a quiet, testable workbench (terminal text in the DOM, no welcome page, no AI, no updates). */
export const WORKBENCH_SETTINGS = {
  'workbench.startupEditor': 'none',
  'security.workspace.trust.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'extensions.autoUpdate': false,
  'extensions.autoCheckUpdates': false,
  'update.mode': 'none',
  'workbench.tips.enabled': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'terminal.integrated.gpuAcceleration': 'off',
  'chat.disableAIFeatures': true,
  'workbench.enableExperiments': false,
  'git.openRepositoryInParentFolders': 'never',
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
};

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function isPortFree(port, host = '127.0.0.1') {
  return new Promise((resolvePromise) => {
    const server = createServer();
    server.once('error', () => resolvePromise(false));
    server.once('listening', () => server.close(() => resolvePromise(true)));
    server.listen(port, host);
  });
}

export async function findFreePort(preferred, attempts = 50) {
  for (let port = preferred; port < preferred + attempts; port++) if (await isPortFree(port)) return port;
  throw new Error(`no free port in ${preferred}–${preferred + attempts - 1}`);
}

/** "pid 123 (java … kafka.Kafka …)" for the process listening on `port`, from /proc; undefined if none. */
export function describePortHolder(port) {
  if (![...listeningByInode().values()].some((s) => s.port === port)) return undefined;
  const holder = listeningSocketsOf(pidsOnMachine()).find((s) => s.port === port);
  return holder ? `pid ${holder.pid} (${commandLine(holder.pid).slice(0, 140)})` : 'a process of another user';
}

/** "0100007F:1F91" or a 32-hex-digit IPv6 address of /proc/net/tcp{,6} as text (IPv4-mapped shown as ::ffff:a.b.c.d). */
function procAddress(hex) {
  const [ip, port] = hex.toLowerCase().split(':');
  const bytes = ip.match(/../g).map((b) => parseInt(b, 16));
  if (ip.length === 8) return { address: bytes.reverse().join('.'), port: parseInt(port, 16) };
  const words = ip.match(/.{8}/g).map((w) => w.match(/../g).reverse().join(''));
  const full = words.join('');
  if (full.startsWith('00000000000000000000ffff'))
    return {
      address: `::ffff:${full
        .slice(24)
        .match(/../g)
        .map((b) => parseInt(b, 16))
        .join('.')}`,
      port: parseInt(port, 16),
    };
  return { address: full.match(/.{4}/g).join(':'), port: parseInt(port, 16) };
}

export const isLoopbackAddress = (a) =>
  a.startsWith('127.') || a.startsWith('::ffff:127.') || a === '0000:0000:0000:0000:0000:0000:0000:0001';

/** The TCP sockets these processes listen on, read from /proc (what is open, not what was configured). */
/** Listening TCP sockets by inode, from /proc/net/tcp and tcp6 (state 0A = LISTEN). */
function listeningByInode() {
  const byInode = new Map();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let table = '';
    try {
      table = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of table.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length > 9 && f[3] === '0A') byInode.set(f[9], procAddress(f[1]));
    }
  }
  return byInode;
}

export function listeningSocketsOf(pids) {
  const byInode = listeningByInode();
  const sockets = [];
  for (const pid of pids) {
    let fds = [];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    const seen = new Set();
    for (const fd of fds) {
      try {
        const inode = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
        if (inode && byInode.has(inode) && !seen.has(inode)) {
          seen.add(inode);
          sockets.push({ pid, ...byInode.get(inode), command: commandLine(pid).slice(0, 120) });
        }
      } catch {
        /* closed meanwhile */
      }
    }
  }
  return sockets;
}

export function pidsOnMachine() {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number);
}

export function commandLine(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    return '';
  }
}

/** The fields of /proc/<pid>/stat after the command name (state is [0], start time [19]); undefined once it is gone. */
function statFields(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** When the process started (clock ticks since boot), as text: with the pid, it names one process for good. */
export function processStartTime(pid) {
  return statFields(pid)?.[19];
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const state = statFields(pid)?.[0];
  return state !== undefined && state !== 'Z';
}

/**
 * Every process that carries `KFL_RUN_ID=<runId>` in its environment: code-server, its extension host, the
 * terminals' shells and whatever they started (broker, Flink job, generator) inherit it, even the ones that
 * started their own session or process group.
 */
export function processesOfRun(runId) {
  const needle = `KFL_RUN_ID=${runId}`;
  const found = [];
  for (const pid of pidsOnMachine()) {
    if (pid === process.pid) continue;
    try {
      if (readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(needle) && isAlive(pid))
        found.push({ pid, command: commandLine(pid).slice(0, 160) });
    } catch {
      /* gone, or not ours to read */
    }
  }
  return found;
}

/** SIGTERM, then SIGKILL after `graceMs`, to every process of the run; returns those that were still there. */
export async function killProcessesOfRun(runId, graceMs = 5000) {
  const first = processesOfRun(runId);
  for (const { pid } of first) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      /* already gone */
    }
  }
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && processesOfRun(runId).length > 0) await sleep(200);
  for (const { pid } of processesOfRun(runId)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  await sleep(300);
  return first;
}

export async function stopProcessGroup(pid, graceMs = 5000) {
  if (!pid) return;
  const signal = (sig) => {
    try {
      process.kill(-pid, sig);
    } catch {
      /* group gone */
    }
  };
  signal('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && isAlive(pid)) await sleep(100);
  signal('SIGKILL');
}

/** Runs a command to completion; resolves { code, out } (stdout+stderr tail). Never rejects. */
export function runToEnd(command, args, { env = process.env, cwd, timeoutMs = 120_000, onLine } = {}) {
  return new Promise((resolvePromise) => {
    const child = spawn(command, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let out = '';
    const onData = (chunk) => {
      const text = chunk.toString();
      out = (out + text).slice(-20_000);
      if (onLine) for (const line of text.split('\n')) if (line.trim()) onLine(line);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const timer = setTimeout(() => {
      out += `\n[timed out after ${timeoutMs} ms]`;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      resolvePromise({ code: 127, out: out + String(error) });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code: code ?? 1, out });
    });
  });
}

/** `vsce package` of the repository (dist/ must be built); returns the file and its size. */
export async function packVsix(repo, outFile) {
  const vsce = join(repo, 'node_modules', '@vscode', 'vsce', 'vsce');
  const result = await runToEnd(process.execPath, [vsce, 'package', '--skip-license', '--no-rewrite-relative-links', '-o', outFile], {
    cwd: repo,
    timeoutMs: 180_000,
  });
  if (result.code !== 0 || !existsSync(outFile)) throw new Error(`vsce package failed (exit ${result.code}):\n${result.out.slice(-3000)}`);
  return { file: outFile, bytes: statSync(outFile).size };
}

/** The entry names inside the VSIX (a zip), read with Python's zipfile (no unzip needed). */
export function vsixEntries(file) {
  const result = spawnSync('python3', ['-c', 'import sys,zipfile; print("\\n".join(zipfile.ZipFile(sys.argv[1]).namelist()))', file], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  if (result.status !== 0) throw new Error(`cannot list ${file}: ${result.stderr}`);
  return result.stdout.split('\n').filter(Boolean);
}

/** Folders of an isolated VS Code: its own HOME, XDG folders, TMPDIR, user data and extensions. */
export function prepareRunFolders(runDir, { settings = {} } = {}) {
  const dirs = {
    runDir,
    userData: join(runDir, 'user-data'),
    extensions: join(runDir, 'extensions'),
    home: join(runDir, 'home'),
    tmp: join(runDir, 'tmp'),
  };
  for (const dir of Object.values(dirs)) mkdirSync(dir, { recursive: true });
  mkdirSync(join(dirs.userData, 'User'), { recursive: true });
  writeFileSync(join(dirs.userData, 'User', 'settings.json'), JSON.stringify({ ...WORKBENCH_SETTINGS, ...settings }, null, 2));
  return dirs;
}

/**
 * The environment of code-server and so of the extension host and its terminals: Node 24 first on PATH (the
 * CLI in terminals runs with it too), a HOME of the run, and the real engine cache so nothing is downloaded twice.
 */
export function codeServerEnv(toolchain, dirs, { runId, cacheDir, extra = {} }) {
  const env = node24Env(toolchain);
  delete env.npm_config_nodedir;
  return {
    ...env,
    HOME: dirs.home,
    XDG_CONFIG_HOME: join(dirs.home, '.config'),
    XDG_DATA_HOME: join(dirs.home, '.local', 'share'),
    XDG_CACHE_HOME: join(dirs.home, '.cache'),
    TMPDIR: dirs.tmp,
    PIPELINE_CACHE_DIR: cacheDir,
    KFL_RUN_ID: runId,
    // A code-server started from inside another VS Code terminal must not talk to that one.
    VSCODE_IPC_HOOK_CLI: '',
    ...extra,
  };
}

export async function installVsix(toolchain, dirs, vsix, env) {
  const result = await runToEnd(
    toolchain.node,
    [
      toolchain.codeServerEntry,
      '--user-data-dir',
      dirs.userData,
      '--extensions-dir',
      dirs.extensions,
      '--install-extension',
      vsix,
      '--force',
    ],
    { env, timeoutMs: 120_000 },
  );
  if (result.code !== 0 || !/successfully installed|already installed/i.test(result.out)) {
    throw new Error(`installing the VSIX into code-server failed (exit ${result.code}):\n${result.out.slice(-2000)}`);
  }
}

/**
 * Starts code-server in its own process group (detached = setsid), bound to 127.0.0.1 without auth, and waits
 * for /healthz. Returns { pid, url, log }.
 */
export async function startCodeServer(
  toolchain,
  dirs,
  { port, workspace, env, smokeTestDriver = false, healthTimeoutMs = 60_000, logFile, extraArgs = [] },
) {
  const args = [
    toolchain.codeServerEntry,
    '--bind-addr',
    `127.0.0.1:${port}`,
    '--auth',
    'none',
    '--user-data-dir',
    dirs.userData,
    '--extensions-dir',
    dirs.extensions,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--disable-getting-started-override',
    // Without it every closed browser tab leaves an extension host running for hours.
    '--reconnection-grace-time',
    '30',
    ...(smokeTestDriver ? ['--vscode-option', 'enable-smoke-test-driver'] : []),
    ...extraArgs,
    workspace,
  ];
  const log = logFile ?? join(dirs.runDir, 'code-server.log');
  const fd = openSync(log, 'a');
  const child = spawn(toolchain.node, args, { env, detached: true, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  child.unref();
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + healthTimeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(child.pid)) throw new Error(`code-server exited at start; see ${log}:\n${readFileSync(log, 'utf8').slice(-2000)}`);
    try {
      const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) });
      if (response.ok) return { pid: child.pid, url, log };
    } catch {
      /* not listening yet */
    }
    await sleep(150);
  }
  await stopProcessGroup(child.pid);
  throw new Error(`code-server did not answer ${url}/healthz within ${healthTimeoutMs / 1000} s; see ${log}`);
}

export function chromiumLaunchOptions(toolchain, extra = {}) {
  return {
    executablePath: toolchain.chromium,
    headless: true,
    viewport: { width: 1440, height: 900 },
    // The runner decides when the browser closes (after a signal it still has to stop the pipeline).
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
    ...extra,
  };
}
