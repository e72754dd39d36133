// How the extension, the CLI, the generator and the job talk to a secured cluster, and whose secret goes where.
import { createHash } from 'node:crypto';
import { UserError } from '../shared/errors';
import { parseBootstrapServers, type ConnectionOptions } from './kafkaClient';
import { SETTINGS_PREFIX } from '../config/settingKeys';
import type { Resolved } from '../config/resolver';
import { tlsOptions } from './tlsTrust';

export type SaslMechanism = 'plain' | 'scram-sha-256' | 'scram-sha-512';
export const SASL_MECHANISMS: readonly SaslMechanism[] = ['plain', 'scram-sha-256', 'scram-sha-512'];

/** A cluster's transport and authentication; the secret itself lives elsewhere (SecretStorage, env, a file). */
export interface ClusterSecurity {
  mechanism: SaslMechanism | 'none';
  username: string;
  tls: boolean;
  /** A PEM file of the CA(s) to trust instead of the system's, absolute; only with tls. */
  caFile?: string;
  /**
   * SASL over a plaintext connection: PLAIN sends the password readable on the wire, SCRAM a proof of it that can
   * be attacked offline. Refused unless the cluster's own settings allow it.
   */
  allowPlaintextSasl: boolean;
}

export const NO_SECURITY: ClusterSecurity = { mechanism: 'none', username: '', tls: false, allowPlaintextSasl: false };

export interface ClusterConfig {
  bootstrapServers: string;
  security: ClusterSecurity;
}

/**
 * Where the CLI, the generator and the job take a SASL password from: the environment or a file readable only by
 * the user, never a flag — a command line can be read by every user of the machine (/proc/<pid>/cmdline).
 */
export const SASL_PASSWORD_ENV = 'PIPELINE_SASL_PASSWORD';
export const SASL_PASSWORD_FILE_ENV = 'PIPELINE_SASL_PASSWORD_FILE';

/** The arguments of data_generator.py and flink_job.py for a cluster's security (the password is not one). */
export function pythonSecurityArgs(security: ClusterSecurity | undefined): string[] {
  if (!security || securityProtocol(security) === 'PLAINTEXT') return [];
  const args = ['--security-protocol', securityProtocol(security)];
  if (usesSasl(security)) args.push('--sasl-mechanism', security.mechanism.toUpperCase(), '--sasl-username', security.username);
  if (security.tls && security.caFile) args.push('--tls-ca-file', security.caFile);
  return args;
}

/**
 * Whoever chooses the CA can stand in for the cluster and read what is sent to it, so with SASL the CA file must
 * be one the user chose: a flag, the environment or the user settings, never a workspace's settings file (a
 * cloned repository's .vscode/settings.json). Without a secret a workspace may name one: nothing of the user's is at stake
 * beyond what a workspace's bootstrap servers can already direct.
 */
export function caFileTrustProblem(security: ClusterSecurity, caFile: Resolved<string>): string | undefined {
  if (!usesSasl(security) || !caFile.value || caFile.origin !== 'workspace') return undefined;
  return `The CA file ${caFile.value} comes from ${caFile.label}: a workspace's settings may not choose whom a SASL password is sent to, so it is refused. If you trust it, set ${SETTINGS_PREFIX}.tlsCaFile in your user settings (CLI: --tls-ca-file).`;
}

/** Bootstrap servers in one spelling: sorted, localhost as 127.0.0.1, so that one cluster has one identity. */
export function normalizeBootstrap(bootstrap: string): string {
  return parseBootstrapServers(bootstrap)
    .map((s) => s.replace(/^localhost:/i, '127.0.0.1:'))
    .sort()
    .join(',');
}

export const usesSasl = (security: ClusterSecurity): security is ClusterSecurity & { mechanism: SaslMechanism } =>
  security.mechanism !== 'none';

/** The identity a secret belongs to: bootstrap servers + mechanism + user. */
export function clusterIdentity(cluster: ClusterConfig): string {
  return JSON.stringify([normalizeBootstrap(cluster.bootstrapServers), cluster.security.mechanism, cluster.security.username]);
}

/** Where the SASL password of one cluster identity is kept in VS Code's SecretStorage (derived from the identity). */
export const SECRET_KEY_PREFIX = `${SETTINGS_PREFIX}.sasl.password/`;

export function secretKeyFor(cluster: ClusterConfig): string {
  return SECRET_KEY_PREFIX + createHash('sha256').update(clusterIdentity(cluster)).digest('hex');
}

/** "user alice at broker1:9093 (PLAIN)": how prompts and messages name a cluster identity. */
export function describeIdentity(cluster: ClusterConfig): string {
  const { mechanism, username } = cluster.security;
  return `user ${username || '(none)'} at ${cluster.bootstrapServers} (${mechanism.toUpperCase()}${cluster.security.tls ? ' over TLS' : ''})`;
}

/** "SASL PLAIN as alice, over TLS": a cluster's security in a tooltip. */
export function securityDescription(security: ClusterSecurity): string {
  const transport = security.tls
    ? `over TLS${security.caFile ? ` (CA ${security.caFile})` : ''}`
    : security.allowPlaintextSasl && usesSasl(security)
      ? 'without TLS (allowed for this cluster)'
      : 'without TLS';
  return usesSasl(security)
    ? `SASL ${security.mechanism.toUpperCase()} as ${security.username || '(no user)'}, ${transport}`
    : `No authentication, ${transport}`;
}

