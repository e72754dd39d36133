import * as vscode from 'vscode';
import type { SaslMechanism } from '../kafka/clusterSecurity';
import { clusterRestUrl } from '../local/flinkCluster';
import { parseFlinkTarget } from '../flink/flinkJobs';
import { SETTINGS_PREFIX } from '../config/settingKeys';

/**
 * One setting of `contributes.configuration`. Its default is the one package.json declares (VS Code reports it
 * through `inspect`), so the two can never disagree; reading an undeclared key fails loudly.
 */
export class Setting<T> {
  constructor(readonly key: string) {}

  get fullKey(): string {
    return `${SETTINGS_PREFIX}.${this.key}`;
  }

  get defaultValue(): T {
    const inspected = vscode.workspace.getConfiguration(SETTINGS_PREFIX).inspect<T>(this.key);
    if (inspected?.defaultValue === undefined) throw new Error(`Setting ${this.fullKey} is not declared in package.json.`);
    return inspected.defaultValue;
  }

  get value(): T {
    return vscode.workspace.getConfiguration(SETTINGS_PREFIX).get<T>(this.key) ?? this.defaultValue;
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
 * flinkRestUrl, flink.target), so the names follow it.
 */
export const settings = {
  bootstrapServers: new Setting<string>('bootstrapServers'),
  /** Bootstrap servers, or objects with their own SASL and TLS (kafka/clusterSecurity.ts parseClusterEntry). */
  additionalClusters: new Setting<unknown[]>('additionalClusters'),
  saslMechanism: new Setting<SaslMechanism | 'none'>('sasl.mechanism'),
  saslUsername: new Setting<string>('sasl.username'),
  tls: new Setting<boolean>('tls'),
  saslAllowPlaintext: new Setting<boolean>('sasl.allowPlaintext'),
  requestTimeoutSeconds: new Setting<number>('requestTimeoutSeconds'),
  topic: new Setting<string>('topic'),
  partitions: new Setting<number>('partitions'),
  generatorRate: new Setting<number>('generator.rate'),
  generatorSensors: new Setting<number>('generator.sensors'),
  windowSeconds: new Setting<number>('windowSeconds'),
  jobGroupId: new Setting<string>('job.groupId'),
  outputFolder: new Setting<string>('outputFolder'),
  resultsIndexInBackground: new Setting<boolean>('results.indexInBackground'),
  refreshIntervalSeconds: new Setting<number>('refreshInterval'),
  flinkRestUrl: new Setting<string>('flinkRestUrl'),
  flinkTarget: new Setting<string>('flink.target'),
  showInternalTopics: new Setting<boolean>('showInternalTopics'),
} as const;

/**
 * The SecretStorage key of the one SASL password of earlier versions, sent to every cluster: no longer read (each
 * cluster identity has its own key, kafka/clusterSecurity.ts secretKeyFor); "Clear SASL Password" deletes it.
 */
export const LEGACY_SASL_PASSWORD_SECRET = `${SETTINGS_PREFIX}.sasl.password`;

/** Where the job's Flink answers: the session cluster of `flink.target`, or `flinkRestUrl` for the embedded job. */
export function jobRestUrl(): string {
  const { target } = parseFlinkTarget(settings.flinkTarget.value, clusterRestUrl());
  return target && target.kind !== 'embedded' ? target.url : settings.flinkRestUrl.value;
}

export function affectsAny(event: vscode.ConfigurationChangeEvent, ...which: Setting<unknown>[]): boolean {
  return which.some((s) => s.affects(event));
}
