// The Kafka clusters of the settings and an admin client for each, with the SASL password stored for exactly that cluster.
import * as vscode from 'vscode';
import {
  caFileTrustProblem,
  connectionSecurity,
  normalizeBootstrap,
  parseClusterEntry,
  plaintextSaslWarning,
  SECRET_KEY_PREFIX,
  secretKeyFor,
  usesSasl,
  type ClusterConfig,
  type ClusterSecurity,
} from '../kafka/clusterSecurity';
import { UserError } from '../shared/errors';
import { parseBootstrapServers, type ConnectionOptions } from '../kafka/kafkaClient';
import { bootstrapFor, LocalStack } from '../local/stack';
import { validateBootstrapServers } from '../config/validation';
import { KafkaAdminClient } from '../kafka/kafkaAdmin';
import { InvalidValueError } from '../config/resolver';
import { affectsAny, extensionConfig, settings } from './settings';
import { Disposable } from './lifecycle';
import type { Log } from './log';
import { workspaceFolder } from './workspace';

/** What the generator and the job get to reach the pipeline's cluster: its address, security flags and the password's variable. */
export interface PipelineAccess {
  bootstrapServers: string;
  security?: ClusterSecurity;
  /** The SASL password, for the process's 0600 file (services/terminals.ts), never its environment. */
  password?: string;
}

export interface ClusterEntry extends ClusterConfig {
  /** Stable id: the normalized bootstrap servers. */
  key: string;
  label: string;
  /** The address of the local stack (plaintext, started by this extension or `pipeline stack up`): no SASL, no TLS. */
  local: boolean;
  /** The cluster of the bootstrap servers setting: the one the pipeline (generator, job, status bar) uses. */
  primary: boolean;
  /** Where its address is set, as messages name it. */
  from: string;
  /** Why its settings entry cannot be used; connecting to it fails with this. */
  problem?: string;
}

/**
 * The main cluster's security settings; a bootstrap-servers-only entry of additionalClusters takes them too. A CA
 * file turns TLS on; with SASL, one chosen by the workspace's settings is a problem (caFileTrustProblem says why).
 */
function mainSecurity(): { security: ClusterSecurity; problem?: string } {
  const security: ClusterSecurity = {
    mechanism: settings.saslMechanism.value,
    username: settings.saslUsername.value,
    tls: settings.tls.value,
    allowPlaintextSasl: settings.saslAllowPlaintext.value,
  };
  try {
    const caFile = extensionConfig().tlsCaFile();
    if (!caFile.value) return { security };
    const withCa = { ...security, tls: true, caFile: caFile.value };
    return { security: withCa, problem: caFileTrustProblem(withCa, caFile) };
  } catch (error) {
    if (!(error instanceof InvalidValueError)) throw error;
    return { security, problem: error.message };
  }
}

/** The pipeline's bootstrap servers as the resolver chose them, or what is wrong with them (the tree still shows the cluster). */
function primaryBootstrap(): { bootstrapServers: string; from: string; problem?: string } {
  try {
    const resolved = extensionConfig().bootstrapServers();
    return { bootstrapServers: resolved.value, from: resolved.label };
  } catch (error) {
    if (!(error instanceof InvalidValueError)) throw error;
    return { bootstrapServers: String(error.given.value), from: error.given.label, problem: error.message };
  }
}

/** The setting that allows SASL without TLS for a cluster, as messages name it. */
function allowSettingOf(entry: ClusterEntry): string {
  return entry.primary
    ? settings.saslAllowPlaintext.fullKey
    : `"allowPlaintextSasl" in its entry of ${settings.additionalClusters.fullKey}`;
}

/**
 * Kafka admin clients per cluster, built from the settings and the SASL password stored for exactly that cluster's
 * identity (bootstrap servers + mechanism + user; see kafka/clusterSecurity.ts): a password is never offered to
 * another cluster, and SASL without TLS only where that cluster's settings allow it. A changed setting or password
 * closes them all, so the next request uses the new values without a reload.
 */
export class KafkaConnections extends Disposable {
  private readonly clients = new Map<string, KafkaAdminClient>();
  private readonly warnedPlaintext = new Set<string>();
  private readonly _onDidChange = this._register(new vscode.EventEmitter<void>());
  readonly onDidChange = this._onDidChange.event;

