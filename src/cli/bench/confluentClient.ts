// The browse bench's other Kafka client: Confluent's librdkafka-based @confluentinc/kafka-javascript, through its
// KafkaJS-compatible API. Never a dependency of the extension: installed on demand into the cache, built from source.
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { cacheRoot } from '../../config/paths';
import { runCommand } from '../../local/proc';
import { BatchFilter, type FilterInput } from '../../kafka/scanFilter';
import type { KafkaAdminClient } from '../../kafka/kafkaAdmin';
import { fetchScanOffsets } from '../../kafka/kafkaMetadata';
import { deleteThrowAwayGroup, headerTexts, SCAN_GROUP_PREFIX } from '../../kafka/topicScan';
import type { Figure } from './figures';

export const CONFLUENT_PACKAGE = '@confluentinc/kafka-javascript';
export const CONFLUENT_VERSION = '1.10.1';
/** What the source build needs from the system, on Debian/Ubuntu (CKJS_LINKING=dynamic links OpenSSL and zlib). */
export const CONFLUENT_APT = ['g++', 'make', 'python3', 'libssl-dev', 'zlib1g-dev'];
const INSTALL_TIMEOUT_MS = 15 * 60_000;
const MARKER = 'installed.json';
const MB = 1024 * 1024;

/** Where the client is installed: `<cache>/bench/confluent-kafka-javascript`, outside the repository. */
export function confluentDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheRoot(env), 'bench', 'confluent-kafka-javascript');
}

/** The parts of the package's KafkaJS-compatible API the bench uses. */
export interface ConfluentMessage {
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  timestamp: string;
  headers?: Record<string, Buffer | string | (Buffer | string)[] | undefined>;
}
interface ConfluentBatch {
  partition: number;
  messages: ConfluentMessage[];
}
interface ConfluentConsumer {
  connect(): Promise<void>;
  subscribe(o: { topics: string[] }): Promise<void>;
  run(o: { eachBatch: (p: { batch: ConfluentBatch }) => Promise<void> }): Promise<void>;
  disconnect(): Promise<void>;
}
export interface ConfluentModule {
  librdkafkaVersion?: string;
  /** librdkafka's built-in features (gzip, ssl, lz4, zstd…): what the build found on the system. */
  features?: string[];
  KafkaJS: {
    Kafka: new (config: Record<string, unknown>) => { consumer(config: Record<string, unknown>): ConfluentConsumer };
    logLevel?: Record<string, number>;
  };
}

export type ConfluentLoad =
  | {
      ok: true;
      module: ConfluentModule;
      dir: string;
      /** Seconds the install took, this run or when it was installed (from its marker). */
      installSeconds?: number;
      installedNow: boolean;
      /** The native files a VSIX would ship per platform: the addon and its librdkafka. */
      nativeFiles: { name: string; bytes: number }[];
    }
  | { ok: false; reason: string };

/**
 * Why an install failed, in one line, from npm's output and the build tools missing on PATH. The bench never
 * installs system packages itself: the line says which to install.
 */
export function installFailureReason(output: string, missingCommands: string[] = []): string {
  const apt = `apt-get install -y ${CONFLUENT_APT.join(' ')}`;
  if (missingCommands.length) return `no ${missingCommands.join(', ')} on PATH to build librdkafka (install: ${apt})`;
  const has = (re: RegExp) => re.test(output);
  if (has(/openssl\/\w+\.h: No such file|OpenSSL.*(not found|fail)|libssl.*not found/i))
    return `the OpenSSL headers are missing (install: apt-get install -y libssl-dev)`;
  if (has(/zlib\.h: No such file|-lz\b.*not found|cannot find -lz\b/i))
    return `the zlib headers are missing (install: apt-get install -y zlib1g-dev)`;
  if (has(/gyp ERR!.*(find Python|python)/i)) return `node-gyp finds no Python (install: apt-get install -y python3)`;
  if (has(/(g\+\+|c\+\+|cc|make): (command )?not found|not found: make|No C\+\+ compiler/i))
    return `no C/C++ compiler or make (install: ${apt})`;
  if (has(/E(AI_AGAIN|NOTFOUND|CONNREFUSED|TIMEDOUT|CONNRESET)|ETARGET|404 Not Found/))
    return `npm could not fetch ${CONFLUENT_PACKAGE}@${CONFLUENT_VERSION} or its dependencies (${firstMatch(output, /npm (?:ERR!|error) .*(?:E[A-Z_]+|404).*/)})`;
  const last =
    output
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => /error|ERR!/i.test(l))
      .pop() ?? output.trim().split('\n').pop();
  return `the build failed (${(last ?? 'no output').slice(0, 200)}; needs ${CONFLUENT_APT.join(', ')})`;
}

