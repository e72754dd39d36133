// Local stack commands: start the KRaft broker in its terminal (and wait until it answers), and stop it.
import * as vscode from 'vscode';
import { requireWorkspace } from '../services/workspace';
import { cliStackUpArgs } from '../services/cliArgs';
import { UserError } from '../shared/errors';
import { LocalStack } from '../local/stack';
import { settings } from '../services/settings';
import { registerCommandWithLogging, type Services } from './registration';

/** How long a first start may take: it can download the Kafka jars. */
const BROKER_START_TIMEOUT_MS = 240_000;

/**
 * Starts the local stack in the "Kafka broker" terminal (`pipeline stack up --follow`: the broker's log follows),
 * then waits, with a cancellable notification, until the broker answers.
 */
export async function startLocalStack(s: Services, options: { quiet?: boolean } = {}): Promise<void> {
  const workspace = requireWorkspace();
  const started = await s.terminals.start('broker', cliStackUpArgs(workspace), { show: !options.quiet });
  const primary = s.connections.primary();
  if (started === 'already-running' && s.monitor.snapshot.broker.state === 'up') return;
  const up = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'Starting local Kafka (see the "Kafka broker" terminal)…', cancellable: true },
    (_progress, token) =>
      s.monitor.waitFor((snap) => snap.broker.state === 'up' || s.terminals.phase('broker') === 'failed', BROKER_START_TIMEOUT_MS, token),
  );
  if (s.monitor.snapshot.broker.state !== 'up') {
    if (s.terminals.phase('broker') === 'failed')
      throw new UserError('The local Kafka did not start: the "Kafka broker" terminal shows why.');
    if (up === false) throw new UserError(`Kafka at ${primary.bootstrapServers} is not answering yet: see the "Kafka broker" terminal.`);
  }
  s.explorer.refresh();
  if (!primary.local) {
    const use = await vscode.window.showInformationMessage(
      `The local Kafka runs at ${s.connections.localAddress()}, but the pipeline uses ${primary.bootstrapServers} (${primary.from}).`,
      'Use the local Kafka',
    );
    if (use) await settings.bootstrapServers.update(s.connections.localAddress());
  }
}

export function stackCommands(s: Services): vscode.Disposable[] {
  return [
    registerCommandWithLogging('kafkaFlinkLab.stack.start', () => startLocalStack(s), s.log),
    registerCommandWithLogging(
      'kafkaFlinkLab.stack.stop',
      async () => {
        const workspace = requireWorkspace();
        // The terminal only follows the broker log; Ctrl-C ends the following, then the broker is stopped.
        await s.terminals.stop('broker', 3000);
        const result = await vscode.window.withProgress(
          { location: vscode.ProgressLocation.Notification, title: 'Stopping local Kafka…' },
          (progress) => new LocalStack(workspace).down({ progress: (message) => (progress.report({ message }), s.log.info(message)) }),
        );
        if (result.stopped.length === 0) void vscode.window.showInformationMessage('The local Kafka stack was not running.');
        else
          s.log.info(
            `Stopped Kafka node(s) ${result.stopped.join(', ')}${result.killed.length ? ` (killed: ${result.killed.join(', ')})` : ''}.`,
          );
        await s.monitor.refresh();
        s.explorer.refresh();
      },
      s.log,
    ),
  ];
}
