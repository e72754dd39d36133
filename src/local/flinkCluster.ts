// The local Flink session cluster: a JobManager and TaskManagers as separate JVMs from PyFlink's own Flink distribution, every port on loopback, state under `.pipeline/flink-cluster/`.
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { UserError } from '../shared/errors';
import { fetchClusterOverview } from '../flink/flinkRest';
import type { FlinkClusterOverview } from '../flink/flinkRestTypes';
import { pyflinkLibDir } from './flinkRuntime';
import type { Progress } from './install';
import { stateRoot } from '../config/paths';
import { ensurePortFree } from './ports';
import { SASL_PASSWORD_ENV, SASL_PASSWORD_FILE_ENV } from '../kafka/clusterSecurity';
import {
  commandLineOf,
  environmentOf,
  identityOf,
  isSameProcess,
  pollUntil,
  spawnDetached,
  stopIdentified,
  type ProcessIdentity,
} from './proc';

/**
 * The cluster's fixed ports: REST 8081 (the contract), JobManager RPC 6123 and blob server 6124 (Flink's defaults);
 * TaskManagers take their RPC and data ports from the OS, bound to 127.0.0.1 like every other. Overridable only so
 * that development can run beside another cluster.
 */
export function clusterPorts(env: NodeJS.ProcessEnv = process.env): { rest: number; rpc: number; blob: number } {
  const rest = Number(env.PIPELINE_FLINK_REST_PORT || 8081);
  const rpc = Number(env.PIPELINE_FLINK_RPC_PORT || 6123);
  return { rest, rpc, blob: rpc + 1 };
}

export function clusterRestUrl(env: NodeJS.ProcessEnv = process.env): string {
  return `http://127.0.0.1:${clusterPorts(env).rest}`;
}

/** The process name (pid file, log) of the cluster's SQL Gateway. */
export const SQL_GATEWAY = 'sql-gateway';

export interface ClusterShape {
  taskManagers: number;
  slots: number;
}

export const DEFAULT_CLUSTER_SHAPE: ClusterShape = { taskManagers: 2, slots: 2 };

/**
 * The cluster's config.yaml. Every server binds to 127.0.0.1 (RPC, blob, data, REST); the web UI cannot upload jars;
 * the REST API lets no other web origin read it (Flink's default is `*`, which lets any page in the browser read
 * job ids, plans and exceptions, and stop a job with a "simple" cross-origin POST); memory is capped so that a JobManager and two TaskManagers (about 2.2 GB of processes) fit beside the broker and
 * the generator in 3 GB.
 */
export function clusterConfig(
  shape: ClusterShape,
  dirs: { savepoints: string; tmp: string },
  javaOpts: string,
  ports = clusterPorts(),
): string {
  const settings: Record<string, string | number | boolean> = {
    'jobmanager.rpc.address': '127.0.0.1',
    'jobmanager.bind-host': '127.0.0.1',
    'jobmanager.rpc.port': ports.rpc,
    'blob.server.port': ports.blob,
    'taskmanager.host': '127.0.0.1',
    'taskmanager.bind-host': '127.0.0.1',
    'taskmanager.rpc.port': 0,
    'taskmanager.data.port': 0,
    'rest.address': '127.0.0.1',
    'rest.bind-address': '127.0.0.1',
    'rest.port': ports.rest,
    'web.submit.enable': false,
    'web.access-control-allow-origin': `http://127.0.0.1:${ports.rest}`,
    'web.refresh-interval': 500,
    'metrics.fetcher.update-interval': 1000,
    'jobmanager.memory.process.size': '640m',
    'jobmanager.memory.jvm-metaspace.size': '160m',
    'jobmanager.memory.jvm-overhead.min': '64m',
    'taskmanager.memory.process.size': '768m',
    'taskmanager.memory.jvm-metaspace.size': '192m',
    'taskmanager.memory.jvm-overhead.min': '64m',
    'taskmanager.memory.framework.heap.size': '64m',
    'taskmanager.memory.framework.off-heap.size': '64m',
    'taskmanager.memory.managed.size': '32m',
    'taskmanager.memory.network.min': '32m',
    'taskmanager.memory.network.max': '32m',
    'taskmanager.numberOfTaskSlots': shape.slots,
    'parallelism.default': 1,
    // A lost TaskManager is noticed within seconds, not the default 50 s.
    'heartbeat.interval': 2000,
    'heartbeat.timeout': 10000,
    'state.savepoints.dir': `file://${dirs.savepoints}`,
    'io.tmp.dirs': dirs.tmp,
    'env.java.opts.all': `${javaOpts} -Djava.io.tmpdir=${dirs.tmp}`.trim(),
  };
  return flinkYaml(settings);
}

