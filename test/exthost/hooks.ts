// Shared by the extension-host tests: the extension's test hooks, a tree walk as VS Code does it, ports and waiting.
import * as assert from 'node:assert/strict';
import { connect, createServer } from 'node:net';
import * as vscode from 'vscode';
import type { ExtensionTestHooks } from '../../src/extension';

export const EXTENSION_ID = 'kafka-flink-lab.kafka-flink-lab';

export function extension(): vscode.Extension<ExtensionTestHooks | undefined> {
  const found = vscode.extensions.getExtension<ExtensionTestHooks | undefined>(EXTENSION_ID);
  assert.ok(found, `extension ${EXTENSION_ID} is not installed in this VS Code`);
  return found;
}

/** What activate() returned: it returns its hooks only in ExtensionMode.Test, which both test runners give it. */
export async function testHooks(): Promise<ExtensionTestHooks> {
  const hooks = await extension().activate();
  assert.ok(hooks, 'activate() returned no test hooks: is the extension not running in ExtensionMode.Test?');
  return hooks;
}

/** One row as VS Code draws it: the provider's element and its TreeItem. */
export interface Row {
  element: unknown;
  item: vscode.TreeItem;
}

/** The rows below `parent` (the root when undefined), asked the way VS Code asks: getChildren, then getTreeItem of each. */
export async function rowsOf(provider: vscode.TreeDataProvider<unknown>, parent?: unknown): Promise<Row[]> {
  const elements = (await provider.getChildren(parent)) ?? [];
  return Promise.all(elements.map(async (element) => ({ element, item: await provider.getTreeItem(element) })));
}

export function labelOf(item: vscode.TreeItem): string {
  return typeof item.label === 'string' ? item.label : (item.label?.label ?? '');
}

/** `label — description` of each row, for assertion messages. */
export function describeRows(rows: Row[]): string {
  return rows.map((r) => `${labelOf(r.item)}${r.item.description ? ` — ${String(r.item.description)}` : ''}`).join(' | ') || '(no rows)';
}

/** Polls `probe` until it returns a value other than undefined; fails with `message()` after `timeoutMs`. */
export async function until<T>(probe: () => Promise<T | undefined>, timeoutMs: number, message: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${message()} (after ${timeoutMs / 1000} s)`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Whether anything accepts a TCP connection on 127.0.0.1:port: what the views should agree with. */
export function answers(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    socket.setTimeout(2000);
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => (socket.destroy(), resolve(false)));
  });
}

/** A port on 127.0.0.1 that nothing listens on (taken from the OS and released). */
export function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Sets (or with undefined, removes) a kafkaFlinkLab setting in the workspace's settings, as the settings editor does. */
export async function setWorkspaceSetting(key: string, value: unknown): Promise<void> {
  await vscode.workspace.getConfiguration('kafkaFlinkLab').update(key, value, vscode.ConfigurationTarget.Workspace);
}
