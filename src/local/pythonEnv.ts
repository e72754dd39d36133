// The PyFlink virtual environment in the cache: made once per requirements and Python version, installed with uv (pip when uv cannot).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { checkPython } from './environment';
import { UserError } from '../shared/errors';
import { cacheRoot, projectRoot } from '../config/paths';
import { runCommand, type RunResult } from './proc';
import { withInstallLock } from './installLock';
import { type DownloadTally, interrupted, pipTally, seconds, tallyProgress, uvTally } from './installProgress';
import { UV_VERSION } from './versions';
import type { Progress } from './install';

export function requirementsFile(): string {
  return join(projectRoot(), 'flink-jobs', 'requirements.txt');
}

/**
 * The venv folder is named after the requirements, the Python version and the installer, so a change of any makes
 * a new one (and an environment pip made before uv installed them is made anew once).
 */
export function pythonEnvDir(requirements: string, pythonVersion: string, env: NodeJS.ProcessEnv = process.env): string {
  const hash = createHash('sha256').update(requirements).update(pythonVersion).update(`uv ${UV_VERSION}`).digest('hex').slice(0, 12);
  return join(cacheRoot(env), 'python', `venv-${hash}`);
}

export function venvPython(venvDir: string): string {
  return join(venvDir, 'bin', 'python');
}

/**
 * uv, pinned, in a venv of its own in the cache (installed by pip once). It installs the requirements in a fraction
 * of pip's time: pip spends most of a cold install resolving and building four old sdists one at a time, on one core.
 */
async function ensureUv(python: string, progress: Progress, env: NodeJS.ProcessEnv, signal?: AbortSignal): Promise<string> {
  const dir = join(cacheRoot(env), 'python', `uv-${UV_VERSION}`);
  const uv = join(dir, 'bin', 'uv');
  const marker = join(dir, '.complete');
  if (existsSync(marker) && existsSync(uv)) return uv;
  return withInstallLock(
    join(cacheRoot(env), 'python'),
    basename(dir),
    { what: 'uv install', progress, timeoutMs: 10 * 60_000, signal },
    async () => {
      if (existsSync(marker) && existsSync(uv)) return uv;
      rmSync(dir, { recursive: true, force: true });
      const steps: [string, string[]][] = [
        [python, ['-m', 'venv', dir]],
        [venvPython(dir), ['-m', 'pip', 'install', '--disable-pip-version-check', '--progress-bar', 'off', `uv==${UV_VERSION}`]],
      ];
      for (const [command, args] of steps) {
        const result = await runCommand(command, args, { timeoutMs: 5 * 60_000, env, signal });
        if (result.code !== 0) {
          rmSync(dir, { recursive: true, force: true });
          if (result.interrupted) throw interrupted('uv');
          throw new Error(result.stderr.trim().split('\n').pop() ?? `exit ${result.code}`);
        }
      }
      writeFileSync(marker, new Date().toISOString());
      return uv;
    },
  );
}

/** Installs the requirements into the venv with uv, or with pip when uv cannot be had or fails (pip's own settings apply then). */
async function installRequirements(
  python: string,
  dir: string,
  progress: Progress,
  env: NodeJS.ProcessEnv,
  signal?: AbortSignal,
): Promise<{ result: RunResult; tool: string; tally: DownloadTally }> {
  const started = Date.now();
  let uv: string | undefined;
  try {
    uv = await ensureUv(python, progress, env, signal);
  } catch (error) {
    if (signal?.aborted) throw error;
    progress(`  uv could not be installed (${(error as Error).message}); installing with pip instead.`);
  }
  if (uv) {
    const tally = uvTally();
    // --system-certs: the system's CA store, as pip uses it (a company proxy's CA included); bytecode compiled now,
    // in parallel, as pip would, so that the first job start does not compile it.
    const result = await runCommand(
      uv,
      ['pip', 'install', '--python', venvPython(dir), '--system-certs', '--compile-bytecode', '-r', requirementsFile()],
      { timeoutMs: 20 * 60_000, env, signal, onOutput: tallyProgress('uv', tally, progress, started) },
    );
    if (result.code === 0 || result.interrupted) return { result, tool: 'uv', tally };
    progress(`  uv failed (${result.stderr.trim().split('\n').pop()}); installing with pip instead.`);
  }
  const tally = pipTally();
  const result = await runCommand(
    venvPython(dir),
    ['-m', 'pip', 'install', '--disable-pip-version-check', '--progress-bar', 'off', '-r', requirementsFile()],
    { timeoutMs: 40 * 60_000, env, signal, onOutput: tallyProgress('pip', tally, progress, started) },
  );
  return { result, tool: 'pip', tally };
}

/** A virtual environment with PyFlink, the Kafka client, DuckDB and pytest at pinned versions. */
export async function ensurePythonEnv(progress: Progress, env: NodeJS.ProcessEnv = process.env, signal?: AbortSignal): Promise<string> {
  const python = await checkPython(env);
  const requirements = readFileSync(requirementsFile(), 'utf8');
  const dir = pythonEnvDir(requirements, python.version.join('.'), env);
  const marker = join(dir, '.complete');
  if (existsSync(marker) && existsSync(venvPython(dir))) return venvPython(dir);
  // A venv cannot be moved after creation (its scripts embed the path), so it is built in place and only
  // counts once the marker is written last; a folder without the marker is discarded. Two processes making the
  // same one would build into each other's folder, so they take turns.
  mkdirSync(join(cacheRoot(env), 'python'), { recursive: true });
  const lock = { what: 'Python environment', progress, timeoutMs: 40 * 60_000, signal };
  return withInstallLock(join(cacheRoot(env), 'python'), basename(dir), lock, async () => {
    if (existsSync(marker) && existsSync(venvPython(dir))) return venvPython(dir);
    rmSync(dir, { recursive: true, force: true });
    progress(`Creating the Python environment for PyFlink in ${dir} (once; under a minute)…`);
    const started = Date.now();
    const venv = await runCommand(python.binary, ['-m', 'venv', dir], { timeoutMs: 120_000, env, signal });
    if (venv.code !== 0) {
      rmSync(dir, { recursive: true, force: true });
      if (venv.interrupted) throw interrupted('the Python environment');
      throw new UserError(
        `Could not create a Python virtual environment: install the venv module (apt-get install python3-venv) and run again.`,
        venv.stderr,
      );
    }
    const { result: install, tool, tally } = await installRequirements(python.binary, dir, progress, env, signal);
    if (install.code !== 0) {
      rmSync(dir, { recursive: true, force: true });
      if (install.interrupted) throw interrupted('the Python environment');
      const network = /Could not find a version|Connection|Max retries|Temporary failure|NewConnectionError/i.test(
        install.stdout + install.stderr,
      );
      throw new UserError(
        network
          ? 'Could not download the Python packages from PyPI: check the network connection or proxy (pip settings) and run the command again.'
          : 'Installing the Python packages failed; see the log output for details, then run the command again.',
        (install.stdout + install.stderr).slice(-4000),
      );
    }
    writeFileSync(marker, new Date().toISOString());
    const fetched = tally.files > 0 ? `${tool} downloaded ${tally.summary(Date.now() - started)}` : `${tool}, all from its cache`;
    progress(`Python environment ready in ${seconds(started)} (${fetched}).`);
    return venvPython(dir);
  });
}
