// General commands: the walkthrough, the log, refresh, clusters (add, remove) and their SASL passwords (set, clear).
import * as vscode from 'vscode';
import type { ClusterEntry } from '../services/connections';
import {
  clusterEntrySetting,
  describeIdentity,
  normalizeBootstrap,
  secretKeyFor,
  usesSasl,
  type ClusterConfig,
  type SaslMechanism,
} from '../kafka/clusterSecurity';
import { UserError } from '../shared/errors';
import { validateBootstrapServers } from '../config/validation';
import { LEGACY_SASL_PASSWORD_SECRET, settings } from '../services/settings';
import { KafkaNode } from '../views/kafkaTreeNode';
import { registerCommandWithLogging, type Services } from './registration';
import { askText, clusterNodeOf, required } from './prompts';

export const WALKTHROUGH_ID = 'gettingStarted';

const askPassword = (cluster: ClusterConfig) =>
  askText({
    title: `SASL password for ${describeIdentity(cluster)}`,
    prompt: 'Kept in VS Code’s secret storage for this cluster only, never in settings.',
    password: true,
    validate: (v) => (v ? undefined : 'The password cannot be empty.'),
  });

/**
 * Asks how to reach a new cluster: SASL mechanism, TLS, user and its own password; SASL without TLS only after a
 * warning the user accepts for this cluster.
 */
async function askClusterSecurity(bootstrapServers: string): Promise<{ cluster: ClusterConfig; password?: string }> {
  const mechanism = required(
    await vscode.window.showQuickPick(
      [
        { label: 'No authentication', mechanism: 'none' as const },
        { label: 'SASL PLAIN', description: 'user and password', mechanism: 'plain' as const },
        { label: 'SASL SCRAM-SHA-256', mechanism: 'scram-sha-256' as const },
        { label: 'SASL SCRAM-SHA-512', mechanism: 'scram-sha-512' as const },
      ],
      { title: `How does ${bootstrapServers} authenticate clients?`, ignoreFocusOut: true },
    ),
  ).mechanism as SaslMechanism | 'none';
  const tls = required(
    await vscode.window.showQuickPick(
      [
        { label: 'TLS', description: 'encrypted connection', tls: true },
        { label: 'Plaintext', description: 'not encrypted', tls: false },
      ],
      { title: `Does ${bootstrapServers} use TLS?`, ignoreFocusOut: true },
    ),
  ).tls;
  const cluster: ClusterConfig = { bootstrapServers, security: { mechanism, username: '', tls, allowPlaintextSasl: false } };
  if (mechanism === 'none') return { cluster };
  cluster.security.username = await askText({
    title: `SASL user at ${bootstrapServers}`,
    prompt: 'User name',
    validate: (v) => (v.trim() ? undefined : 'The user name cannot be empty.'),
  });
  if (!tls) {
    const allow = 'Allow for this cluster';
    const choice = await vscode.window.showWarningMessage(
      `SASL ${mechanism.toUpperCase()} without TLS sends ${mechanism === 'plain' ? 'the password readable' : 'a proof of the password'} over the network to ${bootstrapServers}. Allow it for this cluster only (a network you trust)?`,
      { modal: true },
      allow,
    );
    if (choice !== allow)
      throw new UserError(`${bootstrapServers} was not added: SASL without TLS was not allowed. Add it again with TLS.`);
    cluster.security.allowPlaintextSasl = true;
  }
  return { cluster, password: await askPassword(cluster) };
}

/** A cluster that authenticates with SASL: the node's, the only one, or the one picked. */
async function pickSaslCluster(s: Services, node: unknown, title: string): Promise<ClusterEntry> {
  const fromNode = clusterNodeOf(node)?.entry;
  if (fromNode && !fromNode.local && usesSasl(fromNode.security)) return fromNode;
  const clusters = s.connections.clusters().filter((c) => !c.local && !c.problem && usesSasl(c.security));
  if (clusters.length === 0)
    throw new UserError(
      `No cluster in the Kafka view uses SASL: set ${settings.saslMechanism.fullKey} and ${settings.saslUsername.fullKey}, or add a cluster with SASL.`,
    );
  if (clusters.length === 1) return clusters[0];
  const picked = await vscode.window.showQuickPick(
    clusters.map((c) => ({ label: c.bootstrapServers, description: describeIdentity(c), entry: c })),
    { title, ignoreFocusOut: true },
  );
  return required(picked).entry;
}

