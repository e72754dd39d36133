// The open workspace folder: where the local stack and the pipeline keep their state.
import * as vscode from 'vscode';
import { UserError } from '../shared/errors';

export function workspaceFolder(): string | undefined {
  return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
}

/** The folder the local stack and the pipeline work in (`.pipeline/`, `output/`). */
export function requireWorkspace(): string {
  const folder = workspaceFolder();
  if (!folder)
    throw new UserError('Open a folder first: the local stack keeps its data in <folder>/.pipeline and the job writes to <folder>/output.');
  return folder;
}
