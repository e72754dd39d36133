// The pipeline's integrated terminals (broker, generator, job): started with the CLI, tracked by name and pid, cleaned up on close.
import * as vscode from 'vscode';
import { isAlive, killGroup, pollUntil } from '../local/proc';
import type { ProcessPhase } from '../pipeline/statusModel';
import { Disposable } from './lifecycle';
import type { Log } from './log';

export type TerminalRole = 'broker' | 'generator' | 'job';

/** One terminal per part of the pipeline, found again by these names after a window reload. */
export const TERMINAL_NAMES: Record<TerminalRole, string> = {
  broker: 'Kafka broker',
  generator: 'Sensor generator',
  job: 'Flink job',
};

/** How terminals are created: replaceable so tests can watch what would be started. */
export type TerminalFactory = (options: vscode.TerminalOptions) => vscode.Terminal;

interface Tracked {
  terminal: vscode.Terminal;
  pid?: number;
  stopping: boolean;
  /** Set when the terminal closed or its process exited. */
  exitCode?: number;
}

/** Exit codes of an interrupted process (Ctrl-C): 130 from our CLI, 2 from some shells, or a SIGINT/SIGTERM. */
const INTERRUPTED = new Set([0, 130, 143, 2]);

/**
 * Runs the `pipeline` CLI in named integrated terminals — Node runs `dist/cli.js` with an argv, no shell — and
 * tracks each one's process so that the Pipeline view can show running/stopped/failed and stop it: Ctrl-C
 * first, then SIGKILL of its process group after a grace period.
 */
export class PipelineTerminals extends Disposable {
  private readonly tracked = new Map<TerminalRole, Tracked>();
  private readonly _onDidChange = this._register(new vscode.EventEmitter<TerminalRole>());
  readonly onDidChange = this._onDidChange.event;

  constructor(
    private readonly cliPath: string,
    private readonly log: Log,
    private readonly createTerminal: TerminalFactory = (options) => vscode.window.createTerminal(options),
  ) {
    super();
    // Terminals survive a window reload: adopt ours.
    for (const terminal of vscode.window.terminals) {
      const role = this.roleOf(terminal);
      if (role) this.adopt(role, terminal);
    }
    this._register(
      vscode.window.onDidCloseTerminal((terminal) => {
        for (const [role, t] of this.tracked) {
          if (t.terminal === terminal) {
            t.exitCode = terminal.exitStatus?.code ?? t.exitCode ?? 0;
            this.log.info(
              `Terminal "${TERMINAL_NAMES[role]}" closed${terminal.exitStatus?.code !== undefined ? ` (exit code ${terminal.exitStatus.code})` : ''}.`,
            );
            this._onDidChange.fire(role);
          }
        }
      }),
    );
  }

  private roleOf(terminal: vscode.Terminal): TerminalRole | undefined {
    return (Object.keys(TERMINAL_NAMES) as TerminalRole[]).find((r) => TERMINAL_NAMES[r] === terminal.name);
  }

  private adopt(role: TerminalRole, terminal: vscode.Terminal): Tracked {
    const tracked: Tracked = { terminal, stopping: false };
    this.tracked.set(role, tracked);
    void Promise.resolve(terminal.processId).then((pid) => {
      tracked.pid = pid;
      this._onDidChange.fire(role);
    });
    return tracked;
  }

  /** Whether the terminal's process (the CLI) still runs. */
  isRunning(role: TerminalRole): boolean {
    const t = this.tracked.get(role);
    if (!t || t.exitCode !== undefined || t.terminal.exitStatus !== undefined) return false;
    return t.pid === undefined ? true : isAlive(t.pid);
  }

  phase(role: TerminalRole): ProcessPhase {
    const t = this.tracked.get(role);
    if (!t) return 'stopped';
    if (this.isRunning(role)) return t.stopping ? 'stopping' : 'running';
    const code = t.exitCode ?? t.terminal.exitStatus?.code;
    return code !== undefined && !INTERRUPTED.has(code) && !t.stopping ? 'failed' : 'stopped';
  }

  /** Starts `pipeline <args>` in the role's terminal, unless it already runs there. */
  /** `extraEnv` holds what must not go on a command line (a SASL password for the CLI). */
  async start(
    role: TerminalRole,
    args: string[],
    options: { show?: boolean; extraEnv?: Record<string, string> } = {},
  ): Promise<'started' | 'already-running'> {
    const existing = this.tracked.get(role);
    if (existing && this.isRunning(role)) {
      if (options.show !== false) existing.terminal.show(true);
      return 'already-running';
    }
    existing?.terminal.dispose();
    const terminal = this.createTerminal({
      name: TERMINAL_NAMES[role],
      shellPath: process.execPath,
      shellArgs: [this.cliPath, ...args],
      env: { ...options.extraEnv, ELECTRON_RUN_AS_NODE: '1' },
      iconPath: new vscode.ThemeIcon(role === 'broker' ? 'database' : role === 'generator' ? 'pulse' : 'zap'),
      isTransient: true,
    });
    const tracked = this.adopt(role, terminal);
    tracked.pid = await Promise.race([
      Promise.resolve(terminal.processId),
      new Promise<undefined>((r) => setTimeout(() => r(undefined), 5000)),
    ]);
    if (options.show !== false) terminal.show(true);
    this.log.info(`Started in terminal "${TERMINAL_NAMES[role]}" (pid ${tracked.pid ?? '?'}): pipeline ${args.join(' ')}`);
    this._onDidChange.fire(role);
    return 'started';
  }

  /**
   * Ctrl-C, then after `graceMs` SIGKILL to the terminal's process group. `beforeKill` runs first: the CLI starts
   * Python in a process group of its own, which a kill of the terminal's group would miss.
   */
  async stop(role: TerminalRole, graceMs: number, beforeKill?: () => Promise<unknown>): Promise<'not-running' | 'interrupted' | 'killed'> {
    const t = this.tracked.get(role);
    if (!t || !this.isRunning(role)) return 'not-running';
    t.stopping = true;
    this._onDidChange.fire(role);
    try {
      t.terminal.sendText('\u0003', false);
      const gone = await pollUntil(async () => (this.isRunning(role) ? undefined : true), graceMs, 200);
      if (gone) {
        this.log.info(`"${TERMINAL_NAMES[role]}" stopped after Ctrl-C.`);
        return 'interrupted';
      }
      this.log.warn(`"${TERMINAL_NAMES[role]}" did not stop within ${graceMs / 1000} s of Ctrl-C: killing it.`);
      await beforeKill?.().catch((error) => this.log.error(`Stopping "${TERMINAL_NAMES[role]}"`, error));
      killGroup(t.pid, 'SIGKILL');
      await pollUntil(async () => (this.isRunning(role) ? undefined : true), 3000, 100);
      t.exitCode ??= 137;
      return 'killed';
    } finally {
      this._onDidChange.fire(role);
    }
  }

  show(role: TerminalRole): boolean {
    const t = this.tracked.get(role);
    t?.terminal.show(true);
    return t !== undefined;
  }

  override dispose(): void {
    // The terminals stay for the user (they show what happened); VS Code ends their processes with the window.
    this.tracked.clear();
    super.dispose();
  }
}