export function generalCommands(s: Services): vscode.Disposable[] {
  return [
    registerCommandWithLogging(
      'kafkaFlinkLab.kafka.refresh',
      (node?: unknown) => s.explorer.refresh(node instanceof KafkaNode ? node : undefined),
      s.log,
    ),
    registerCommandWithLogging(
      'kafkaFlinkLab.cluster.add',
      async () => {
        const address = (
          await askText({
            title: 'Add a Kafka cluster',
            prompt: 'Bootstrap servers: host:port[,host:port…]',
            placeHolder: 'broker1.example.com:9093',
            validate: validateBootstrapServers,
          })
        ).trim();
        if (s.connections.clusters().some((c) => c.key === normalizeBootstrap(address)))
          throw new UserError(`${address} is already in the Kafka view.`);
        const { cluster, password } = await askClusterSecurity(address);
        if (password) await s.context.secrets.store(secretKeyFor(cluster), password);
        await settings.additionalClusters.update([...(settings.additionalClusters.value ?? []), clusterEntrySetting(cluster)]);
        s.log.info(
          `Added cluster ${address} (setting ${settings.additionalClusters.fullKey})${password ? `; its SASL password is stored for ${describeIdentity(cluster)} only` : ''}.`,
        );
      },
      s.log,
    ),
    registerCommandWithLogging(
      'kafkaFlinkLab.cluster.remove',
      async (node?: unknown) => {
        const current = settings.additionalClusters.value ?? [];
        const fromNode = clusterNodeOf(node)?.entry;
        if (fromNode?.primary)
          throw new UserError(
            `${fromNode.bootstrapServers} is the pipeline's cluster (setting ${settings.bootstrapServers.fullKey}); change that setting instead.`,
          );
        const additional = s.connections.clusters().filter((c) => !c.primary);
        const entry =
          fromNode ??
          required(
            await vscode.window.showQuickPick(
              additional.map((c) => ({ label: c.bootstrapServers, entry: c })),
              { title: 'Remove which cluster from the Kafka view?' },
            ),
          ).entry;
        await settings.additionalClusters.update(
          current.filter(
            (c) =>
              normalizeBootstrap(typeof c === 'string' ? c : String((c as { bootstrapServers?: unknown })?.bootstrapServers ?? '')) !==
              entry.key,
          ),
        );
        if (usesSasl(entry.security)) await s.context.secrets.delete(secretKeyFor(entry));
      },
      s.log,
    ),
    registerCommandWithLogging(
      'kafkaFlinkLab.connection.setPassword',
      async (node?: unknown) => {
        const entry = await pickSaslCluster(s, node, 'Set the SASL password of which cluster?');
        await s.context.secrets.store(secretKeyFor(entry), await askPassword(entry));
        void vscode.window.showInformationMessage(`SASL password stored for ${describeIdentity(entry)}; it is sent to no other cluster.`);
      },
      s.log,
    ),
    registerCommandWithLogging(
      'kafkaFlinkLab.connection.clearPassword',
      async (node?: unknown) => {
        const entry = await pickSaslCluster(s, node, 'Clear the SASL password of which cluster?');
        await s.context.secrets.delete(secretKeyFor(entry));
        await s.context.secrets.delete(LEGACY_SASL_PASSWORD_SECRET);
        void vscode.window.showInformationMessage(`SASL password of ${describeIdentity(entry)} removed from the secret storage.`);
      },
      s.log,
    ),
    registerCommandWithLogging('kafkaFlinkLab.log.show', () => s.log.show(), s.log),
    registerCommandWithLogging(
      'kafkaFlinkLab.help.walkthrough',
      () => vscode.commands.executeCommand('workbench.action.openWalkthrough', `${s.context.extension.id}#${WALKTHROUGH_ID}`, false),
      s.log,
    ),
  ];
}
