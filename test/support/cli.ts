import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { CliContext } from '../../src/cli/context';

/** The repository root, from out/test/** or test/**. */
export const repoRoot = findRoot();

function findRoot(): string {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'esbuild.mjs'))) return dir;
    dir = resolve(dir, '..');
  }
  throw new Error('repository root not found');
}

export const cliPath = join(repoRoot, 'dist', 'cli.js');

/** A CLI command's context for calling its functions in-process: these flags, this workspace, output dropped. */
export function cliContext(workspace: string, values: Record<string, string | boolean>): CliContext {
  return { values, positionals: [], workspace, progress: () => undefined, print: () => undefined, signal: new AbortController().signal };
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `pipeline …` as a user would (a separate process, in `cwd` when given), with a timeout. */
export function pipeline(args: string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number; cwd?: string } = {}): Promise<CliRun> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args], {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`pipeline ${args.join(' ')} timed out; stderr: ${stderr.slice(-2000)}`));
    }, options.timeoutMs ?? 180_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
  });
}

const tempWorkspaces: string[] = [];
process.on('exit', () => {
  for (const dir of tempWorkspaces) rmSync(dir, { recursive: true, force: true });
});

/** A throw-away workspace folder, deleted when the test process exits. */
export function tempWorkspace(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `kfl-${prefix}-`));
  tempWorkspaces.push(dir);
  return dir;
}

export function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value)
    throw new Error(`${name} is not set: run this suite through \`npm test\` (scripts/test-all.mjs), which starts the broker and sets it.`);
  return value;
}

/** Runs kcat with input, bounded in time. */
export function kcat(args: string[], input?: string, timeoutMs = 120_000): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync('kcat', args, { input, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 256 * 1024 * 1024 });
  if (result.error) throw result.error;
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}
