import * as vscode from 'vscode';
import { UserError } from '../core/errors';
import { validateBootstrapServers } from '../core/validation';
import { SASL_PASSWORD_SECRET, settings } from '../settings';
import { KafkaNode } from '../views/kafkaNodes';
import { registerCommandWithLogging, type Services } from './registration';
import { askText, clusterNodeOf, required } from './prompts';

export const WALKTHROUGH_ID = 'gettingStarted';

export function generalCommands(s: Services): vscode.Disposable[] {
  return [
    registerCommandWithLogging('kafkaFlinkLab.kafka.refresh', (node?: unknown) => s.explorer.refresh(node instanceof KafkaNode ? node : undefined), s.log),
    registerCommandWithLogging(
      'kafkaFlinkLab.cluster.add',
      async () => {
        const address = await askText({ title: 'Add a Kafka cluster', prompt: 'Bootstrap servers: host:port[,host:port…]', placeHolder: 'broker1.example.com:9092', validate: validateBootstrapServers });
        const current = settings.additionalClusters.value ?? [];
        if (current.includes(address) || settings.bootstrapServers.value === address) throw new UserError(`${address} is already in the Kafka view.`);
        await settings.additionalClusters.update([...current, address]);
        s.log.info(`Added cluster ${address} (setting ${settings.additionalClusters.fullKey}).`);
      },
      s.log,
    ),
    registerCommandWithLogging(
      'kafkaFlinkLab.cluster.remove',
      async (node?: unknown) => {
        const current = settings.additionalClusters.value ?? [];
        const fromNode = clusterNodeOf(node)?.entry;
        if (fromNode?.primary) throw new UserError(`${fromNode.bootstrapServers} is the pipeline's cluster (setting ${settings.bootstrapServers.fullKey}); change that setting instead.`);
        const address = fromNode?.bootstrapServers ?? required(await vscode.window.showQuickPick(current, { title: 'Remove which cluster from the Kafka view?' }));
        await settings.additionalClusters.update(current.filter((c) => c.trim() !== address.trim()));
      },
      s.log,
    ),
    registerCommandWithLogging(
      'kafkaFlinkLab.connection.setPassword',
      async () => {
        const password = await askText({ title: `SASL password for ${settings.saslUsername.value || '(no user name set)'}`, prompt: 'Kept in VS Code’s secret storage, never in settings.', password: true, validate: (v) => (v ? undefined : 'The password cannot be empty.') });
        await s.context.secrets.store(SASL_PASSWORD_SECRET, password);
        void vscode.window.showInformationMessage('SASL password stored in the secret storage.');
      },
      s.log,
    ),
    registerCommandWithLogging(
      'kafkaFlinkLab.connection.clearPassword',
      async () => {
        await s.context.secrets.delete(SASL_PASSWORD_SECRET);
        void vscode.window.showInformationMessage('SASL password removed from the secret storage.');
      },
      s.log,
    ),
    registerCommandWithLogging('kafkaFlinkLab.log.show', () => s.log.show(), s.log),
    registerCommandWithLogging('kafkaFlinkLab.help.walkthrough', () => vscode.commands.executeCommand('workbench.action.openWalkthrough', `${s.context.extension.id}#${WALKTHROUGH_ID}`, false), s.log),
  ];
}