function firstMatch(text: string, re: RegExp): string {
  return (re.exec(text)?.[0] ?? 'no detail').trim().slice(0, 160);
}

function onPath(command: string): boolean {
  return (process.env.PATH ?? '').split(':').some((d) => d && existsSync(join(d, command)));
}

function packageDir(dir: string): string {
  return join(dir, 'node_modules', ...CONFLUENT_PACKAGE.split('/'));
}

/** The addon and the librdkafka it loads, symlinks not counted twice. */
function nativeFiles(dir: string): { name: string; bytes: number }[] {
  const root = packageDir(dir);
  const files: { name: string; bytes: number }[] = [];
  for (const [sub, match] of [
    ['build/Release', /\.node$/],
    ['build/deps', /\.so(\.\d+)*$|\.dylib$/],
  ] as const) {
    const folder = join(root, sub);
    if (!existsSync(folder)) continue;
    for (const name of readdirSync(folder)) {
      const stat = lstatSync(join(folder, name));
      if (match.test(name) && stat.isFile()) files.push({ name: `${sub}/${name}`, bytes: stat.size });
    }
  }
  return files;
}

function load(dir: string): ConfluentModule {
  return createRequire(join(dir, 'package.json'))(CONFLUENT_PACKAGE) as ConfluentModule;
}

/**
 * The client from the cache, installed once: into a temporary folder renamed into place when the install is
 * whole, so a cut-off install is never used. Fails with a reason, never with an exception.
 */
export async function ensureConfluentClient(progress: (line: string) => void): Promise<ConfluentLoad> {
  const dir = confluentDir();
  let installSeconds: number | undefined;
  let installedNow = false;
  if (!existsSync(join(dir, MARKER))) {
    const missing = ['g++', 'make', 'python3'].filter((c) => !onPath(c));
    if (missing.length) return { ok: false, reason: installFailureReason('', missing) };
    const temp = `${dir}.tmp-${process.pid}`;
    rmSync(temp, { recursive: true, force: true });
    mkdirSync(temp, { recursive: true });
    progress(`[browse] installing ${CONFLUENT_PACKAGE}@${CONFLUENT_VERSION} into ${dir} (builds librdkafka from source, a few minutes)…`);
    const started = performance.now();
    const npm = await runCommand(
      'npm',
      ['install', '--no-save', '--no-audit', '--no-fund', '--prefix', temp, `${CONFLUENT_PACKAGE}@${CONFLUENT_VERSION}`],
      { cwd: temp, env: { ...process.env, CKJS_LINKING: 'dynamic' }, timeoutMs: INSTALL_TIMEOUT_MS },
    );
    installSeconds = (performance.now() - started) / 1000;
    const built = nativeFiles(temp).some((f) => f.name.endsWith('.node'));
    if (npm.code !== 0 || !built) {
      rmSync(temp, { recursive: true, force: true });
      if (npm.timedOut) return { ok: false, reason: `the install took longer than ${INSTALL_TIMEOUT_MS / 60_000} min and was stopped` };
      return { ok: false, reason: installFailureReason(`${npm.stdout}\n${npm.stderr}`) };
    }
    writeFileSync(
      join(temp, MARKER),
      JSON.stringify({ version: CONFLUENT_VERSION, seconds: installSeconds, at: new Date().toISOString(), linking: 'dynamic' }),
    );
    mkdirSync(dirname(dir), { recursive: true });
    rmSync(dir, { recursive: true, force: true });
    renameSync(temp, dir);
    installedNow = true;
  } else {
    try {
      installSeconds = (JSON.parse(readFileSync(join(dir, MARKER), 'utf8')) as { seconds?: number }).seconds;
    } catch {
      installSeconds = undefined;
    }
  }
  try {
    return { ok: true, module: load(dir), dir, installSeconds, installedNow, nativeFiles: nativeFiles(dir) };
  } catch (error) {
    const message = (error as Error).message.split('\n')[0];
    const lib = /(lib[\w+.-]+\.so[\d.]*): cannot open shared object/.exec(message)?.[1];
    return {
      ok: false,
      reason: lib
        ? `it does not load: ${lib} is missing (install its package, e.g. apt-get install -y ${CONFLUENT_APT.slice(3).join(' ')}, or delete ${dir} to build again)`
        : `it does not load (${message}; delete ${dir} to install again)`,
    };
  }
}

/** What the scan's DuckDB filter takes of a batch, as topicScan hands it kafkajs' records. */
export function filterInputsOf(messages: ConfluentMessage[]): FilterInput[] {
  return messages.map((m) => {
    const h = headerTexts(m.headers);
    return {
      offset: Number(m.offset),
      timestampMs: Number(m.timestamp),
      key: m.key ?? null,
      value: m.value ?? null,
      headersJson: () => (h.count > 0 ? JSON.stringify(h.headers) : null),
      size: (m.key?.length ?? 0) + (m.value?.length ?? 0) + h.bytes,
    };
  });
}

