// Maven's downloads and builds into the cache, verified by a manifest written last: Kafka's jars and perf tools, the connector, the planner, the job library.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkMaven } from './environment';
import { UserError } from '../shared/errors';
import { cacheRoot, projectRoot } from '../config/paths';
import { runCommand } from './proc';
import { withInstallLock } from './installLock';
import { interrupted, mavenTally, seconds, tallyProgress } from './installProgress';
import {
  FLINK_KAFKA_CONNECTOR_ARTIFACT,
  FLINK_KAFKA_CONNECTOR_VERSION,
  FLINK_VERSION,
  KAFKA_SCALA_ARTIFACT,
  KAFKA_VERSION,
  LOG4J_VERSION,
} from './versions';

export type Progress = (message: string) => void;

const COMPLETE = '.complete.json';

interface Manifest {
  files: Record<string, number>;
  createdAt: string;
}

/** A cached folder is good only if its manifest exists and every listed file has its recorded size. */
export function isCompleteFolder(dir: string): boolean {
  try {
    const manifest = JSON.parse(readFileSync(join(dir, COMPLETE), 'utf8')) as Manifest;
    const entries = Object.entries(manifest.files);
    return entries.length > 0 && entries.every(([name, size]) => statSync(join(dir, name)).size === size);
  } catch {
    return false;
  }
}

export function writeManifest(dir: string, subdir: string): void {
  const files: Record<string, number> = {};
  for (const name of readdirSync(join(dir, subdir))) files[join(subdir, name)] = statSync(join(dir, subdir, name)).size;
  writeFileSync(join(dir, COMPLETE), JSON.stringify({ files, createdAt: new Date().toISOString() } satisfies Manifest, null, 1));
}

function mavenSettings(env: NodeJS.ProcessEnv): string | undefined {
  const mirror = env.PIPELINE_MAVEN_MIRROR;
  if (!mirror) return undefined;
  return `<settings><mirrors><mirror><id>pipeline-mirror</id><mirrorOf>*</mirrorOf><url>${mirror}</url></mirror></mirrors></settings>`;
}

function mavenFailure(what: string, output: string): UserError {
  const network =
    /Could not (transfer|resolve)|UnknownHost|Connection refused|Connect to|timed out|Network is unreachable|non-resolvable|No plugin found for prefix|available from the repositories/i.test(
      output,
    );
  if (network) {
    return new UserError(
      `Could not download ${what} from Maven Central: check the network connection or proxy (or set PIPELINE_MAVEN_MIRROR to a reachable mirror) and run the command again.`,
      output.slice(-4000),
    );
  }
  return new UserError(`Maven failed to fetch ${what}: run again with PIPELINE_DEBUG=1 to see Maven's output.`, output.slice(-4000));
}

interface MavenStep {
  /** The pom to run, written into the temporary folder; without it, `args` names one with -f. */
  pom?: string;
  /** Maven's arguments, given the temporary folder (its `libs/` is what lands in the cache). */
  args: (tmpDir: string) => string[];
  /** Moves what Maven made into `libs/`, when the goal does not put it there. */
  collect?: (tmpDir: string) => void;
  verb: 'Downloading' | 'Building';
}

/**
 * Runs Maven in a temporary folder and moves the result into place only when complete, so an interrupted
 * download or build never looks like a good one. One Maven at a time, across processes too (they share ~/.m2).
 */
async function mavenIntoCache(
  what: string,
  finalDir: string,
  step: MavenStep,
  progress: Progress,
  env: NodeJS.ProcessEnv,
  signal?: AbortSignal,
): Promise<void> {
  const mvn = await checkMaven(env);
  await withInstallLock(cacheRoot(env), 'maven', { what: 'Maven', progress, timeoutMs: 20 * 60_000, signal }, async () => {
    if (isCompleteFolder(finalDir)) return; // made by the run this one waited for
    const tmpDir = `${finalDir}.tmp-${process.pid}`;
    rmSync(tmpDir, { recursive: true, force: true });
    rmSync(finalDir, { recursive: true, force: true });
    mkdirSync(join(tmpDir, 'libs'), { recursive: true });
    if (step.pom) writeFileSync(join(tmpDir, 'pom.xml'), step.pom);
    // Batch mode without -q: its "Downloaded from central: … (size at rate)" lines are summed up as progress.
    const args = ['-B', ...(step.pom ? ['-f', join(tmpDir, 'pom.xml')] : []), ...step.args(tmpDir)];
    const settings = mavenSettings(env);
    if (settings) {
      writeFileSync(join(tmpDir, 'settings.xml'), settings);
      args.unshift('-s', join(tmpDir, 'settings.xml'));
    }
    if (env.PIPELINE_MAVEN_REPO_LOCAL) args.push(`-Dmaven.repo.local=${env.PIPELINE_MAVEN_REPO_LOCAL}`);
    progress(`${step.verb} ${what} with Maven (once; cached in ${finalDir})…`);
    const started = Date.now();
    const tally = mavenTally();
    const onOutput = tallyProgress('Maven', tally, progress, started);
    const result = await runCommand(mvn, args, { timeoutMs: 15 * 60_000, env, onOutput, signal });
    if (result.code === 0) step.collect?.(tmpDir);
    if (result.code !== 0 || readdirSync(join(tmpDir, 'libs')).length === 0) {
      rmSync(tmpDir, { recursive: true, force: true });
      if (result.interrupted) throw interrupted(what);
      throw mavenFailure(what, result.stdout + result.stderr);
    }
    writeManifest(tmpDir, 'libs');
    renameSync(tmpDir, finalDir);
    const fetched = tally.files > 0 ? ` (downloaded ${tally.summary(Date.now() - started)})` : '';
    progress(`${step.verb === 'Building' ? 'Built' : 'Downloaded'} ${what} in ${seconds(started)}${fetched}.`);
  });
}

