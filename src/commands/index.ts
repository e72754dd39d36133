// The list of command files: the one module that imports them all.
import type * as vscode from 'vscode';
import { disposeAll } from '../services/lifecycle';
import { flinkCommands } from './flinkCommands';
import { generalCommands } from './generalCommands';
import { groupCommands } from './groupCommands';
import { messageCommands } from './messageCommands';
import { pipelineCommands } from './pipelineCommands';
import type { Services } from './registration';
import { resultsCommands } from './resultsCommands';
import { sqlCommands } from './sqlCommands';
import { stackCommands } from './stackCommands';
import { topicCommands } from './topicCommands';

export function registerCommands(services: Services): vscode.Disposable {
  const disposables = [
    stackCommands,
    topicCommands,
    messageCommands,
    groupCommands,
    pipelineCommands,
    flinkCommands,
    generalCommands,
    resultsCommands,
    sqlCommands,
  ].flatMap((register) => register(services));
  return { dispose: () => disposeAll(disposables) };
}
