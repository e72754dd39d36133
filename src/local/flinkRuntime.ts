// The Flink runtime the jobs start from: a lib/ folder with Flink, its SQL planner, the Kafka connector and the job library on the JVM's class path, and a start-up class archive (AppCDS) recorded once, in the background or by setup.
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { javaBinary } from './environment';
import { ensureFlinkJars, ensurePlannerJar, type FlinkJars, isCompleteFolder, type Progress, pruneOlder, writeManifest } from './install';
import { cacheRoot, projectRoot } from '../config/paths';
import { runCommand, spawnDetached } from './proc';
import { claimLock, isLockHeld, withInstallLock } from './installLock';

export const START_UP_ARCHIVE = 'start-up.jsa';

/** PyFlink's own Flink distribution jars (site-packages/pyflink/lib) of the virtual environment of `python`. */
export function pyflinkLibDir(python: string): string | undefined {
  const venvLib = join(dirname(dirname(python)), 'lib');
  for (const version of existsSync(venvLib) ? readdirSync(venvLib) : []) {
    const lib = join(venvLib, version, 'site-packages', 'pyflink', 'lib');
    if (existsSync(lib)) return lib;
  }
  return undefined;
}

/**
 * The jars of the runtime's class path: PyFlink's lib/ with the planner in place of its loader (Flink's documented
 * swap: the loader unpacks the planner into a temporary folder and loads it apart, at every start), the connector
 * and the job library.
 */
export function runtimeJars(pyflinkLib: string, plannerJar: string, jars: FlinkJars): string[] {
  const flink = readdirSync(pyflinkLib)
    .filter((name) => name.endsWith('.jar') && !name.startsWith('flink-table-planner-loader'))
    .sort()
    .map((name) => join(pyflinkLib, name));
  return [...flink, plannerJar, jars.connectorJar, jars.jobLibJar];
}

/** Written by the rehearsal when it fails, so that it is not tried again at every start. */
export const START_UP_FAILED = 'start-up.failed';

/**
 * When the start-up archive is recorded: `now` (pipeline setup: wait for it), `background` (a job start: a
 * detached, low-priority rehearsal; this start goes on without the archive), `skip` (npm start's setup, which
 * records it after "ready").
 */
export type ArchivePolicy = 'now' | 'background' | 'skip';

export type StartUpArchiveState = 'present' | 'failed' | 'recording' | 'missing';

/** A rehearsal killed half-way leaves its `start-up.jsa.tmp-<pid>`; only the lock's holder may remove them. */
function removePartialArchives(dir: string): void {
  for (const name of readdirSync(dir)) if (name.startsWith(`${START_UP_ARCHIVE}.tmp-`)) rmSync(join(dir, name), { force: true });
}

const rehearsalScript = () => join(projectRoot(), 'flink-jobs', 'startup_archive.py');
const ARCHIVE_LOCK = 'start-up-archive';

/** Whether the runtime has its archive, a note that recording it failed, a rehearsal under way, or none of these. */
export function startUpArchiveState(dir: string): StartUpArchiveState {
  if (existsSync(join(dir, START_UP_ARCHIVE))) return 'present';
  if (existsSync(join(dir, START_UP_FAILED))) return 'failed';
  return isLockHeld(dir, ARCHIVE_LOCK) ? 'recording' : 'missing';
}

/** Records the archive in this process, waiting for one a background rehearsal is making. */
async function recordStartUpArchive(python: string, dir: string, progress: Progress, env: NodeJS.ProcessEnv, signal?: AbortSignal) {
  await withInstallLock(dir, ARCHIVE_LOCK, { what: 'start-up archive recording', progress, timeoutMs: 10 * 60_000, signal }, async () => {
    // Under the lock, this process is its owner: only the archive or the failure note say the work is done.
    if (existsSync(join(dir, START_UP_ARCHIVE)) || existsSync(join(dir, START_UP_FAILED))) return;
    removePartialArchives(dir);
    progress('Recording the Flink job start-up class archive (once; about half a minute)…');
    const started = Date.now();
    const rehearsal = await runCommand(python, [rehearsalScript(), '--runtime-dir', dir], { timeoutMs: 5 * 60_000, env, cwd: dir, signal });
    if (rehearsal.interrupted) return; // neither done nor failed: the next setup records it
    if (rehearsal.code === 0 && existsSync(join(dir, START_UP_ARCHIVE))) {
      progress(`Recorded the start-up archive in ${((Date.now() - started) / 1000).toFixed(0)} s.`);
    } else {
      progress(
        `The start-up archive could not be recorded (jobs will start without it, a few seconds slower): ${rehearsal.stderr.trim().split('\n').slice(-2).join(' | ')}`,
      );
    }
  });
}

