// The local Kafka stack: one KRaft node or three, their configs on loopback, start, wait until ready, stop, reset, status.
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkJava } from './environment';
import { errorMessage, UserError, withTimeout } from '../shared/errors';
import { ensureKafkaJars, type Progress } from './install';
import { createKafka } from '../kafka/kafkaClient';
import { stateRoot } from '../config/paths';
import { ensurePortFree } from './ports';
import { commandLineOf, isAlive, runCommand, spawnDetached, stopProcess } from './proc';
import { KAFKA_VERSION } from './versions';

export interface NodeSpec {
  id: number;
  port: number;
  controllerPort: number;
}

export type ClusterMode = 'single' | 'cluster3';

export const DEFAULT_TOPICS = [
  { topic: 'sensor-data', numPartitions: 3 },
  { topic: 'sensor-alerts', numPartitions: 3 },
];

export function nodesFor(mode: ClusterMode, env: NodeJS.ProcessEnv = process.env): NodeSpec[] {
  if (mode === 'cluster3') {
    return [1, 2, 3].map((id) => ({ id, port: id * 10000 + 9092, controllerPort: id * 10000 + 9093 }));
  }
  // Overridable only so that development can run beside another broker; the contract is 9092/9093.
  const port = Number(env.PIPELINE_KAFKA_PORT || 9092);
  const controllerPort = Number(env.PIPELINE_CONTROLLER_PORT || port + 1);
  return [{ id: 1, port, controllerPort }];
}

export function bootstrapFor(mode: ClusterMode, env: NodeJS.ProcessEnv = process.env): string {
  return nodesFor(mode, env)
    .map((n) => `127.0.0.1:${n.port}`)
    .join(',');
}

