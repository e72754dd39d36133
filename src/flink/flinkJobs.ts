// Flink job targets and states as plain data: the phase of a job state, the job to show, REST URLs, the `flink.target` setting.
import { UserError } from '../shared/errors';
import { SETTINGS_PREFIX } from '../config/settingKeys';

/** What the pipeline shows of a Flink job state (`GET /jobs/overview`'s `state`). */
export type JobPhase = 'running' | 'starting' | 'failed' | 'stopped';

const STARTING = new Set(['INITIALIZING', 'CREATED', 'RECONCILING', 'RESTARTING']);
const FAILED = new Set(['FAILING', 'FAILED']);

export function phaseOfFlinkState(state: string): JobPhase {
  if (state === 'RUNNING') return 'running';
  if (STARTING.has(state)) return 'starting';
  if (FAILED.has(state)) return 'failed';
  return 'stopped';
}

/**
 * Why a job at `parallelism` cannot start on a cluster with `free` of `total` task slots (each subtask needs one), in
 * words with the ways out; undefined when it fits.
 */
export function slotShortfall(parallelism: number, free: number, total: number, where: string): string | undefined {
  if (parallelism <= free) return undefined;
  return `The job runs ${parallelism} subtasks of each operator and needs ${parallelism} free task slots, but the Flink cluster at ${where} has ${free} of ${total} free${free < total ? ' (running jobs and SQL statements hold the others)' : ''}. ${free < total ? 'Stop a statement or a job, lower' : 'Lower'} the parallelism (--parallelism, kafkaFlinkLab.job.parallelism), or restart the local cluster with more slots: \`pipeline flink down\`, then \`pipeline flink up --slots ${Math.max(2, Math.ceil((parallelism + 1) / 2))}\` (2 TaskManagers).`;
}

/** The name the pipeline job gives itself (`pipeline.name`): `sensor-pipeline[<topic>]`. */
export const isPipelineJobName = (name: string | undefined) => name?.startsWith('sensor-pipeline[') ?? false;

/**
 * The job to show. The pipeline job by the id its process recorded, when the cluster knows it; without one, a
 * pipeline job before other jobs (SQL statements share the session cluster); among those, one that is not finished
 * (newest first), else the newest one.
 */
export function currentJob<T extends { jid: string; name?: string; state: string; startTime: number }>(
  jobs: T[],
  recordedId?: string,
): T | undefined {
  const recorded = recordedId === undefined ? undefined : jobs.find((j) => j.jid === recordedId);
  if (recorded) return recorded;
  const newestFirst = [...jobs].sort((a, b) => b.startTime - a.startTime);
  const pipelineJobs = newestFirst.filter((j) => isPipelineJobName(j.name));
  const pool = pipelineJobs.length > 0 ? pipelineJobs : newestFirst;
  return pool.find((j) => ['running', 'starting'].includes(phaseOfFlinkState(j.state))) ?? pool[0];
}

/** `http://host:port` with no trailing slash, or why it is not one. */
export function normalizeRestUrl(address: string): { url?: string; error?: string } {
  const trimmed = address.trim().replace(/\/+$/, '');
  try {
    const url = new URL(trimmed);
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      return { error: `The Flink REST URL must start with http:// or https:// (got ${JSON.stringify(address)}).` };
    return { url: trimmed };
  } catch {
    return { error: `The Flink REST URL ${JSON.stringify(address)} is not a URL like http://127.0.0.1:8081.` };
  }
}

/**
 * The address "Open Flink Web UI" hands to the browser: the setting only when it is an http(s) URL, so that a
 * workspace's settings cannot make the command open a file, a `command:` link or another scheme's handler.
 */
export function flinkWebUiUrl(setting: string): string {
  const { url, error } = normalizeRestUrl(setting);
  if (!url) throw new UserError(`${error} Fix the setting ${SETTINGS_PREFIX}.flinkRestUrl.`);
  return url;
}

/** The port a locally started job should serve its REST API on, when the URL points at this machine. */
export function localRestPort(address: string): number | undefined {
  const { url } = normalizeRestUrl(address);
  if (!url) return undefined;
  const parsed = new URL(url);
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(parsed.hostname)) return undefined;
  return Number(parsed.port || (parsed.protocol === 'https:' ? 443 : 80));
}

/** Where the job runs: its own embedded MiniCluster, the local session cluster (`pipeline flink up`), or another cluster. */
export type FlinkTarget = { kind: 'embedded' } | { kind: 'local-cluster'; url: string } | { kind: 'remote'; url: string };

/**
 * The setting `kafkaFlinkLab.flink.target` (or `--flink`): `local-cluster` (the default, so that the pipeline job and
 * the user's SQL share one cluster), `embedded` or a REST URL.
 */
export function parseFlinkTarget(value: string | undefined, localClusterUrl: string): { target?: FlinkTarget; error?: string } {
  const raw = (value ?? '').trim() || 'local-cluster';
  if (raw === 'embedded') return { target: { kind: 'embedded' } };
  if (raw === 'local-cluster') return { target: { kind: 'local-cluster', url: localClusterUrl } };
  const { url, error } = normalizeRestUrl(raw);
  if (!url) return { error: `The Flink target must be embedded, local-cluster or a REST URL: ${error}` };
  return {
    target:
      url === localClusterUrl || url === localClusterUrl.replace('127.0.0.1', 'localhost')
        ? { kind: 'local-cluster', url: localClusterUrl }
        : { kind: 'remote', url },
  };
}

/** Whether a URL's host is this machine's loopback (127.0.0.0/8, ::1, localhost). */
export function isLoopbackUrl(url: string): boolean {
  let host: string;
  try {
    host = new URL(url).hostname.toLowerCase();
  } catch {
    return false;
  }
  return host === 'localhost' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * Whether a SASL password may travel with a job to this Flink target (the job's table DDL carries it into the
 * job graph that is submitted there), or why not: only to the embedded Flink, the local session cluster, another
 * Flink on loopback, or one reached over https — never in clear text across a network.
 */
export function secretTargetProblem(target: FlinkTarget): string | undefined {
  if (target.kind !== 'remote' || isLoopbackUrl(target.url) || new URL(target.url).protocol === 'https:') return undefined;
  return `The Flink job would carry the SASL password to ${target.url} over plain http: refused. Use an https:// address for a Flink cluster on another machine, or run the job embedded or on the local cluster.`;
}

/** Whether sending a secret to this target needs the user's word first: a Flink on another machine. */
export function secretTargetNeedsConsent(target: FlinkTarget): target is { kind: 'remote'; url: string } {
  return target.kind === 'remote' && !isLoopbackUrl(target.url);
}