/** Where each partition's read ends: done when every partition has delivered the offset before its end. */
export class PartitionEnds {
  private readonly next = new Map<number, { at: number; end: number }>();
  constructor(ranges: { partition: number; low: number; high: number }[]) {
    for (const r of ranges) this.next.set(r.partition, { at: r.low, end: r.high });
  }
  /** Notes a batch's last offset; false when the partition had already reached its end (a record past it). */
  see(partition: number, lastOffset: number): boolean {
    const p = this.next.get(partition);
    if (!p || p.at >= p.end) return false;
    p.at = Math.max(p.at, lastOffset + 1);
    return true;
  }
  /** The partition's end offset (records at or past it are not the read's). */
  endOf(partition: number): number {
    return this.next.get(partition)?.end ?? -1;
  }
  get done(): boolean {
    return [...this.next.values()].every((p) => p.at >= p.end);
  }
}

export interface ConfluentRead {
  messages: number;
  bytes: number;
  seconds: number;
}

/**
 * The whole topic from its start to the ends given, through the KafkaJS-compatible consumer with eachBatch, in a
 * throw-away group that commits nothing. Records past an end (produced since) are not counted.
 */
export async function confluentReadAll(
  mod: ConfluentModule,
  o: {
    bootstrap: string;
    topic: string;
    groupId: string;
    ranges: { partition: number; low: number; high: number }[];
    batchSize: number;
    /** librdkafka properties (CONFIGURATION.md) beside the kafkaJS block. */
    librdkafka?: Record<string, string | number | boolean>;
    timeoutMs: number;
    onBatch?: (partition: number, messages: ConfluentMessage[]) => Promise<void> | void;
  },
): Promise<ConfluentRead> {
  const started = performance.now();
  const ends = new PartitionEnds(o.ranges);
  const { Kafka, logLevel } = mod.KafkaJS;
  const kafka = new Kafka({
    kafkaJS: { brokers: o.bootstrap.split(','), clientId: 'kafka-flink-lab-bench', logLevel: logLevel?.ERROR ?? 1 },
  });
  const consumer = kafka.consumer({
    kafkaJS: { groupId: o.groupId, fromBeginning: true, autoCommit: false },
    'js.consumer.max.batch.size': o.batchSize,
    ...o.librdkafka,
  });
  let messages = 0;
  let bytes = 0;
  let finish: () => void = () => undefined;
  let fail: (e: Error) => void = () => undefined;
  const done = new Promise<void>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  const timer = setTimeout(() => fail(new Error(`the read took longer than ${o.timeoutMs / 1000} s (${messages} messages)`)), o.timeoutMs);
  try {
    if (ends.done) finish();
    await consumer.connect();
    await consumer.subscribe({ topics: [o.topic] });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        if (ends.done || batch.messages.length === 0) return;
        const end = ends.endOf(batch.partition);
        const last = batch.messages[batch.messages.length - 1];
        const inRange = Number(last.offset) < end ? batch.messages : batch.messages.filter((m) => Number(m.offset) < end);
        if (inRange.length === 0 || !ends.see(batch.partition, Number(inRange[inRange.length - 1].offset))) return;
        messages += inRange.length;
        for (const m of inRange) bytes += (m.key?.length ?? 0) + (m.value?.length ?? 0);
        try {
          await o.onBatch?.(batch.partition, inRange);
        } catch (error) {
          fail(error as Error);
          return;
        }
        if (ends.done) finish();
      },
    });
    await done;
    return { messages, bytes, seconds: (performance.now() - started) / 1000 };
  } finally {
    clearTimeout(timer);
    let waited: NodeJS.Timeout | undefined;
    await Promise.race([consumer.disconnect().catch(() => undefined), new Promise((r) => (waited = setTimeout(r, 30_000)))]);
    clearTimeout(waited);
  }
}

export interface ConfluentArm {
  label: string;
  filtered: boolean;
  read: ConfluentRead;
}

/**
 * @confluentinc/kafka-javascript (installed on demand into the cache, never a dependency) reading the whole topic,
 * alone and through the scan's BatchFilter. When it cannot be installed or loaded, one line says why and the bench
 * goes on without it.
 */
