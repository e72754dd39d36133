// The extension host's side of the window guard (src/windowGuard.ts): forked on first need, told what to stop, told goodbye.
import { fork, type ChildProcess } from 'node:child_process';
import { guardHasWork, type GuardState } from '../flink/windowGuardState';
import type { Log } from './log';

export class WindowGuard {
  private child: ChildProcess | undefined;
  private sent = '';

  constructor(
    private readonly script: string,
    private readonly log: Log,
  ) {}

  /** The window's statements now: sent when it changed; the process is started only once there is something to stop. */
  update(state: GuardState): void {
    const text = JSON.stringify(state);
    if (text === this.sent || (!this.child && !guardHasWork(state))) return;
    const child = this.start();
    if (!child?.connected) return;
    child.send({ kind: 'state', state }, (error) => {
      if (error) this.log.info(`Window guard: the state could not be sent (${error.message}).`);
    });
    this.sent = text;
  }

  /** The host stopped its statements itself: the guard ends without doing anything. */
  release(): void {
    const child = this.child;
    this.child = undefined;
    this.sent = '';
    if (!child?.connected) return;
    child.send({ kind: 'bye' }, () => {
      if (child.connected) child.disconnect();
    });
  }

  private start(): ChildProcess | undefined {
    if (this.child?.connected) return this.child;
    try {
      // Its own process group: a signal to the host's group (a closed terminal, a killed host) is not its end;
      // the closed IPC channel is. ELECTRON_RUN_AS_NODE: in desktop VS Code, execPath is the Electron binary.
      const child = fork(this.script, [], {
        detached: true,
        stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
        execArgv: [],
        env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
      });
      child.on('error', (error) => this.log.info(`Window guard: ${error.message}`));
      child.on('exit', () => {
        if (this.child === child) this.child = undefined;
        this.sent = '';
      });
      child.unref();
      (child.channel as { unref?: () => void } | undefined)?.unref?.();
      this.child = child;
      this.log.info(`Window guard started (pid ${child.pid}): it stops this window's Flink SQL statements if the window ends first.`);
      return child;
    } catch (error) {
      this.log.info(`Window guard: not started (${(error as Error).message}).`);
      return undefined;
    }
  }
}
