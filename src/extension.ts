// The extension's entry: activate() builds the services, views and commands.
import * as vscode from 'vscode';
import { registerCommands } from './commands';
import { KafkaConnections } from './services/connections';
import { runDeactivateHooks } from './services/lifecycle';
import { Log } from './services/log';
import { PipelineMonitor } from './services/pipelineMonitor';
import { PipelineTerminals } from './services/terminals';
import { errorMessage } from './shared/errors';
import type { PipelineConfig } from './config/resolver';
import { extensionConfig, pipelineOutputFolder, settings } from './services/settings';
import { FlinkView } from './views/flinkView';
import { KafkaExplorer } from './views/kafkaExplorer';
import { PeekDocuments } from './views/peekDocuments';
import { PipelineView } from './views/pipelineView';
import { ResultsPanel } from './views/resultsPanel';
import { PipelineStatusBar } from './views/statusBar';

/**
 * What activate() returns to the extension-host tests (test/exthost), and to nobody else: the tree providers as VS Code
 * calls them, so a test walks the rows a user sees and a provider that throws fails it, and the settings as the
 * extension resolves them. Other extensions get no API (undefined outside ExtensionMode.Test).
 */
export interface ExtensionTestHooks {
  views: Record<'kafka' | 'pipeline' | 'flink', vscode.TreeDataProvider<unknown>>;
  config: () => PipelineConfig;
}

/** Builds the services, views and commands; every one of them is disposed with the extension. */
export function activate(context: vscode.ExtensionContext): ExtensionTestHooks | undefined {
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
    const pipeline = new PipelineView(monitor);
    context.subscriptions.push(connections, terminals, monitor, explorer, flink, peeks, pipeline, new PipelineStatusBar(monitor));

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
    if (context.extensionMode === vscode.ExtensionMode.Test)
      return { views: { kafka: explorer, pipeline, flink }, config: () => extensionConfig() };
    return undefined;
  } catch (error) {
    // VS Code does not tell the user when an extension fails to activate.
    log.error('Activation failed', error);
    void vscode.window.showErrorMessage(`Kafka Flink Lab failed to start: ${errorMessage(error)}`, 'Show Log').then((c) => c && log.show());
    throw error;
  }
}

/** Closing the window: what must not outlive it (the SQL statements and the jobs they started) is stopped first. */
export function deactivate(): Promise<void> {
  return runDeactivateHooks(4000);
}
