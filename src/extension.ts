// The extension's entry: activate() builds the services, views and commands.
import * as vscode from 'vscode';
import { registerCommands } from './commands';
import { KafkaConnections } from './services/connections';
import { Log } from './services/log';
import { PipelineMonitor } from './services/pipelineMonitor';
import { PipelineTerminals } from './services/terminals';
import { errorMessage } from './shared/errors';
import { pipelineOutputFolder, settings } from './services/settings';
import { FlinkView } from './views/flinkView';
import { KafkaExplorer } from './views/kafkaExplorer';
import { PeekDocuments } from './views/peekDocuments';
import { PipelineView } from './views/pipelineView';
import { ResultsPanel } from './views/resultsPanel';
import { PipelineStatusBar } from './views/statusBar';

/** Builds the services, views and commands; every one of them is disposed with the extension. */
export function activate(context: vscode.ExtensionContext): void {
  const log = new Log();
  context.subscriptions.push(log);
  try {
    const connections = new KafkaConnections(context.secrets, log);
    const cliPath = vscode.Uri.joinPath(context.extensionUri, 'dist', 'cli.js').fsPath;
    // The cluster reaches each process as its --bootstrap-servers flag (services/cliArgs.ts), never as a variable.
    const terminals = new PipelineTerminals(cliPath, log);
    const monitor = new PipelineMonitor(connections, terminals, log);
    const explorer = new KafkaExplorer(connections, monitor, log);
    const peeks = new PeekDocuments();
    const flink = new FlinkView(terminals, monitor, log);
    context.subscriptions.push(
      connections,
      terminals,
      monitor,
      explorer,
      flink,
      peeks,
      new PipelineView(monitor),
      new PipelineStatusBar(monitor),
    );

    const results = new ResultsPanel(context.extensionUri, {
      outputFolder: pipelineOutputFolder,
      cacheDir: (context.storageUri ?? context.globalStorageUri).fsPath,
      memento: context.workspaceState,
      indexInBackground: () => settings.resultsIndexInBackground.value,
      log: (line) => log.info(line),
    });
    context.subscriptions.push(
      registerCommands({ context, log, connections, terminals, monitor, explorer, flink, peeks, results }),
      results,
    );
    results.start();

    void monitor.refresh();
    log.info(`Kafka Flink Lab ${context.extension.packageJSON.version} activated.`);
  } catch (error) {
    // VS Code does not tell the user when an extension fails to activate.
    log.error('Activation failed', error);
    void vscode.window.showErrorMessage(`Kafka Flink Lab failed to start: ${errorMessage(error)}`, 'Show Log').then((c) => c && log.show());
    throw error;
  }
}

export function deactivate(): void {}