  constructor(
    private readonly secrets: vscode.SecretStorage,
    private readonly log: Log,
  ) {
    super();
    this._register(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (
          affectsAny(
            e,
            settings.bootstrapServers,
            settings.additionalClusters,
            settings.saslMechanism,
            settings.saslUsername,
            settings.tls,
            settings.tlsCaFile,
            settings.saslAllowPlaintext,
            settings.requestTimeoutSeconds,
          )
        )
          this.reset('settings changed');
      }),
    );
    this._register(secrets.onDidChange((e) => e.key.startsWith(SECRET_KEY_PREFIX) && this.reset('a SASL password changed')));
  }

  /** Where the local stack listens (three nodes when that mode runs). */
  localAddress(): string {
    const folder = workspaceFolder();
    const mode = folder ? new LocalStack(folder).runningMode() : undefined;
    return bootstrapFor(mode ?? 'single');
  }

  clusters(): ClusterEntry[] {
    const local = normalizeBootstrap(this.localAddress());
    const seen = new Set<string>();
    const entries: ClusterEntry[] = [];
    const main = mainSecurity();
    // The local stack is reached without TLS or SASL: the main security's problem is not its.
    const add = (bootstrapServers: string, security: ClusterSecurity, primary: boolean, from: string, problem?: string) => {
      const key = normalizeBootstrap(bootstrapServers) || bootstrapServers;
      if (seen.has(key)) return;
      seen.add(key);
      const isLocal = key === local;
      if (isLocal && problem === main.problem) problem = undefined;
      entries.push({
        key,
        bootstrapServers: bootstrapServers.trim(),
        security,
        local: isLocal,
        primary,
        from,
        problem,
        label: isLocal ? 'local' : primary ? 'cluster' : 'additional cluster',
      });
    };
    const inherited = main.security;
    const primary = primaryBootstrap();
    add(primary.bootstrapServers, inherited, true, primary.from, primary.problem ?? main.problem);
    const additional = settings.additionalClusters.fullKey;
    (settings.additionalClusters.value ?? []).forEach((setting, index) => {
      const { cluster, error } = parseClusterEntry(setting, inherited);
      if (cluster)
        add(cluster.bootstrapServers, cluster.security, false, additional, typeof setting === 'string' ? main.problem : undefined);
      else if (error) add(`entry ${index + 1}`, inherited, false, additional, `Fix ${error}.`);
    });
    return entries;
  }

  primary(): ClusterEntry {
    return this.clusters()[0];
  }

  find(key: string): ClusterEntry | undefined {
    return this.clusters().find((c) => c.key === key);
  }

  /** The TLS and SASL options of a cluster (none for the local stack), with its own password; see class comment. */
  async security(entry: ClusterEntry): Promise<Pick<ConnectionOptions, 'ssl' | 'sasl'>> {
    if (entry.local) return {};
    const options = await connectionSecurity(entry, this.secrets, allowSettingOf(entry));
    const warning = plaintextSaslWarning(entry);
    if (warning && !this.warnedPlaintext.has(secretKeyFor(entry))) {
      this.warnedPlaintext.add(secretKeyFor(entry));
      this.log.warn(warning);
      void vscode.window.showWarningMessage(warning);
    }
    return options;
  }

  async client(entry: ClusterEntry = this.primary()): Promise<KafkaAdminClient> {
    const existing = this.clients.get(entry.key);
    if (existing) return existing;
    if (entry.problem) throw new UserError(entry.problem);
    // The pipeline's address is checked where it is resolved; an additional cluster's here.
    const invalid = entry.primary ? undefined : validateBootstrapServers(entry.bootstrapServers);
    if (invalid) throw new UserError(`${invalid} Fix the setting ${entry.from}.`);
    const timeoutMs = Math.max(1, settings.requestTimeoutSeconds.value) * 1000;
    const options: ConnectionOptions = {
      bootstrapServers: parseBootstrapServers(entry.bootstrapServers),
      requestTimeoutMs: timeoutMs,
      connectionTimeoutMs: Math.min(timeoutMs, 3000),
      retries: 1,
      ...(await this.security(entry)),
    };
    const client = new KafkaAdminClient(options, timeoutMs);
    this.clients.set(entry.key, client);
    return client;
  }

  /**
   * What the generator and the job get to reach the pipeline's cluster: its checked bootstrap servers and the
   * security flags of the `pipeline` CLI, and the password (in a 0600 file its terminal's environment names, never
   * on a command line; the CLI offers it to these servers because they come as its --bootstrap-servers flag).
   */
  async pipelineAccess(): Promise<PipelineAccess> {
    const entry = this.primary();
    if (entry.problem) throw new UserError(entry.problem);
    const { bootstrapServers } = entry;
    if (entry.local || (!usesSasl(entry.security) && !entry.security.tls)) return { bootstrapServers };
    const options = await this.security(entry);
    return { bootstrapServers, security: entry.security, password: options.sasl?.password };
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