/** Flink's config.yaml lines of flat settings; a value YAML could misread (a colon, a #, a space, a comma) is quoted. */
export function flinkYaml(settings: Record<string, string | number | boolean>): string {
  return (
    Object.entries(settings)
      .map(([k, v]) => `${k}: ${typeof v === 'string' && /[:#\s,]/.test(v) ? JSON.stringify(v) : String(v)}`)
      .join('\n') + '\n'
  );
}

/**
 * The environment of the cluster's JVMs: ours without the SASL password (a job submitted to the cluster brings
 * its own in its job graph; the cluster itself never needs one), plus Flink's folders.
 */
export function clusterProcessEnv(base: NodeJS.ProcessEnv, flink: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base, ...flink };
  delete env[SASL_PASSWORD_ENV];
  delete env[SASL_PASSWORD_FILE_ENV];
  return env;
}

export interface ClusterProcess {
  name: string;
  pid?: number;
  running: boolean;
  log: string;
}

/**
 * A local session cluster from the Flink distribution PyFlink installs (its bin/, lib/ and conf/): the JobManager
 * and each TaskManager started with `jobmanager.sh` / `taskmanager.sh start-foreground` as their own process groups,
 * tracked by pid files of pid and start time, checked against the process's conf folder (a reused pid, or the
 * Flink of another folder, is not ours).
 */
export class LocalFlinkCluster {
  readonly root: string;
  readonly ports: { rest: number; rpc: number; blob: number };
  readonly restUrl: string;

  constructor(
    readonly workspace: string,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    this.root = join(stateRoot(workspace, env), 'flink-cluster');
    this.ports = clusterPorts(env);
    this.restUrl = clusterRestUrl(env);
  }

  get confDir(): string {
    return join(this.root, 'conf');
  }

  /** The SQL Gateway's own folder: its conf (with the TLS settings) and its credentials, apart from the cluster's. */
  get gatewayDir(): string {
    return join(this.root, 'gateway');
  }

  /** The conf folder a process of this cluster runs with: the gateway's own, else the cluster's. */
  private confDirOf(name: string): string {
    return name === SQL_GATEWAY ? join(this.gatewayDir, 'conf') : this.confDir;
  }

  get logDir(): string {
    return join(this.root, 'log');
  }

  get savepointsDir(): string {
    return join(stateRoot(this.workspace, this.env), 'savepoints');
  }

  private pidFile(name: string): string {
    return join(this.root, `${name}.pid`);
  }

  outFile(name: string): string {
    return join(this.logDir, `${name}.out`);
  }

  /**
   * One of our processes ('jobmanager', 'taskmanager-1', …) while it runs: the pid file's pid with the same start
   * time, started with this cluster's conf folder (the distribution's bash script keeps its environment when it
   * execs the JVM in the same process; the JVM names the folder on its command line too).
   */
  identityOf(name: string): ProcessIdentity | undefined {
    let pid: number;
    let startTime: number;
    try {
      [pid, startTime] = readFileSync(this.pidFile(name), 'utf8').trim().split(/\s+/).map(Number);
    } catch {
      return undefined; // no pid file
    }
    // A pid file of an older version has no start time: that process cannot be told from a later one by that pid.
    if (!Number.isInteger(pid) || !Number.isInteger(startTime) || !isSameProcess({ pid, startTime })) return undefined;
    const confDir = this.confDirOf(name);
    const ours = environmentOf(pid)?.FLINK_CONF_DIR === confDir || (commandLineOf(pid) ?? '').includes(confDir);
    return ours ? { pid, startTime } : undefined;
  }

