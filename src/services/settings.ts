// The extension's settings: each key it reads, VS Code's configuration as the resolver's settings source, and the values resolved from it.
import * as vscode from 'vscode';
import type { SaslMechanism } from '../kafka/clusterSecurity';
import { clusterRestUrl } from '../local/flinkCluster';
import { parseFlinkTarget, type FlinkTarget } from '../flink/flinkJobs';
import { PipelineConfig, type Resolved, type SettingScope, type SettingsSource } from '../config/resolver';
import { SETTINGS_PREFIX } from '../config/settingKeys';
import { UserError } from '../shared/errors';
import { workspaceFolder } from './workspace';

/**
 * VS Code's configuration as the resolver reads it: the workspace scope is the folder's or the workspace's settings,
 * the user scope the user's; the defaults are the ones package.json declares.
 */
const vscodeSettings: SettingsSource = {
  read(key: string, scope: SettingScope): { value: unknown; label: string } | undefined {
    const inspected = vscode.workspace.getConfiguration(SETTINGS_PREFIX).inspect(key);
    const fullKey = `${SETTINGS_PREFIX}.${key}`;
    if (scope === 'user')
      return inspected?.globalValue === undefined ? undefined : { value: inspected.globalValue, label: `${fullKey} in the user settings` };
    if (inspected?.workspaceFolderValue !== undefined)
      return { value: inspected.workspaceFolderValue, label: `${fullKey} in the workspace folder's settings` };
    if (inspected?.workspaceValue !== undefined) return { value: inspected.workspaceValue, label: `${fullKey} in the workspace settings` };
    return undefined;
  },
  defaultOf(key: string): unknown {
    const inspected = vscode.workspace.getConfiguration(SETTINGS_PREFIX).inspect(key);
    if (inspected?.defaultValue === undefined) throw new Error(`Setting ${SETTINGS_PREFIX}.${key} is not declared in package.json.`);
    return inspected.defaultValue;
  },
};

/** The extension's configuration: no flags and no environment, the settings of the open folder (else the current one). */
export function extensionConfig(): PipelineConfig {
  return new PipelineConfig({ settings: vscodeSettings, workspace: workspaceFolder() ?? process.cwd() });
}

/**
 * One setting of `contributes.configuration`. Its default is the one package.json declares (VS Code reports it
 * through `inspect`), so the two can never disagree; reading an undeclared key fails loudly.
 */
export class Setting<T> {
  constructor(readonly key: string) {}

  get fullKey(): string {
    return `${SETTINGS_PREFIX}.${this.key}`;
  }

  /** Unchecked, by the resolver's precedence; the values the pipeline's processes get are checked (extensionConfig). */
  get value(): T {
    return extensionConfig().pick(this.key).value as T;
  }

  affects(event: vscode.ConfigurationChangeEvent): boolean {
    return event.affectsConfiguration(this.fullKey);
  }

  async update(value: T | undefined, target = vscode.ConfigurationTarget.Workspace): Promise<void> {
    const where = vscode.workspace.workspaceFolders?.length ? target : vscode.ConfigurationTarget.Global;
    await vscode.workspace.getConfiguration(SETTINGS_PREFIX).update(this.key, value, where);
  }
}

/**
 * Every setting the extension reads. A unit test checks each key against package.json. The `pipeline` CLI reads
 * the same keys from `.vscode/settings.json` (bootstrapServers, topic, outputFolder, generator.*, windowSeconds,
 * flinkRestUrl, flink.target, flink.sqlGatewayUrl), so the names follow it.
 */
export const settings = {
  bootstrapServers: new Setting<string>('bootstrapServers'),
  /** Bootstrap servers, or objects with their own SASL and TLS (kafka/clusterSecurity.ts parseClusterEntry). */
  additionalClusters: new Setting<unknown[]>('additionalClusters'),
  saslMechanism: new Setting<SaslMechanism | 'none'>('sasl.mechanism'),
  saslUsername: new Setting<string>('sasl.username'),
  tls: new Setting<boolean>('tls'),
  tlsCaFile: new Setting<string>('tlsCaFile'),
  saslAllowPlaintext: new Setting<boolean>('sasl.allowPlaintext'),
  requestTimeoutSeconds: new Setting<number>('requestTimeoutSeconds'),
  topic: new Setting<string>('topic'),
  partitions: new Setting<number>('partitions'),
  generatorRate: new Setting<number>('generator.rate'),
  generatorSensors: new Setting<number>('generator.sensors'),
  windowSeconds: new Setting<number>('windowSeconds'),
  jobGroupId: new Setting<string>('job.groupId'),
  /** Read through the resolver (extensionConfig().parallelism()) when the job starts. */
  jobParallelism: new Setting<number>('job.parallelism'),
  outputFolder: new Setting<string>('outputFolder'),
  resultsIndexInBackground: new Setting<boolean>('results.indexInBackground'),
  refreshIntervalSeconds: new Setting<number>('refreshInterval'),
  flinkRestUrl: new Setting<string>('flinkRestUrl'),
  flinkTarget: new Setting<string>('flink.target'),
  /** Where Flink SQL goes ('' for the local SQL Gateway); `pipeline sql` reads it from .vscode/settings.json too. */
  sqlGatewayUrl: new Setting<string>('flink.sqlGatewayUrl'),
  showInternalTopics: new Setting<boolean>('showInternalTopics'),
} as const;

/**
 * The SecretStorage key of the one SASL password of earlier versions, sent to every cluster: no longer read (each
 * cluster identity has its own key, kafka/clusterSecurity.ts secretKeyFor); "Clear SASL Password" deletes it.
 */
export const LEGACY_SASL_PASSWORD_SECRET = `${SETTINGS_PREFIX}.sasl.password`;

/** Where the job runs (`flink.target`), with where that was set: a job is submitted only with this. */
export function jobFlinkTarget(config = extensionConfig()): Resolved<FlinkTarget> {
  const given = config.flinkTarget();
  const { target, error } = parseFlinkTarget(given.value, clusterRestUrl());
  if (!target) throw new UserError(`${error} (${given.label})`);
  return { ...given, value: target };
}

/** Where the job's Flink answers: the session cluster of `flink.target`, or `flinkRestUrl` for the embedded job. */
export function jobRestUrl(config = extensionConfig()): string {
  const { target } = parseFlinkTarget(config.flinkTarget().value, clusterRestUrl());
  return target && target.kind !== 'embedded' ? target.url : config.flinkRestUrl().value;
}

/** The output folder, absolute: the setting's relative path is inside the workspace folder. */
export function pipelineOutputFolder(): string {
  return extensionConfig().outputFolder().value;
}

export function affectsAny(event: vscode.ConfigurationChangeEvent, ...which: Setting<unknown>[]): boolean {
  return which.some((s) => s.affects(event));
}
