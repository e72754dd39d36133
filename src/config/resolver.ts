// The one rule for the values the CLI and the extension share: flag, then environment, then workspace settings, then user settings, then the default; each checked once and reported with where it came from.
import { resolve } from 'node:path';
import { UserError } from '../shared/errors';
import { SETTINGS_PREFIX, type SettingKey } from './settingKeys';
import {
  MAX_SENSORS,
  validateBootstrapServers,
  validateGroupId,
  validateNonNegativeNumber,
  validatePositiveInt,
  validateTopicName,
} from './validation';

export type Origin = 'flag' | 'environment' | 'workspace' | 'user' | 'default';

export interface Resolved<T> {
  value: T;
  origin: Origin;
  /** Where the value came from, as messages name it: `--output`, `PIPELINE_BOOTSTRAP_SERVERS`, `kafkaFlinkLab.outputFolder in .vscode/settings.json`. */
  label: string;
}

export type SettingScope = 'workspace' | 'user';

/** Where settings come from: `.vscode/settings.json` for the CLI, VS Code's configuration for the extension. */
export interface SettingsSource {
  /** The value set in that scope, with how messages name the place; undefined when the scope does not set it. */
  read(key: string, scope: SettingScope): { value: unknown; label: string } | undefined;
  defaultOf(key: string): unknown;
}

export interface ConfigInputs {
  settings: SettingsSource;
  /** The workspace folder: a setting's relative path is inside it, and `${workspaceFolder}` names it. */
  workspace: string;
  /** The command line's flags, by name without the dashes. */
  flags?: Record<string, string | boolean | undefined>;
  env?: NodeJS.ProcessEnv;
  /** A flag's relative path is relative to it, as for any shell tool. */
  cwd?: string;
}

/** A value that fails its check, with what was given, so that a caller that must not throw can still show it. */
export class InvalidValueError extends UserError {
  constructor(
    message: string,
    readonly given: Resolved<unknown>,
  ) {
    super(message);
  }
}

/** The SASL and TLS of the pipeline's cluster, each with its origin. */
export interface ResolvedSecurity {
  mechanism: Resolved<string>;
  username: Resolved<string>;
  tls: Resolved<boolean>;
  /** The CA file to trust, absolute; '' for the system's CAs. */
  caFile: Resolved<string>;
  allowPlaintextSasl: Resolved<boolean>;
}

const MAX_WINDOW_SECONDS = 86_400;
/** Subtasks per operator: the local cluster has 4 slots, a bigger one may have more; a slot per subtask is checked at the start. */
export const MAX_PARALLELISM = 64;

export class PipelineConfig {
  private readonly workspace: string;

  constructor(private readonly inputs: ConfigInputs) {
    this.workspace = resolve(inputs.workspace);
  }

  /** The precedence rule, for any setting; a flag or variable counts only where one exists for it. */
  pick(key: string, flag?: string, variable?: string): Resolved<unknown> {
    const flagged = flag === undefined ? undefined : this.inputs.flags?.[flag];
    if (flagged !== undefined) return { value: flagged, origin: 'flag', label: `--${flag}` };
    // An empty variable is an unset one (`PIPELINE_BOOTSTRAP_SERVERS= pipeline …`).
    const fromEnv = variable === undefined ? undefined : this.inputs.env?.[variable];
    if (fromEnv) return { value: fromEnv, origin: 'environment', label: variable! };
    for (const scope of ['workspace', 'user'] as const) {
      const set = this.inputs.settings.read(key, scope);
      if (set !== undefined && set.value !== undefined && set.value !== null) return { ...set, origin: scope };
    }
    return this.defaultOf(key);
  }

  bootstrapServers(): Resolved<string> {
    const given = this.text('bootstrapServers', 'bootstrap-servers', 'PIPELINE_BOOTSTRAP_SERVERS');
    return this.checked({ ...given, value: given.value.trim() }, validateBootstrapServers);
  }

  topic(): Resolved<string> {
    return this.checked(this.text('topic', 'topic'), validateTopicName);
  }

  groupId(): Resolved<string> {
    return this.checked(this.text('job.groupId', 'group-id'), validateGroupId);
  }

  windowSeconds(): Resolved<number> {
    return this.checked(this.number('windowSeconds', 'window'), (v, label) => validatePositiveInt(v, label, MAX_WINDOW_SECONDS));
  }

  /** The job's parallelism: how many subtasks each operator runs, the Kafka source's among them (each reads its own partitions). */
  parallelism(): Resolved<number> {
    return this.checked(this.number('job.parallelism', 'parallelism'), (v, label) => validatePositiveInt(v, label, MAX_PARALLELISM));
  }