  /** The live pid of one of our processes (see identityOf). */
  pidOf(name: string): number | undefined {
    return this.identityOf(name)?.pid;
  }

  /** The TaskManagers started last time (their pid files), in order. */
  taskManagerNames(): string[] {
    if (!existsSync(this.root)) return [];
    return readdirSync(this.root)
      .map((f) => /^(taskmanager-(\d+))\.pid$/.exec(f))
      .filter((m): m is RegExpExecArray => m !== null)
      .sort((a, b) => Number(a[2]) - Number(b[2]))
      .map((m) => m[1]);
  }

  processes(): ClusterProcess[] {
    return ['jobmanager', ...this.taskManagerNames()].map((name) => {
      const pid = this.pidOf(name);
      return { name, pid, running: pid !== undefined, log: this.outFile(name) };
    });
  }

  running(): boolean {
    return this.pidOf('jobmanager') !== undefined;
  }

  /**
   * Starts the JobManager (waiting for its REST API), then the TaskManagers (waiting until each registered).
   * `classpathDir` is the Flink runtime's lib/ (Flink, the planner, the Kafka connector and the job library).
   * Whatever it started is stopped again if start-up fails or `signal` aborts.
   */
  async up(
    shape: ClusterShape,
    python: string,
    classpathDir: string,
    progress: Progress,
    signal?: AbortSignal,
  ): Promise<{ alreadyRunning: boolean; elapsedMs: number }> {
    const started = Date.now();
    if (this.running()) {
      const missing = this.taskManagerNames().filter((n) => !this.pidOf(n));
      if (missing.length === 0) return { alreadyRunning: true, elapsedMs: 0 };
    }
    const pyflinkLib = pyflinkLibDir(python);
    if (!pyflinkLib) throw new UserError(`PyFlink's Flink distribution was not found next to ${python}: run \`pipeline setup\` again.`);
    const flinkHome = dirname(pyflinkLib);
    const startedNow: ProcessIdentity[] = [];
    try {
      if (!this.running()) {
        for (const port of [this.ports.rest, this.ports.rpc, this.ports.blob]) {
          await ensurePortFree(
            port,
            'stop that process (`pipeline job stop` if it is the embedded Flink job) and run `pipeline flink up` again',
          );
        }
        this.writeConfig(shape, flinkHome);
        progress(`Starting the Flink JobManager (REST ${this.restUrl})…`);
        startedNow.push(this.spawn('jobmanager', join(flinkHome, 'bin', 'jobmanager.sh'), ['start-foreground'], flinkHome, classpathDir));
        await this.waitFor(
          () => this.fetchOverview().then((o) => (o ? true : undefined)),
          'the JobManager to answer',
          'jobmanager',
          signal,
        );
      }
      // TaskManagers that outlived their JobManager register with the new one; only the missing ones start.
      for (const name of this.taskManagerNames()) if (!this.pidOf(name)) rmSync(this.pidFile(name));
      const wanted = Array.from({ length: shape.taskManagers }, (_, i) => `taskmanager-${i + 1}`).filter((n) => !this.pidOf(n));
      for (const name of wanted) {
        progress(`Starting ${name} (${shape.slots} slot${shape.slots === 1 ? '' : 's'})…`);
        startedNow.push(
          this.spawn(
            name,
            join(flinkHome, 'bin', 'taskmanager.sh'),
            ['start-foreground', '-D', `taskmanager.resource-id=${name}`],
            flinkHome,
            classpathDir,
          ),
        );
      }
      await this.waitFor(
        async () => {
          const overview = await this.fetchOverview();
          return overview && overview.taskManagers >= shape.taskManagers ? true : undefined;
        },
        `${shape.taskManagers} TaskManager${shape.taskManagers === 1 ? '' : 's'} to register`,
        wanted[0] ?? 'jobmanager',
        signal,
      );
    } catch (error) {
      // Also an interruption: waitFor checks the signal on each poll.
      await Promise.all(startedNow.map((id) => stopIdentified(id, 5000)));
      throw error;
    }
    return { alreadyRunning: false, elapsedMs: Date.now() - started };
  }