/** Pinned so that a run does not depend on which plugin version the local Maven repository happens to hold. */
const DEPENDENCY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1';

const pomHeader = `<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
<groupId>kafka-flink-lab</groupId><artifactId>runtime</artifactId><version>1</version><packaging>pom</packaging>`;

/** Maven's arguments that copy a pom's runtime dependencies into the temporary folder's libs/. */
const copyDependencies = (tmp: string) => [
  `${DEPENDENCY_PLUGIN}:copy-dependencies`,
  '-DincludeScope=runtime',
  `-DoutputDirectory=${join(tmp, 'libs')}`,
];

/** A pom of one Kafka artifact at the broker's version, with the same log4j2 backend as the broker. */
function kafkaPom(artifact: string): string {
  const dep = (g: string, a: string, v: string) =>
    `<dependency><groupId>${g}</groupId><artifactId>${a}</artifactId><version>${v}</version></dependency>`;
  return `${pomHeader}<dependencies>
${dep('org.apache.kafka', artifact, KAFKA_VERSION)}
${dep('org.apache.logging.log4j', 'log4j-core', LOG4J_VERSION)}
${dep('org.apache.logging.log4j', 'log4j-slf4j-impl', LOG4J_VERSION)}
</dependencies></project>`;
}

/** Maven's arguments that copy one artifact (group:artifact:version) into the temporary folder's libs/. */
const copyArtifact = (coordinates: string) => (tmp: string) => [
  `${DEPENDENCY_PLUGIN}:copy`,
  `-Dartifact=${coordinates}`,
  `-DoutputDirectory=${join(tmp, 'libs')}`,
];

/** Downloads into `<cache>/<kind>/<version>` once; returns that folder's libs/. */
async function downloadedOnce(
  kind: string,
  version: string,
  what: string,
  step: Omit<MavenStep, 'verb'>,
  progress: Progress,
  env: NodeJS.ProcessEnv,
  signal?: AbortSignal,
): Promise<string> {
  const dir = join(cacheRoot(env), kind, version);
  if (!isCompleteFolder(dir)) {
    mkdirSync(join(cacheRoot(env), kind), { recursive: true });
    await mavenIntoCache(what, dir, { ...step, verb: 'Downloading' }, progress, env, signal);
  }
  return join(dir, 'libs');
}

/** Apache Kafka's server jars and a log4j2 backend, resolved from Maven Central into the cache once. */
export function ensureKafkaJars(progress: Progress, env: NodeJS.ProcessEnv = process.env, signal?: AbortSignal): Promise<string> {
  return downloadedOnce(
    'kafka',
    KAFKA_VERSION,
    `Apache Kafka ${KAFKA_VERSION}`,
    { pom: kafkaPom(KAFKA_SCALA_ARTIFACT), args: copyDependencies },
    progress,
    env,
    signal,
  );
}

/** Kafka's own perf tools (ProducerPerformance, ConsumerPerformance), same version as the broker: the bench's anchors. */
export function ensureKafkaTools(progress: Progress, env: NodeJS.ProcessEnv = process.env, signal?: AbortSignal): Promise<string> {
  return downloadedOnce(
    'kafka-tools',
    KAFKA_VERSION,
    `Kafka's perf tools ${KAFKA_VERSION}`,
    { pom: kafkaPom('kafka-tools'), args: copyDependencies },
    progress,
    env,
    signal,
  );
}

/** The fat flink-sql-connector-kafka jar matching the PyFlink version. */
export async function ensureConnectorJar(progress: Progress, env: NodeJS.ProcessEnv = process.env, signal?: AbortSignal): Promise<string> {
  const libs = await downloadedOnce(
    'flink-connector',
    FLINK_KAFKA_CONNECTOR_VERSION,
    `the Flink Kafka connector ${FLINK_KAFKA_CONNECTOR_VERSION}`,
    { pom: `${pomHeader}</project>`, args: copyArtifact(`org.apache.flink:flink-sql-connector-kafka:${FLINK_KAFKA_CONNECTOR_VERSION}`) },
    progress,
    env,
    signal,
  );
  return join(libs, FLINK_KAFKA_CONNECTOR_ARTIFACT);
}