/** The server.properties of one combined broker + controller node, loopback only. */
export function serverProperties(node: NodeSpec, all: NodeSpec[], dataDir: string): string {
  const replication = all.length;
  const minIsr = all.length >= 3 ? 2 : 1;
  return [
    'process.roles=broker,controller',
    `node.id=${node.id}`,
    `controller.quorum.voters=${all.map((n) => `${n.id}@127.0.0.1:${n.controllerPort}`).join(',')}`,
    `listeners=PLAINTEXT://127.0.0.1:${node.port},CONTROLLER://127.0.0.1:${node.controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${node.port}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    `log.dirs=${dataDir}`,
    'num.partitions=3',
    `default.replication.factor=${replication}`,
    `min.insync.replicas=${minIsr}`,
    `offsets.topic.replication.factor=${replication}`,
    `transaction.state.log.replication.factor=${replication}`,
    `transaction.state.log.min.isr=${minIsr}`,
    `share.coordinator.state.topic.replication.factor=${replication}`,
    `share.coordinator.state.topic.min.isr=${minIsr}`,
    'group.initial.rebalance.delay.ms=0',
    'num.network.threads=2',
    'num.io.threads=2',
    // The log cleaner allocates this buffer on the heap at start (128 MB by default); 16 MB keeps the heap small.
    'log.cleaner.dedupe.buffer.size=16777216',
    'log.retention.hours=168',
    'auto.create.topics.enable=false',
    '',
  ].join('\n');
}

const LOG4J2 = `status = warn
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.stdout.ref = STDOUT
logger.state.name = state.change.logger
logger.state.level = WARN
logger.config.name = org.apache.kafka.common.config.AbstractConfig
logger.config.level = WARN
`;

/** A Kafka cluster id: 16 random bytes, base64url without padding (22 characters), not starting with '-'. */
export function newClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

export interface NodeStatus {
  id: number;
  address: string;
  pid?: number;
  running: boolean;
}

export interface StackStatus {
  state: 'up' | 'down' | 'degraded';
  mode?: ClusterMode;
  bootstrapServers?: string;
  version: string;
  clusterId?: string;
  controller?: number;
  nodes: NodeStatus[];
  topics: string[];
  dataDir?: string;
  logFile?: string;
  message?: string;
}

export interface UpResult {
  alreadyRunning: boolean;
  bootstrapServers: string;
  startedNodes: number[];
  createdTopics: string[];
  elapsedMs: number;
}

const DAMAGE_PATTERN =
  /meta\.properties|InconsistentClusterIdException|Invalid cluster\.id|CorruptRecordException|KafkaStorageException|InvalidRecordException|Failed to load|does not match|NoSuchFileException/;

/**
 * The local Kafka stack: one combined broker + controller on 127.0.0.1:9092/9093 (or three for replication
 * tests), started from the Maven jars in the cache, state kept in `<workspace>/.pipeline/kafka/<mode>`.
 * Used by both the `pipeline` command line and the extension.
 */
export class LocalStack {
  readonly root: string;

  constructor(
    readonly workspace: string,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    this.root = join(stateRoot(workspace, env), 'kafka');
  }

  modeDir(mode: ClusterMode): string {
    return join(this.root, mode);
  }

  nodeDir(mode: ClusterMode, id: number): string {
    return join(this.modeDir(mode), `node-${id}`);
  }

  logFile(mode: ClusterMode, id: number): string {
    return join(this.nodeDir(mode, id), 'broker.log');
  }

  private pidFile(mode: ClusterMode, id: number): string {
    return join(this.nodeDir(mode, id), 'broker.pid');
  }

  /** The pid of a node we started, if that process is still our broker (guards against pid reuse). */
  nodePid(mode: ClusterMode, id: number): number | undefined {
    try {
      const pid = Number(readFileSync(this.pidFile(mode, id), 'utf8').trim());
      const cmd = commandLineOf(pid);
      if (isAlive(pid) && cmd?.includes('kafka.Kafka') && cmd.includes(this.nodeDir(mode, id))) return pid;
    } catch {
      /* no pid file */
    }
    return undefined;
  }

  runningMode(): ClusterMode | undefined {
    for (const mode of ['single', 'cluster3'] as ClusterMode[]) {
      if (nodesFor(mode, this.env).some((n) => this.nodePid(mode, n.id))) return mode;
    }
    return undefined;
  }

  async up(options: { brokers?: 1 | 3; progress: Progress; topics?: boolean }): Promise<UpResult> {
    const started = Date.now();
    const mode: ClusterMode = options.brokers === 3 ? 'cluster3' : 'single';
    const other = this.runningMode();
    if (other && other !== mode) {
      throw new UserError(
        `The ${other === 'single' ? 'single-broker' : 'three-broker'} local stack is running: stop it first with \`pipeline stack down\`.`,
      );
    }
    const nodes = nodesFor(mode, this.env);
    const bootstrapServers = bootstrapFor(mode, this.env);
    const missing = nodes.filter((n) => !this.nodePid(mode, n.id));
    if (missing.length === 0) {
      return { alreadyRunning: true, bootstrapServers, startedNodes: [], createdTopics: [], elapsedMs: Date.now() - started };
    }

    const java = await checkJava(this.env);
    for (const node of missing) {
      for (const port of [node.port, node.controllerPort]) {
        await ensurePortFree(port, 'stop that process (or the other Kafka) and run `pipeline stack up` again');
      }
    }
    const libs = await ensureKafkaJars(options.progress, this.env);
    const classpath = `${libs}/*`;
    const clusterId = this.clusterId(mode);

    const startedPids: number[] = [];
    try {
      for (const node of missing) {
        await this.formatNode(mode, node, nodes, clusterId, java.binary, classpath, options.progress);
      }
      for (const node of missing) {
        startedPids.push(this.startNode(mode, node, java.binary, classpath, nodes.length));
      }
      options.progress(
        `Starting Apache Kafka ${KAFKA_VERSION} (KRaft, ${nodes.length === 1 ? 'one node' : 'three nodes'}) on ${bootstrapServers}…`,
      );
      await this.waitUntilReady(mode, nodes, missing);
    } catch (error) {
      // Leave nothing half-started behind.
      await Promise.all(startedPids.map((pid) => stopProcess(pid, 3000)));
      for (const node of missing) rmSync(this.pidFile(mode, node.id), { force: true });
      throw error;
    }
    const createdTopics = options.topics === false ? [] : await this.createDefaultTopics(bootstrapServers, nodes.length);
    return {
      alreadyRunning: false,
      bootstrapServers,
      startedNodes: missing.map((n) => n.id),
      createdTopics,
      elapsedMs: Date.now() - started,
    };
  }

  private clusterId(mode: ClusterMode): string {
    const file = join(this.modeDir(mode), 'cluster-id');
    if (existsSync(file)) {
      const id = readFileSync(file, 'utf8').trim();
      if (/^[A-Za-z0-9_-]{22}$/.test(id)) return id;
      throw this.damaged(mode, `${file} does not hold a valid cluster id`);
    }
    mkdirSync(this.modeDir(mode), { recursive: true });
    const id = newClusterId();
    writeFileSync(file, id + '\n');
    return id;
  }

  private damaged(mode: ClusterMode, reason: string): UserError {
    return new UserError(
      `The local Kafka data in ${this.modeDir(mode)} is damaged (${reason}): run \`pipeline stack reset${mode === 'cluster3' ? ' --brokers 3' : ''}\` to delete it (local topics and messages are lost), then \`pipeline stack up\`.`,
    );
  }

  private async formatNode(
    mode: ClusterMode,
    node: NodeSpec,
    all: NodeSpec[],
    clusterId: string,
    java: string,
    classpath: string,
    progress: Progress,
  ) {
    const dir = this.nodeDir(mode, node.id);
    const dataDir = join(dir, 'data');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'server.properties'), serverProperties(node, all, dataDir));
    writeFileSync(join(dir, 'log4j2.properties'), LOG4J2);
    const meta = join(dataDir, 'meta.properties');
    if (existsSync(dataDir) && readdirSync(dataDir).length > 0) {
      let text = '';
      try {
        text = readFileSync(meta, 'utf8');
      } catch {
        throw this.damaged(mode, `${meta} is missing`);
      }
      const match = /cluster\.id=(\S+)/.exec(text);
      if (!match || !/node\.id=\d+/.test(text)) throw this.damaged(mode, `${meta} is unreadable`);
      if (match[1] !== clusterId) throw this.damaged(mode, `its cluster id ${match[1]} differs from ${clusterId}`);
      return;
    }
    progress(`Formatting KRaft storage for node ${node.id} (cluster id ${clusterId})…`);
    const result = await runCommand(
      java,
      [
        `-Dlog4j2.configurationFile=${join(dir, 'log4j2.properties')}`,
        '-cp',
        classpath,
        'kafka.tools.StorageTool',
        'format',
        '-t',
        clusterId,
        '-c',
        join(dir, 'server.properties'),
        '--ignore-formatted',
      ],
      { timeoutMs: 60_000, env: this.env },
    );
    if (result.code !== 0) {
      rmSync(dataDir, { recursive: true, force: true });
      throw new UserError(
        `Formatting the Kafka storage in ${dataDir} failed: see ${dir} and the log output, then run again.`,
        result.stdout + result.stderr,
      );
    }
  }

  private startNode(mode: ClusterMode, node: NodeSpec, java: string, classpath: string, clusterSize: number): number {
    const dir = this.nodeDir(mode, node.id);
    const log = this.logFile(mode, node.id);
    // Keep the log bounded across many restarts.
    if (existsSync(log) && statSync(log).size > 50 * 1024 * 1024) rmSync(log);
    const fd = openSync(log, 'a');
    const heap = clusterSize === 1 ? '512m' : '384m';
    const pid = spawnDetached(
      java,
      [
        '-Xms128m',
        `-Xmx${heap}`,
        '-XX:+UseG1GC',
        '-XX:MaxGCPauseMillis=20',
        '-XX:+ExitOnOutOfMemoryError',
        '-Djava.awt.headless=true',
        `-Dlog4j2.configurationFile=${join(dir, 'log4j2.properties')}`,
        `-Dkafka.logs.dir=${dir}`,
        '-cp',
        classpath,
        'kafka.Kafka',
        join(dir, 'server.properties'),
      ],
      { cwd: dir, env: this.env, stdio: ['ignore', fd, fd] },
    );
    closeSync(fd);
    writeFileSync(this.pidFile(mode, node.id), `${pid}\n`);
    return pid;
  }

  private async waitUntilReady(mode: ClusterMode, all: NodeSpec[], started: NodeSpec[]): Promise<void> {
    const kafka = createKafka({
      bootstrapServers: started.map((n) => `127.0.0.1:${n.port}`),
      retries: 0,
      connectionTimeoutMs: 1000,
      requestTimeoutMs: 3000,
    });
    const timeoutMs = Number(this.env.PIPELINE_BROKER_START_TIMEOUT_MS || 90_000);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (const node of started) {
        if (!this.nodePid(mode, node.id)) throw this.startFailure(mode, node);
      }
      const admin = kafka.admin();
      try {
        await withTimeout(admin.connect(), 4000, 'Kafka');
        const cluster = await withTimeout(admin.describeCluster(), 4000, 'Kafka');
        const ids = new Set(cluster.brokers.map((b) => b.nodeId));
        if (
          started.every((n) => ids.has(n.id)) &&
          cluster.controller !== null &&
          cluster.controller !== undefined &&
          (all.length === 1 || ids.size >= 2)
        )
          return;
      } catch {
        /* not yet */
      } finally {
        await admin.disconnect().catch(() => undefined);
      }
      if (Date.now() > deadline) {
        throw new UserError(
          `Kafka did not answer metadata requests within ${timeoutMs / 1000} s: see the broker log ${this.logFile(mode, started[0].id)}.`,
        );
      }
      await new Promise((r) => setTimeout(r, 300));
    }
  }

  private startFailure(mode: ClusterMode, node: NodeSpec): UserError {
    let tail = '';
    try {
      tail = readFileSync(this.logFile(mode, node.id), 'utf8').split('\n').slice(-60).join('\n');
    } catch {
      /* no log */
    }
    const fatal = tail.split('\n').find((l) => /ERROR|FATAL|Exception/.test(l)) ?? '';
    if (DAMAGE_PATTERN.test(tail))
      return Object.assign(this.damaged(mode, fatal.slice(0, 200) || 'the broker refused its data folder'), { details: tail });
    return new UserError(
      `Kafka node ${node.id} exited during start-up${fatal ? ` (${fatal.slice(0, 200)})` : ''}: see ${this.logFile(mode, node.id)}.`,
      tail,
    );
  }

  private async createDefaultTopics(bootstrapServers: string, replication: number): Promise<string[]> {
    const admin = createKafka({ bootstrapServers: bootstrapServers.split(','), requestTimeoutMs: 10_000 }).admin();
    try {
      await withTimeout(admin.connect(), 10_000, 'Kafka');
      const existing = new Set(await withTimeout(admin.listTopics(), 10_000, 'Kafka'));
      const wanted = DEFAULT_TOPICS.filter((t) => !existing.has(t.topic)).map((t) => ({ ...t, replicationFactor: replication }));
      if (wanted.length > 0)
        await withTimeout(admin.createTopics({ topics: wanted, waitForLeaders: true }), 30_000, 'Kafka topic creation');
      return wanted.map((t) => t.topic);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  /** Stops every node we started: SIGTERM for a clean shutdown, SIGKILL after the grace period. */
  async down(options: { progress: Progress; nodeId?: number; graceMs?: number }): Promise<{ stopped: number[]; killed: number[] }> {
    const stopped: number[] = [];
    const killed: number[] = [];
    for (const mode of ['single', 'cluster3'] as ClusterMode[]) {
      for (const node of nodesFor(mode, this.env)) {
        if (options.nodeId !== undefined && node.id !== options.nodeId) continue;
        const pid = this.nodePid(mode, node.id);
        if (pid) {
          options.progress(`Stopping Kafka node ${node.id} (pid ${pid})…`);
          if (await stopProcess(pid, options.graceMs ?? 30_000)) killed.push(node.id);
          stopped.push(node.id);
        }
        rmSync(this.pidFile(mode, node.id), { force: true });
      }
    }
    return { stopped, killed };
  }

  /** Deletes the local broker data of a mode (after it is stopped). */
  async reset(mode: ClusterMode, progress: Progress): Promise<void> {
    if (nodesFor(mode, this.env).some((n) => this.nodePid(mode, n.id))) {
      throw new UserError('The local stack is running: stop it with `pipeline stack down` before resetting it.');
    }
    progress(`Deleting ${this.modeDir(mode)}…`);
    rmSync(this.modeDir(mode), { recursive: true, force: true });
  }

  async status(): Promise<StackStatus> {
    const mode = this.runningMode() ?? 'single';
    const specs = nodesFor(mode, this.env);
    const nodes: NodeStatus[] = specs.map((n) => {
      const pid = this.nodePid(mode, n.id);
      return { id: n.id, address: `127.0.0.1:${n.port}`, pid, running: pid !== undefined };
    });
    const base: StackStatus = {
      state: 'down',
      mode,
      bootstrapServers: bootstrapFor(mode, this.env),
      version: KAFKA_VERSION,
      nodes,
      topics: [],
      dataDir: this.modeDir(mode),
      logFile: this.logFile(mode, specs[0].id),
    };
    const running = nodes.filter((n) => n.running);
    if (running.length === 0) return base;
    const admin = createKafka({ bootstrapServers: running.map((n) => n.address), retries: 0 }).admin();
    try {
      await withTimeout(admin.connect(), 5000, 'Kafka');
      const cluster = await withTimeout(admin.describeCluster(), 5000, 'Kafka');
      const topics = (await withTimeout(admin.listTopics(), 5000, 'Kafka')).filter((t) => !t.startsWith('__')).sort();
      return {
        ...base,
        state: running.length === nodes.length ? 'up' : 'degraded',
        clusterId: cluster.clusterId,
        controller: cluster.controller ?? undefined,
        topics,
      };
    } catch (error) {
      return { ...base, state: 'degraded', message: `the broker process runs but does not answer: ${errorMessage(error)}` };
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }
}