  private writeConfig(shape: ClusterShape, flinkHome: string): void {
    const tmp = join(this.root, 'tmp');
    for (const dir of [this.confDir, this.logDir, tmp, this.savepointsDir]) mkdirSync(dir, { recursive: true });
    // The distribution's JVM options (the --add-opens Flink needs on Java 17) stay; only the temp folder is added.
    const defaults = readFileSync(join(flinkHome, 'conf', 'config.yaml'), 'utf8');
    const javaOpts = /^\s+all:\s*(.+)$/m.exec(defaults)?.[1] ?? '';
    writeFileSync(join(this.confDir, 'config.yaml'), clusterConfig(shape, { savepoints: this.savepointsDir, tmp }, javaOpts, this.ports));
    for (const file of ['log4j-console.properties', 'logback-console.xml'])
      copyFileSync(join(flinkHome, 'conf', file), join(this.confDir, file));
  }

  spawn(
    name: string,
    script: string,
    args: string[],
    flinkHome: string,
    classpathDir: string,
    extraEnv: Record<string, string> = {},
  ): ProcessIdentity {
    const fd = openSync(this.outFile(name), 'w');
    const pid = spawnDetached('bash', [script, ...args], {
      cwd: this.root,
      stdio: ['ignore', fd, fd],
      env: clusterProcessEnv(this.env, {
        FLINK_HOME: flinkHome,
        FLINK_CONF_DIR: this.confDirOf(name),
        FLINK_LIB_DIR: classpathDir,
        FLINK_LOG_DIR: this.logDir,
        FLINK_PID_DIR: join(this.root, 'pids'),
        FLINK_IDENT_STRING: 'pipeline',
        ...extraEnv,
      }),
    });
    closeSync(fd);
    const id = identityOf(pid);
    if (!id) throw new UserError(`The Flink ${name} exited as it started: see ${this.outFile(name)}.`);
    writeFileSync(this.pidFile(name), `${id.pid} ${id.startTime}\n`);
    return id;
  }

  async waitFor(check: () => Promise<true | undefined>, what: string, process: string, signal?: AbortSignal): Promise<void> {
    const ok = await pollUntil(
      async () => {
        if (signal?.aborted) throw new UserError('Interrupted: the processes started so far are stopped.');
        if (!this.pidOf(process)) {
          const tail = readTail(this.outFile(process));
          throw new UserError(
            `The Flink ${process} exited during start-up${tail.error ? ` (${tail.error})` : ''}: see ${this.outFile(process)} and ${this.logDir}.`,
            tail.text,
          );
        }
        return check();
      },
      120_000,
      500,
    );
    if (!ok) throw new UserError(`Timed out after 120 s waiting for ${what}: see the logs in ${this.logDir}.`);
  }

  /** GET /overview of the cluster's REST API, or undefined when it does not answer. */
  fetchOverview(): Promise<FlinkClusterOverview | undefined> {
    return fetchClusterOverview(this.restUrl, 2000).catch(() => undefined);
  }

  /** Stops the SQL Gateway, the TaskManagers, then the JobManager: SIGTERM for a clean exit, SIGKILL after the grace period. */
  async down(progress: Progress, graceMs = 20_000): Promise<string[]> {
    const stopped: string[] = [];
    for (const name of [SQL_GATEWAY, ...this.taskManagerNames(), 'jobmanager']) {
      const id = this.identityOf(name);
      if (id) {
        progress(`Stopping the Flink ${name} (pid ${id.pid})…`);
        await stopIdentified(id, graceMs);
        stopped.push(name);
      }
      rmSync(this.pidFile(name), { force: true });
    }
    return stopped;
  }
}

function readTail(file: string): { text: string; error?: string } {
  try {
    const text = readFileSync(file, 'utf8').split('\n').slice(-60).join('\n');
    return {
      text,
      error: text
        .split('\n')
        .find((l) => /ERROR|Exception|Error:/.test(l))
        ?.slice(0, 200),
    };
  } catch {
    return { text: '' };
  }
}
