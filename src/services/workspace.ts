import { isAbsolute, join } from 'node:path';
import * as vscode from 'vscode';
import { UserError } from '../shared/errors';
import { settings } from './settings';

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

/** The output folder setting as an absolute path (relative paths are inside the workspace folder). */
export function resolveOutputFolder(): string {
  const configured = settings.outputFolder.value.trim() || 'output';
  if (isAbsolute(configured)) return configured;
  return join(workspaceFolder() ?? process.cwd(), configured);
}
