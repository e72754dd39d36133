import * as vscode from 'vscode';
import { UserError } from '../core/errors';
import { parseBootstrapServers, type ConnectionOptions } from '../core/kafkaClient';
import { bootstrapFor, LocalStack } from '../core/stack';
import { validateBootstrapServers } from '../core/validation';
import { KafkaAdminClient } from '../providers/kafkaAdmin';
import { affectsAny, SASL_PASSWORD_SECRET, settings } from '../settings';
import { Disposable } from './lifecycle';
import type { Log } from './log';
import { workspaceFolder } from './workspace';

export interface ClusterEntry {
  /** Stable id: the normalized bootstrap servers. */
  key: string;
  label: string;
  bootstrapServers: string;
  /** The address of the local stack (plaintext, started by this extension or `pipeline stack up`). */
  local: boolean;
  /** The cluster of the bootstrap servers setting: the one the pipeline (generator, job, status bar) uses. */
  primary: boolean;
}

function normalize(bootstrap: string): string {
  return parseBootstrapServers(bootstrap)
    .map((s) => s.replace(/^localhost:/i, '127.0.0.1:'))
    .sort()
    .join(',');
}

/**
 * Kafka admin clients per cluster, built from the settings (and the SASL password in SecretStorage). A changed
 * setting or password closes them all, so the next request uses the new values without a reload.
 */
export class KafkaConnections extends Disposable {
  private readonly clients = new Map<string, KafkaAdminClient>();
  private readonly _onDidChange = this._register(new vscode.EventEmitter<void>());
  readonly onDidChange = this._onDidChange.event;

  constructor(
    private readonly secrets: vscode.SecretStorage,
    private readonly log: Log,
  ) {
    super();
    this._register(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (affectsAny(e, settings.bootstrapServers, settings.additionalClusters, settings.saslMechanism, settings.saslUsername, settings.tls, settings.requestTimeoutSeconds)) this.reset('settings changed');
      }),
    );
    this._register(secrets.onDidChange((e) => e.key === SASL_PASSWORD_SECRET && this.reset('SASL password changed')));
  }

  /** Where the local stack listens (three nodes when that mode runs). */
  localAddress(): string {
    const folder = workspaceFolder();
    const mode = folder ? new LocalStack(folder).runningMode() : undefined;
    return bootstrapFor(mode ?? 'single');
  }

  clusters(): ClusterEntry[] {
    const local = normalize(this.localAddress());
    const seen = new Set<string>();
    const entries: ClusterEntry[] = [];
    const add = (bootstrapServers: string, primary: boolean) => {
      const key = normalize(bootstrapServers) || bootstrapServers;
      if (seen.has(key)) return;
      seen.add(key);
      const isLocal = key === local;
      entries.push({ key, bootstrapServers: bootstrapServers.trim(), local: isLocal, primary, label: isLocal ? 'local' : primary ? 'cluster' : 'additional cluster' });
    };
    add(settings.bootstrapServers.value, true);
    for (const extra of settings.additionalClusters.value ?? []) if (typeof extra === 'string' && extra.trim()) add(extra, false);
    return entries;
  }

  primary(): ClusterEntry {
    return this.clusters()[0];
  }

  find(key: string): ClusterEntry | undefined {
    return this.clusters().find((c) => c.key === key);
  }

  async client(entry: ClusterEntry = this.primary()): Promise<KafkaAdminClient> {
    const existing = this.clients.get(entry.key);
    if (existing) return existing;
    const invalid = validateBootstrapServers(entry.bootstrapServers);
    if (invalid) throw new UserError(`${invalid} Fix the setting ${entry.primary ? settings.bootstrapServers.fullKey : settings.additionalClusters.fullKey}.`);
    const timeoutMs = Math.max(1, settings.requestTimeoutSeconds.value) * 1000;
    const options: ConnectionOptions = {
      bootstrapServers: parseBootstrapServers(entry.bootstrapServers),
      requestTimeoutMs: timeoutMs,
      connectionTimeoutMs: Math.min(timeoutMs, 3000),
      retries: 1,
    };
    // Security settings are for real clusters; the local stack listens in plaintext on loopback.
    if (!entry.local) {
      options.ssl = settings.tls.value;
      const mechanism = settings.saslMechanism.value;
      if (mechanism && mechanism !== 'none') {
        const password = await this.secrets.get(SASL_PASSWORD_SECRET);
        if (!password) throw new UserError('SASL is configured but no password is stored: run "Kafka Flink Lab: Set SASL Password…".');
        options.sasl = { mechanism, username: settings.saslUsername.value, password };
      }
    }
    const client = new KafkaAdminClient(options, timeoutMs);
    this.clients.set(entry.key, client);
    return client;
  }

  private reset(why: string): void {
    this.log.info(`Kafka connections reset (${why}).`);
    this.closeAll();
    this._onDidChange.fire();
  }

  private closeAll(): void {
    const clients = [...this.clients.values()];
    this.clients.clear();
    for (const client of clients) void client.close();
  }

  override dispose(): void {
    this.closeAll();
    super.dispose();
  }
}