/**
 * Starts the rehearsal detached and at the lowest priority, so that the job start that asked goes on at once and keeps
 * the CPU. Detached means a session of its own, and with the kernel's autogroups (on by default) a session gets an
 * equal share of the CPU whatever its processes' nice values: the job's start took twice as long beside a nice 10
 * rehearsal. So the session's own nice (/proc/<pid>/autogroup) is lowered too. It holds the recording lock under
 * its own pid; its output goes to start-up.log.
 */
function recordInBackground(python: string, dir: string, progress: Progress, env: NodeJS.ProcessEnv): void {
  if (startUpArchiveState(dir) !== 'missing') return;
  const lock = claimLock(dir, ARCHIVE_LOCK);
  if (!lock) return;
  removePartialArchives(dir);
  const log = openSync(join(dir, 'start-up.log'), 'w');
  try {
    const pid = spawnDetached('nice', ['-n', '19', python, rehearsalScript(), '--runtime-dir', dir], {
      cwd: dir,
      env,
      stdio: ['ignore', log, log],
    });
    lock.handOver(pid);
    lowerSessionPriority(pid);
  } catch (error) {
    lock.release();
    throw error;
  } finally {
    closeSync(log);
  }
  progress('Recording the start-up class archive in the background (later job starts are a few seconds faster).');
}

/** The autogroup nice of `pid`'s session: 19, the least CPU beside other sessions. Where there are no autogroups, there is nothing to do. */
function lowerSessionPriority(pid: number): void {
  try {
    writeFileSync(`/proc/${pid}/autogroup`, '19');
  } catch {
    /* no autogroup scheduling here: the process's own nice applies */
  }
}

/**
 * A runtime folder per set of jars and Java: lib/ holds links to the jars, start-up.jsa the classes a rehearsed start
 * loaded (flink-jobs/startup_archive.py). The archive records the class path it was made with, so it is made in
 * the folder; the folder counts as complete once its manifest is written, with or without the archive (a job then
 * only starts slower), and the rehearsal renames its archive into place whole.
 */
export async function ensureFlinkRuntime(
  python: string,
  plannerJar: string,
  jars: FlinkJars,
  progress: Progress,
  env: NodeJS.ProcessEnv = process.env,
  { archive = 'now', signal }: { archive?: ArchivePolicy; signal?: AbortSignal } = {},
): Promise<string> {
  const pyflinkLib = pyflinkLibDir(python);
  if (!pyflinkLib) throw new Error(`PyFlink's lib folder was not found next to ${python}.`);
  const classPath = runtimeJars(pyflinkLib, plannerJar, jars);
  const java = await runCommand(javaBinary(env), ['-version'], { timeoutMs: 20_000, env });
  const hash = createHash('sha256').update(java.stderr + java.stdout);
  for (const jar of classPath) hash.update(`${jar}\0${statSync(jar).size}\0${statSync(jar).mtimeMs}\0`);
  const key = hash.digest('hex').slice(0, 12);
  const parent = join(cacheRoot(env), 'flink-runtime');
  const dir = join(parent, key);
  if (!isCompleteFolder(dir)) {
    mkdirSync(parent, { recursive: true });
    await withInstallLock(parent, key, { what: 'Flink runtime', progress, timeoutMs: 60_000, signal }, async () => {
      if (isCompleteFolder(dir)) return;
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(join(dir, 'lib'), { recursive: true });
      for (const jar of classPath) symlinkSync(jar, join(dir, 'lib', basename(jar)));
      writeManifest(dir, 'lib');
      pruneOlder(parent, key, 2);
    });
  }
  if (archive === 'now') await recordStartUpArchive(python, dir, progress, env, signal);
  else if (archive === 'background') recordInBackground(python, dir, progress, env);
  return dir;
}

/** Everything a Flink job of this project starts from: the jars, and the runtime folder holding them on the class path. */
export interface JobRuntime extends FlinkJars {
  runtimeDir: string;
}

/** The jars and the runtime; a job start asks for the start-up archive in the `background`, setup `now`. */
export async function ensureJobRuntime(
  python: string,
  progress: Progress,
  env: NodeJS.ProcessEnv = process.env,
  options: { archive?: ArchivePolicy; signal?: AbortSignal } = {},
): Promise<JobRuntime> {
  const jars = await ensureFlinkJars(progress, env, options.signal);
  const planner = await ensurePlannerJar(progress, env, options.signal);
  return { ...jars, runtimeDir: await ensureFlinkRuntime(python, planner, jars, progress, env, { archive: 'background', ...options }) };
}