  generatorRate(): Resolved<number> {
    return this.checked(this.number('generator.rate', 'rate'), validateNonNegativeNumber);
  }

  generatorSensors(): Resolved<number> {
    return this.checked(this.number('generator.sensors', 'sensors'), (v, label) => validatePositiveInt(v, label, MAX_SENSORS));
  }

  partitions(): Resolved<number> {
    return this.checked(this.number('partitions'), validatePositiveInt);
  }

  /** `embedded`, `local-cluster` or a REST URL, as given: flink/flinkJobs.ts parseFlinkTarget reads it. */
  flinkTarget(): Resolved<string> {
    return this.text('flink.target', 'flink');
  }

  /** A SQL Gateway of the user's choosing; '' for the local one (flink/sqlGatewayClient.ts gatewayProblem says where SQL may go). */
  sqlGatewayUrl(): Resolved<string> {
    const given = this.text('flink.sqlGatewayUrl', 'gateway', 'PIPELINE_SQL_GATEWAY_URL');
    return { ...given, value: given.value.trim() };
  }

  flinkRestUrl(): Resolved<string> {
    return this.text('flinkRestUrl');
  }

  /** The CA file to trust for TLS, absolute, with where it was chosen (clusterSecurity.ts caFileTrustProblem); '' when none. */
  tlsCaFile(): Resolved<string> {
    return this.path('tlsCaFile', 'tls-ca-file', 'PIPELINE_TLS_CA_FILE');
  }

  security(): ResolvedSecurity {
    return {
      mechanism: this.text('sasl.mechanism', 'sasl-mechanism'),
      username: this.text('sasl.username', 'sasl-username'),
      tls: this.flag('tls', 'tls'),
      caFile: this.tlsCaFile(),
      allowPlaintextSasl: this.flag('sasl.allowPlaintext', 'allow-plaintext-sasl'),
    };
  }

  /**
   * The output folder as an absolute path. A flag's relative path is relative to the current folder, a setting's to
   * the workspace folder; `${workspaceFolder}` is the workspace folder in both. An empty setting means the default.
   */
  outputFolder(): Resolved<string> {
    const given = this.text('outputFolder', 'output');
    if (given.value.trim() === '' && given.origin === 'flag') throw new InvalidValueError('--output cannot be empty.', given);
    const chosen = given.value.trim() === '' ? (this.defaultOf('outputFolder') as Resolved<string>) : given;
    return this.absolute(chosen);
  }

  /** A path setting, absolute as outputFolder's; an empty one stays '' (not set), with its origin. */
  private path(key: SettingKey, flag: string, variable: string): Resolved<string> {
    const given = this.text(key, flag, variable);
    return given.value.trim() === '' ? { ...given, value: '' } : this.absolute(given);
  }

  private absolute(chosen: Resolved<string>): Resolved<string> {
    const expanded = chosen.value.trim().replace(/\$\{workspaceFolder\}/g, this.workspace);
    const base = chosen.origin === 'flag' || chosen.origin === 'environment' ? (this.inputs.cwd ?? process.cwd()) : this.workspace;
    return { ...chosen, value: resolve(base, expanded) };
  }

  private defaultOf(key: string): Resolved<unknown> {
    return { value: this.inputs.settings.defaultOf(key), origin: 'default', label: `the default of ${SETTINGS_PREFIX}.${key}` };
  }

  private text(key: SettingKey, flag?: string, variable?: string): Resolved<string> {
    const given = this.pick(key, flag, variable);
    if (typeof given.value !== 'string')
      throw new InvalidValueError(`${given.label} must be text (got ${JSON.stringify(given.value)}).`, given);
    return given as Resolved<string>;
  }

  private number(key: SettingKey, flag?: string): Resolved<number> {
    const given = this.pick(key, flag);
    const value = typeof given.value === 'string' && given.value.trim() !== '' ? Number(given.value) : given.value;
    if (typeof value !== 'number' || !Number.isFinite(value))
      throw new InvalidValueError(`${given.label} must be a number (got ${String(given.value)}).`, given);
    return { ...given, value };
  }

  private flag(key: SettingKey, flag: string): Resolved<boolean> {
    const given = this.pick(key, flag);
    if (typeof given.value !== 'boolean') throw new InvalidValueError(`${given.label} must be true or false.`, given);
    return given as Resolved<boolean>;
  }

  /** The value's one check; its message names where the value came from. */
  private checked<T>(given: Resolved<T>, check: (value: T, label: string) => string | undefined): Resolved<T> {
    const problem = check(given.value, given.label);
    if (problem) throw new InvalidValueError(problem.includes(given.label) ? problem : `${given.label}: ${problem}`, given);
    return given;
  }
}