/** Why this cluster's SASL may not go over its connection, or undefined. */
export function plaintextSaslProblem(cluster: ClusterConfig, allowSetting = `the cluster's allowPlaintextSasl`): string | undefined {
  const { security } = cluster;
  if (!usesSasl(security) || security.tls || security.allowPlaintextSasl) return undefined;
  return `SASL ${security.mechanism.toUpperCase()} to ${cluster.bootstrapServers} without TLS would send ${security.mechanism === 'plain' ? 'the password readable' : 'a proof of the password'} over the network: refused. Turn on TLS for this cluster, or, only for a network you trust, set ${allowSetting} to true.`;
}

/** The warning shown when a cluster allows SASL without TLS and it is used. */
export function plaintextSaslWarning(cluster: ClusterConfig): string | undefined {
  const { security } = cluster;
  if (!usesSasl(security) || security.tls || !security.allowPlaintextSasl) return undefined;
  return `SASL ${security.mechanism.toUpperCase()} to ${cluster.bootstrapServers} goes without TLS (allowed by this cluster's settings): ${security.mechanism === 'plain' ? 'the password is readable' : 'a proof of the password can be read'} by anyone on the network path.`;
}

/** Reads a secret by key (VS Code's SecretStorage, or a map in tests). */
export interface SecretReader {
  get(key: string): PromiseLike<string | undefined>;
}

/**
 * The TLS and SASL part of the connection options of one cluster. The password is the one stored for exactly
 * this cluster's identity; without it, or when SASL would go without TLS and the cluster does not allow that,
 * nothing is sent and a UserError says why.
 */
export async function connectionSecurity(
  cluster: ClusterConfig,
  secrets: SecretReader,
  allowSetting?: string,
): Promise<Pick<ConnectionOptions, 'ssl' | 'sasl'>> {
  const { security } = cluster;
  if (!usesSasl(security)) return { ssl: tlsOptions(security.tls, security.caFile) };
  if (!security.username)
    throw new UserError(`SASL ${security.mechanism.toUpperCase()} is set for ${cluster.bootstrapServers} without a user name.`);
  const problem = plaintextSaslProblem(cluster, allowSetting);
  if (problem) throw new UserError(problem);
  const password = await secrets.get(secretKeyFor(cluster));
  if (!password)
    throw new UserError(
      `No SASL password is stored for ${describeIdentity(cluster)}: run "Kafka Flink Lab: Set SASL Password…" for this cluster.`,
    );
  return { ssl: tlsOptions(security.tls, security.caFile), sasl: { mechanism: security.mechanism, username: security.username, password } };
}

/** Kafka's security.protocol for a cluster: what the generator and the job are told. */
export function securityProtocol(security: ClusterSecurity): 'PLAINTEXT' | 'SSL' | 'SASL_PLAINTEXT' | 'SASL_SSL' {
  if (usesSasl(security)) return security.tls ? 'SASL_SSL' : 'SASL_PLAINTEXT';
  return security.tls ? 'SSL' : 'PLAINTEXT';
}

/** One entry of the additionalClusters setting: bootstrap servers alone (the main cluster's security), or an object. */
export interface ClusterSettingObject {
  bootstrapServers?: unknown;
  sasl?: { mechanism?: unknown; username?: unknown };
  tls?: unknown;
  allowPlaintextSasl?: unknown;
}

export function parseMechanism(value: unknown): SaslMechanism | 'none' | undefined {
  if (value === undefined || value === null || value === 'none' || value === '') return 'none';
  const lower = String(value).toLowerCase();
  return (SASL_MECHANISMS as readonly string[]).includes(lower) ? (lower as SaslMechanism) : undefined;
}

/** A cluster from one additionalClusters entry, or why it is not one. */
export function parseClusterEntry(entry: unknown, inherited: ClusterSecurity): { cluster?: ClusterConfig; error?: string } {
  if (typeof entry === 'string') return entry.trim() ? { cluster: { bootstrapServers: entry.trim(), security: inherited } } : {};
  if (entry === null || typeof entry !== 'object')
    return { error: `an entry of ${SETTINGS_PREFIX}.additionalClusters is neither bootstrap servers nor an object` };
  const o = entry as ClusterSettingObject;
  if (typeof o.bootstrapServers !== 'string' || !o.bootstrapServers.trim())
    return { error: `an entry of ${SETTINGS_PREFIX}.additionalClusters has no bootstrapServers` };
  const mechanism = parseMechanism(o.sasl?.mechanism);
  if (!mechanism)
    return {
      error: `the SASL mechanism ${JSON.stringify(o.sasl?.mechanism)} of ${o.bootstrapServers} is not one of none, ${SASL_MECHANISMS.join(', ')}`,
    };
  return {
    cluster: {
      bootstrapServers: o.bootstrapServers.trim(),
      security: {
        mechanism,
        username: typeof o.sasl?.username === 'string' ? o.sasl.username : '',
        tls: o.tls === true,
        allowPlaintextSasl: o.allowPlaintextSasl === true,
      },
    },
  };
}

/** The additionalClusters entry the "Add Kafka Cluster…" command writes. */
export function clusterEntrySetting(cluster: ClusterConfig): ClusterSettingObject {
  const { security } = cluster;
  return {
    bootstrapServers: cluster.bootstrapServers,
    ...(usesSasl(security) ? { sasl: { mechanism: security.mechanism, username: security.username } } : {}),
    tls: security.tls,
    ...(security.allowPlaintextSasl ? { allowPlaintextSasl: true } : {}),
  };
}
