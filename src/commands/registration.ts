// The registration wrapper and the services every command file uses; a leaf: it imports no command file.
import * as vscode from 'vscode';
import type { KafkaConnections } from '../services/connections';
import type { Log } from '../services/log';
import type { PipelineMonitor } from '../services/pipelineMonitor';
import type { PipelineTerminals } from '../services/terminals';
import { errorMessage } from '../shared/errors';
import type { FlinkView } from '../views/flinkView';
import type { KafkaExplorer } from '../views/kafkaExplorer';
import type { PeekDocuments } from '../views/peekDocuments';
import type { ResultsPanel } from '../views/resultsPanel';
import { Cancelled } from './prompts';

export const COMMAND_PREFIX = 'kafkaFlinkLab.';

/** What command handlers work with. */
export interface Services {
  context: vscode.ExtensionContext;
  log: Log;
  connections: KafkaConnections;
  terminals: PipelineTerminals;
  monitor: PipelineMonitor;
  explorer: KafkaExplorer;
  flink: FlinkView;
  peeks: PeekDocuments;
  results: ResultsPanel;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- command arguments come from menus, links and other extensions
export type CommandHandler = (...args: any[]) => unknown;

/**
 * Registers a command so that it can never fail silently or loudly: an error becomes one notification (with a
 * "Show Log" button) and a line in the log; a cancelled prompt ends quietly; nothing rejects to VS Code.
 */
export function registerCommandWithLogging(id: string, handler: CommandHandler, log: Log): vscode.Disposable {
  if (!id.startsWith(COMMAND_PREFIX)) throw new Error(`Command id "${id}" must start with "${COMMAND_PREFIX}".`);
  return vscode.commands.registerCommand(id, async (...args: unknown[]) => {
    try {
      return await handler(...args);
    } catch (error) {
      if (error instanceof Cancelled) return undefined;
      log.error(id, error);
      void vscode.window.showErrorMessage(errorMessage(error), 'Show Log').then((choice) => choice && log.show());
      return undefined;
    }
  });
}