export async function benchConfluent(o: {
  admin: KafkaAdminClient;
  bootstrap: string;
  topic: string;
  total: number;
  where: string;
  progress: (line: string) => void;
  add: (f: Omit<Figure, 'section'>) => void;
}): Promise<ConfluentArm[]> {
  const { add, progress } = o;
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  let client: Awaited<ReturnType<typeof ensureConfluentClient>>;
  try {
    client = await ensureConfluentClient(progress);
  } catch (error) {
    client = { ok: false, reason: (error as Error).message.split('\n')[0] };
  }
  if (!client.ok) {
    progress(`  ${CONFLUENT_PACKAGE}@${CONFLUENT_VERSION} not measured: ${client.reason}`);
    return [];
  }
  const nativeBytes = client.nativeFiles.reduce((n, f) => n + f.bytes, 0);
  progress(
    `  ${CONFLUENT_PACKAGE}@${CONFLUENT_VERSION} (librdkafka ${client.module.librdkafkaVersion ?? '?'}: ${client.module.features?.join(', ') ?? '?'}) from ${client.dir}: ${client.installedNow ? 'installed' : 'installed earlier'} in ${client.installSeconds?.toFixed(0) ?? '?'} s; native files ${client.nativeFiles.map((f) => `${f.name} ${(f.bytes / MB).toFixed(1)} MB`).join(', ')}`,
  );
  if (client.installSeconds !== undefined)
    add({
      name: `${CONFLUENT_PACKAGE} install (npm, built from source, CKJS_LINKING=dynamic)`,
      value: client.installSeconds,
      unit: 's',
      note: client.installedNow ? 'this run' : 'an earlier run, reused',
    });
  add({
    name: `${CONFLUENT_PACKAGE} native files per platform (addon + librdkafka)`,
    value: nativeBytes / MB,
    unit: 'MB',
    note: client.nativeFiles.map((f) => f.name.split('/').pop()).join(' + '),
  });

  const batchSize = 2048;
  // Extra librdkafka properties to try (JSON, e.g. {"queued.min.messages":10000}); the default is the client's own.
  const tuningText = process.env.PIPELINE_BENCH_CONFLUENT_CONFIG;
  const arms: ConfluentArm[] = [];
  for (const filtered of [false, true]) {
    const label = filtered ? `${CONFLUENT_PACKAGE} + DuckDB filter (${o.where})` : `${CONFLUENT_PACKAGE} alone (no decoding, no DuckDB)`;
    progress(`[browse] ${label} over the whole topic…`);
    const groupId = `${SCAN_GROUP_PREFIX}bench-confluent-${Date.now().toString(36)}`;
    let filter: BatchFilter | undefined;
    let matched = 0;
    try {
      const ranges = (await fetchScanOffsets(o.admin, o.topic, 'committed')).map((p) => ({
        partition: p.partition,
        low: p.low,
        high: p.high,
      }));
      const tuning = tuningText ? (JSON.parse(tuningText) as Record<string, string | number | boolean>) : undefined;
      filter = filtered ? await BatchFilter.open(o.where) : undefined;
      const rssBefore = process.memoryUsage().rss;
      let peakRss = rssBefore;
      const read = await confluentReadAll(client.module, {
        bootstrap: o.bootstrap,
        topic: o.topic,
        groupId,
        ranges,
        batchSize,
        librdkafka: tuning,
        timeoutMs: 10 * 60_000,
        onBatch: async (partition, messages) => {
          if (filter) matched += (await filter.match(partition, filterInputsOf(messages))).length;
          peakRss = Math.max(peakRss, process.memoryUsage().rss);
        },
      });
      if (read.messages !== o.total) progress(`  it read ${fmt(read.messages)} messages of ${fmt(o.total)}`);
      add({
        name: label,
        value: read.messages / read.seconds,
        unit: 'msgs/s',
        note: `${fmt(read.messages)} messages, ${(read.bytes / MB / read.seconds).toFixed(1)} MB/s, ${read.seconds.toFixed(1)} s${filter ? `, ${fmt(matched)} matched` : ''}, eachBatch of up to ${batchSize}${tuningText ? `, with ${tuningText}` : ''}, RSS ${(rssBefore / MB).toFixed(0)} MB before, peak ${(peakRss / MB).toFixed(0)} MB`,
      });
      add({
        name: `peak RSS: ${label}`,
        value: peakRss / MB,
        unit: 'MB',
        note: `${((peakRss - rssBefore) / MB).toFixed(0)} MB over the RSS before it`,
      });
      arms.push({ label: filtered ? `${CONFLUENT_PACKAGE} + DuckDB filter` : `${CONFLUENT_PACKAGE} alone`, filtered, read });
    } catch (error) {
      progress(`  ${label} failed: ${(error as Error).message.split('\n')[0]}`);
    } finally {
      await filter?.close();
      await deleteThrowAwayGroup(o.admin, groupId);
    }
  }
  return arms;
}
