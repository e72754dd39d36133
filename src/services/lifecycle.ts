// The one lifetime helper: a Disposable base that owns what it registers, timers as disposables, runs that join one in flight.
import type * as vscode from 'vscode';

export function disposeAll(disposables: vscode.Disposable[]): void {
  while (disposables.length) {
    try {
      disposables.pop()?.dispose();
    } catch {
      /* one failing dispose must not keep the others alive */
    }
  }
}

/** Owns what it registers: every subscription, timer, terminal and child of a service goes through `_register`. */
export abstract class Disposable implements vscode.Disposable {
  private _isDisposed = false;
  private readonly _disposables: vscode.Disposable[] = [];

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  dispose(): void {
    if (this._isDisposed) return;
    this._isDisposed = true;
    disposeAll(this._disposables);
  }

  protected _register<T extends vscode.Disposable>(value: T): T {
    if (this._isDisposed) value.dispose();
    else this._disposables.push(value);
    return value;
  }
}

/** A timer as a disposable. */
export function intervalDisposable(fn: () => void, ms: number): vscode.Disposable {
  const timer = setInterval(fn, ms);
  return { dispose: () => clearInterval(timer) };
}

/** Work that must finish before the extension host ends (deactivate waits for it, a bounded time). */
const lastWords = new Set<() => Promise<void>>();

export function onDeactivate(work: () => Promise<void>): vscode.Disposable {
  lastWords.add(work);
  return { dispose: () => lastWords.delete(work) };
}

/** Runs every deactivate hook side by side and waits for them, at most `timeoutMs`. */
export async function runDeactivateHooks(timeoutMs: number): Promise<void> {
  const all = Promise.allSettled([...lastWords].map((work) => work()));
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([all, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
  clearTimeout(timer);
}

export { joiningRuns } from '../shared/runs';
