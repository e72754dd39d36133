// Whether the job may carry a cluster identity's SASL password to its Flink target: refused, sent, or asked once per identity and target.
import { createHash } from 'node:crypto';
import { clusterIdentity, describeIdentity, usesSasl, type ClusterConfig } from '../kafka/clusterSecurity';
import { secretTargetNeedsConsent, secretTargetProblem, type FlinkTarget } from '../flink/flinkJobs';

export type SecretTargetDecision =
  | { kind: 'send' }
  | { kind: 'refuse'; message: string }
  /** The user is asked once; `key` is what is remembered when they agree. */
  | { kind: 'ask'; key: string; message: string; detail: string };

/** What is remembered of one agreement: the identity and the target, hashed (nothing to read back from it). */
export function secretTargetKey(cluster: ClusterConfig, targetUrl: string): string {
  return createHash('sha256')
    .update(JSON.stringify([clusterIdentity(cluster), targetUrl]))
    .digest('hex');
}

/**
 * The job's table DDL carries the password into the job graph submitted to its Flink. A Flink in clear text on
 * another machine never gets it; one on another machine over https gets it once the user has said so for this
 * identity and this target (a workspace's settings can name any target); the embedded Flink, the local cluster
 * and a Flink on loopback get it without asking.
 */
export function secretTargetDecision(cluster: ClusterConfig, target: FlinkTarget, agreed: readonly string[]): SecretTargetDecision {
  if (!usesSasl(cluster.security)) return { kind: 'send' };
  const problem = secretTargetProblem(target);
  if (problem) return { kind: 'refuse', message: problem };
  if (!secretTargetNeedsConsent(target)) return { kind: 'send' };
  const key = secretTargetKey(cluster, target.url);
  if (agreed.includes(key)) return { kind: 'send' };
  return {
    kind: 'ask',
    key,
    message: `Send the SASL password of ${describeIdentity(cluster)} to the Flink cluster at ${target.url}?`,
    detail: `The Flink job carries the password into the job it submits there, so whoever runs ${target.url} can read it. Answer only if you chose that cluster yourself; you are asked once for this cluster identity and this Flink target.`,
  };
}
