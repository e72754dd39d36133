// The argv of every `pipeline` command the extension starts in a terminal.
import { isAbsolute } from 'node:path';
import { usesSasl, type ClusterSecurity } from '../kafka/clusterSecurity';
import { UserError } from '../shared/errors';
import { parseReplayStart } from '../kafka/offsetReset';
import { MAX_SENSORS, validateGroupId, validateNonNegativeNumber, validatePositiveInt, validateTopicName } from '../config/validation';

/**
 * Each value is validated here, before anything reaches a terminal, and passed as `--flag=value` so that a value
 * starting with "-" can never be read as a flag. No shell is involved: the terminal runs Node with these arguments
 * directly. The bootstrap servers come checked by the resolver (extensionConfig), and the CLI checks its flag again.
 */

function check(...problems: (string | undefined)[]): void {
  const problem = problems.find(Boolean);
  if (problem) throw new UserError(problem);
}

export function validatePath(path: string, what: string): string | undefined {
  if (path.trim() === '') return `${what} cannot be empty.`;
  if (/[\0\r\n]/.test(path)) return `${what} cannot contain line breaks or NUL characters.`;
  return undefined;
}

/**
 * The flags that tell the CLI how to reach a secured cluster. The password is not one of them: the extension puts
 * it in the terminal's environment (PIPELINE_SASL_PASSWORD), never on a command line.
 */
export function cliSecurityArgs(security: ClusterSecurity | undefined): string[] {
  if (!security) return [];
  check(
    /[\0\r\n]/.test(security.username) ? 'A SASL user name cannot contain line breaks or NUL characters.' : undefined,
    security.caFile === undefined ? undefined : validatePath(security.caFile, 'The CA file'),
  );
  return [
    ...(usesSasl(security) ? [`--sasl-mechanism=${security.mechanism}`, `--sasl-username=${security.username}`] : []),
    ...(security.tls ? ['--tls'] : []),
    ...(security.tls && security.caFile ? [`--tls-ca-file=${security.caFile}`] : []),
    ...(usesSasl(security) && security.allowPlaintextSasl ? ['--allow-plaintext-sasl'] : []),
  ];
}

export function cliStackUpArgs(workspace: string, options: { brokers?: 1 | 3; follow?: boolean } = {}): string[] {
  check(validatePath(workspace, 'The workspace folder'));
  return [
    'stack',
    'up',
    ...(options.brokers === 3 ? ['--brokers=3'] : []),
    ...(options.follow === false ? [] : ['--follow']),
    `--workspace=${workspace}`,
  ];
}

export interface CliGenerateOptions {
  workspace: string;
  topic: string;
  /** The pipeline's cluster: the one way the CLI learns it from the extension (no variable in the terminal). */
  bootstrapServers: string;
  /** Events per second over all sensors; 0 = as fast as possible. */
  rate: number;
  sensors: number;
  durationSeconds?: number;
  count?: number;
  /** Of a cluster other than the local stack. */
  security?: ClusterSecurity;
}

export function cliGenerateArgs(o: CliGenerateOptions): string[] {
  check(
    validatePath(o.workspace, 'The workspace folder'),
    validateTopicName(o.topic),
    validateNonNegativeNumber(o.rate, 'The rate (events/s)'),
    o.rate > 1_000_000 ? 'The rate can be at most 1000000 events/s.' : undefined,
    validatePositiveInt(o.sensors, 'The number of sensors', MAX_SENSORS),
    o.durationSeconds !== undefined ? validatePositiveInt(o.durationSeconds, 'The duration (s)', 7 * 86_400) : undefined,
    o.count !== undefined ? validatePositiveInt(o.count, 'The number of events') : undefined,
    o.count !== undefined && o.durationSeconds !== undefined ? 'Give either a number of events or a duration, not both.' : undefined,
  );
  return [
    'generate',
    `--topic=${o.topic}`,
    `--bootstrap-servers=${o.bootstrapServers}`,
    `--rate=${o.rate}`,
    `--sensors=${o.sensors}`,
    ...(o.durationSeconds !== undefined ? [`--duration=${o.durationSeconds}`] : []),
    ...(o.count !== undefined ? [`--count=${o.count}`] : []),
    ...cliSecurityArgs(o.security),
    `--workspace=${o.workspace}`,
  ];
}

export interface CliJobOptions {
  workspace: string;
  topic: string;
  /** The pipeline's cluster, always given: the CLI offers a SASL password only to servers named by a flag. */
  bootstrapServers: string;
  security?: ClusterSecurity;
  /** Absolute: the CLI reads a relative --output from its current folder. */
  outputDir: string;
  windowSeconds: number;
  groupId: string;
  parallelism?: number;
  /** The port of the job's REST API / web UI (the CLI's default is 8081). */
  restPort?: number;
  /** `embedded`, `local-cluster` or a session cluster's REST URL; without it the CLI's own default (the local cluster). */
  flink?: string;
}

export function cliJobStartArgs(o: CliJobOptions): string[] {
  check(
    validatePath(o.workspace, 'The workspace folder'),
    validateTopicName(o.topic),
    validatePath(o.outputDir, 'The output folder'),
    isAbsolute(o.outputDir) ? undefined : `The output folder must be an absolute path (got ${o.outputDir}).`,
    validatePositiveInt(o.windowSeconds, 'The window size (s)', 86_400),
    validateGroupId(o.groupId),
    o.parallelism !== undefined ? validatePositiveInt(o.parallelism, 'The parallelism', 64) : undefined,
    o.restPort !== undefined ? validatePositiveInt(o.restPort, 'The Flink REST port', 65_535) : undefined,
  );
  return [
    'job',
    'start',
    `--topic=${o.topic}`,
    `--bootstrap-servers=${o.bootstrapServers}`,
    `--output=${o.outputDir}`,
    `--window=${o.windowSeconds}`,
    `--group-id=${o.groupId}`,
    ...(o.parallelism !== undefined && o.parallelism !== 1 ? [`--parallelism=${o.parallelism}`] : []),
    ...(o.restPort !== undefined ? [`--rest-port=${o.restPort}`] : []),
    ...(o.flink ? [`--flink=${o.flink}`] : []),
    ...cliSecurityArgs(o.security),
    `--workspace=${o.workspace}`,
  ];
}

/** `pipeline job replay` in the job's terminal: the same job, its group moved back, into `outputDir` (a new run folder). */
export function cliJobReplayArgs(o: CliJobOptions & { from: string }): string[] {
  parseReplayStart(o.from);
  return ['job', 'replay', `--from=${o.from}`, ...cliJobStartArgs(o).slice(2)];
}

export interface CliConsumeOptions {
  workspace: string;
  group: string;
  topic: string;
  bootstrapServers: string;
  from: 'earliest' | 'latest';
  security?: ClusterSecurity;
}

export function cliConsumeArgs(o: CliConsumeOptions): string[] {
  check(validatePath(o.workspace, 'The workspace folder'), validateTopicName(o.topic), validateGroupId(o.group));
  return [
    'consume',
    `--group=${o.group}`,
    `--topic=${o.topic}`,
    `--from=${o.from}`,
    `--bootstrap-servers=${o.bootstrapServers}`,
    ...cliSecurityArgs(o.security),
    `--workspace=${o.workspace}`,
  ];
}
