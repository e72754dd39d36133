// The Flink runtime the jobs start from: a lib/ folder with Flink, its SQL planner, the Kafka connector and the job library on the JVM's class path, and a start-up class archive (AppCDS) recorded once.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { javaBinary } from './environment';
import { ensureFlinkJars, ensurePlannerJar, type FlinkJars, isCompleteFolder, type Progress, pruneOlder, writeManifest } from './install';
import { cacheRoot, projectRoot } from '../config/paths';
import { runCommand } from './proc';

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

/**
 * A runtime folder per set of jars and Java: lib/ holds links to the jars, start-up.jsa the classes a rehearsed start
 * loaded (flink-jobs/startup_archive.py). The archive records the class path it was made with, so it is made in
 * place, and the folder counts once its manifest is written last. Without an archive (the rehearsal failed) the
 * runtime still works, only its start is slower.
 */
export async function ensureFlinkRuntime(
  python: string,
  plannerJar: string,
  jars: FlinkJars,
  progress: Progress,
  env: NodeJS.ProcessEnv = process.env,
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
  if (isCompleteFolder(dir)) return dir;

  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'lib'), { recursive: true });
  for (const jar of classPath) symlinkSync(jar, join(dir, 'lib', basename(jar)));
  progress('Recording the Flink job start-up class archive (once; about half a minute)…');
  const started = Date.now();
  const rehearsal = await runCommand(python, [join(projectRoot(), 'flink-jobs', 'startup_archive.py'), '--runtime-dir', dir], {
    timeoutMs: 5 * 60_000,
    env,
    cwd: dir,
  });
  if (rehearsal.code === 0 && existsSync(join(dir, START_UP_ARCHIVE))) {
    progress(`Recorded the start-up archive in ${((Date.now() - started) / 1000).toFixed(0)} s.`);
  } else {
    rmSync(join(dir, START_UP_ARCHIVE), { force: true });
    progress(
      `The start-up archive could not be recorded (jobs will start without it, a few seconds slower): ${rehearsal.stderr.trim().split('\n').slice(-2).join(' | ')}`,
    );
  }
  writeManifest(dir, 'lib');
  pruneOlder(parent, key, 2);
  return dir;
}

/** Everything a Flink job of this project starts from: the jars, and the runtime folder holding them on the class path. */
export interface JobRuntime extends FlinkJars {
  runtimeDir: string;
}

export async function ensureJobRuntime(python: string, progress: Progress, env: NodeJS.ProcessEnv = process.env): Promise<JobRuntime> {
  const jars = await ensureFlinkJars(progress, env);
  const planner = await ensurePlannerJar(progress, env);
  return { ...jars, runtimeDir: await ensureFlinkRuntime(python, planner, jars, progress, env) };
}