/** Flink's SQL planner jar itself (the distribution ships it behind a loader that unpacks it at every start). */
export async function ensurePlannerJar(progress: Progress, env: NodeJS.ProcessEnv = process.env, signal?: AbortSignal): Promise<string> {
  const libs = await downloadedOnce(
    'flink-planner',
    FLINK_VERSION,
    `Flink's SQL planner ${FLINK_VERSION}`,
    { pom: `${pomHeader}</project>`, args: copyArtifact(`org.apache.flink:flink-table-planner_2.12:${FLINK_VERSION}`) },
    progress,
    env,
    signal,
  );
  return join(libs, `flink-table-planner_2.12-${FLINK_VERSION}.jar`);
}

/** Flink's SQL Gateway jar (about 1 MB): PyFlink ships `bin/sql-gateway.sh` but not the jar it starts. */
export async function ensureSqlGatewayJar(progress: Progress, env: NodeJS.ProcessEnv = process.env, signal?: AbortSignal): Promise<string> {
  const libs = await downloadedOnce(
    'flink-sql-gateway',
    FLINK_VERSION,
    `Flink's SQL Gateway ${FLINK_VERSION}`,
    { pom: `${pomHeader}</project>`, args: copyArtifact(`org.apache.flink:flink-sql-gateway:${FLINK_VERSION}`) },
    progress,
    env,
    signal,
  );
  return join(libs, `flink-sql-gateway-${FLINK_VERSION}.jar`);
}

export const JOB_LIB_JAR = 'kafka-flink-lab-job-lib.jar';

export function jobLibSources(): string {
  return join(projectRoot(), 'flink-jobs', 'job-lib');
}

/** A hash of the job library's pom and main sources: a changed source builds a new jar. */
export function jobLibVersion(dir: string = jobLibSources()): string {
  const hash = createHash('sha256');
  const walk = (rel: string) => {
    const full = join(dir, rel);
    if (statSync(full).isDirectory()) {
      for (const name of readdirSync(full).sort()) walk(join(rel, name));
    } else {
      hash.update(rel).update('\0').update(readFileSync(full)).update('\0');
    }
  };
  walk('pom.xml');
  walk(join('src', 'main'));
  return hash.digest('hex').slice(0, 12);
}

/**
 * Removes all but the `keep` newest builds in `parent` besides `current`: a job that still runs may load classes
 * from an older one (another checkout's, or the one before a change).
 */
export function pruneOlder(parent: string, current: string, keep: number): void {
  const older = readdirSync(parent)
    .filter((name) => name !== current && !name.includes('.tmp-'))
    .sort((a, b) => statSync(join(parent, b)).mtimeMs - statSync(join(parent, a)).mtimeMs);
  for (const old of older.slice(keep)) rmSync(join(parent, old), { recursive: true, force: true });
}

/**
 * The job's Java library (flink-jobs/job-lib: the `sensor-json` format and the `pipeline-files` sink), built with
 * Maven once per version of its sources into the cache.
 */
export async function ensureJobLib(progress: Progress, env: NodeJS.ProcessEnv = process.env, signal?: AbortSignal): Promise<string> {
  const version = jobLibVersion();
  const parent = join(cacheRoot(env), 'job-lib');
  const dir = join(parent, version);
  if (!isCompleteFolder(dir)) {
    mkdirSync(parent, { recursive: true });
    await mavenIntoCache(
      'the job library (flink-jobs/job-lib)',
      dir,
      {
        // The build folder is the temporary one, so a read-only install folder (an extension) is never written.
        args: (tmp) => ['-f', join(jobLibSources(), 'pom.xml'), 'package', '-DskipTests', `-Dlab.buildDirectory=${join(tmp, 'build')}`],
        collect: (tmp) => renameSync(join(tmp, 'build', JOB_LIB_JAR), join(tmp, 'libs', JOB_LIB_JAR)),
        verb: 'Building',
      },
      progress,
      env,
      signal,
    );
    pruneOlder(parent, version, 2);
  }
  return join(dir, 'libs', JOB_LIB_JAR);
}

/** The jars a Flink job of this project loads: the Kafka SQL connector and the job library. */
export interface FlinkJars {
  connectorJar: string;
  jobLibJar: string;
}

export async function ensureFlinkJars(progress: Progress, env: NodeJS.ProcessEnv = process.env, signal?: AbortSignal): Promise<FlinkJars> {
  return { connectorJar: await ensureConnectorJar(progress, env, signal), jobLibJar: await ensureJobLib(progress, env, signal) };
}
