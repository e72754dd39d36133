// The pipeline's integrated terminals (broker, generator, job): started with the CLI, tracked by name and pid, cleaned up on close.
import * as vscode from 'vscode';
import { identityOf, isAlive, isSameProcess, pollUntil, signalGroupOf, type ProcessIdentity } from '../local/proc';
import { secretFileAt, writeSecretFile, type SecretFile } from '../local/secretFile';
import { SASL_PASSWORD_FILE_ENV } from '../kafka/clusterSecurity';
import type { ProcessPhase } from '../pipeline/statusModel';
import { Disposable } from './lifecycle';
import type { Log } from './log';

export type TerminalRole = 'broker' | 'generator' | 'job' | 'cluster';

/** One terminal per part of the pipeline, found again by these names after a window reload. */
export const TERMINAL_NAMES: Record<TerminalRole, string> = {
  broker: 'Kafka broker',
  generator: 'Sensor generator',
  job: 'Flink job',
  cluster: 'Flink cluster',
};

const TERMINAL_ICONS: Record<TerminalRole, string> = { broker: 'database', generator: 'pulse', job: 'zap', cluster: 'server-environment' };

/** How terminals are created: replaceable so tests can watch what would be started. */
export type TerminalFactory = (options: vscode.TerminalOptions) => vscode.Terminal;

interface Tracked {
  terminal: vscode.Terminal;
  pid?: number;
  /** The terminal's process by pid and start time: what is checked before it is signalled. */
  id?: ProcessIdentity;
  /** The SASL password's file of the process in this terminal, removed when the terminal closes. */
  secret?: SecretFile;
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
      // Its password file (named in its environment) goes when it closes, as if this window had started it.
      const env = 'env' in terminal.creationOptions ? terminal.creationOptions.env : undefined;
      if (role) this.adopt(role, terminal, secretFileAt(env?.[SASL_PASSWORD_FILE_ENV] ?? undefined));
    }
    this._register(
      vscode.window.onDidCloseTerminal((terminal) => {
        for (const [role, t] of this.tracked) {
          if (t.terminal === terminal) {
            t.secret?.remove();
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

  private adopt(role: TerminalRole, terminal: vscode.Terminal, secret?: SecretFile): Tracked {
    const tracked: Tracked = { terminal, stopping: false, secret };
    this.tracked.set(role, tracked);
    void Promise.resolve(terminal.processId).then((pid) => {
      identify(tracked, pid);
      this._onDidChange.fire(role);
    });
    return tracked;
  }

  /** Whether the terminal's process (the CLI) still runs. */
  isRunning(role: TerminalRole): boolean {
    const t = this.tracked.get(role);
    if (!t || t.exitCode !== undefined || t.terminal.exitStatus !== undefined) return false;
    if (t.id) return isSameProcess(t.id);
    return t.pid === undefined ? true : isAlive(t.pid);
  }

  phase(role: TerminalRole): ProcessPhase {
    const t = this.tracked.get(role);
    if (!t) return 'stopped';
    if (this.isRunning(role)) return t.stopping ? 'stopping' : 'running';
    const code = t.exitCode ?? t.terminal.exitStatus?.code;
    return code !== undefined && !INTERRUPTED.has(code) && !t.stopping ? 'failed' : 'stopped';
  }

  /**
   * Starts `pipeline <args>` in the role's terminal, unless it already runs there. A SASL password (never on a
   * command line) reaches the CLI as a 0600 file that the terminal's environment names (local/secretFile.ts).
   */
  async start(
    role: TerminalRole,
    args: string[],
    options: { show?: boolean; password?: string } = {},
  ): Promise<'started' | 'already-running'> {
    const existing = this.tracked.get(role);
    if (existing && this.isRunning(role)) {
      if (options.show !== false) existing.terminal.show(true);
      return 'already-running';
    }
    existing?.terminal.dispose();
    existing?.secret?.remove();
    const { terminal, secret } = this.cliTerminal(TERMINAL_NAMES[role], TERMINAL_ICONS[role], args, options.password);
    const tracked = this.adopt(role, terminal, secret);
    identify(
      tracked,
      await Promise.race([Promise.resolve(terminal.processId), new Promise<undefined>((r) => setTimeout(() => r(undefined), 5000))]),
    );
    if (options.show !== false) terminal.show(true);
    this.log.info(`Started in terminal "${TERMINAL_NAMES[role]}" (pid ${tracked.pid ?? '?'}): pipeline ${args.join(' ')}`);
    this._onDidChange.fire(role);
    return 'started';
  }

  /** A terminal that runs `pipeline <args>` (Node, no shell); a password goes to it as a 0600 file its environment names. */
  private cliTerminal(name: string, icon: string, args: string[], password?: string): { terminal: vscode.Terminal; secret?: SecretFile } {
    const secret = password ? writeSecretFile(password) : undefined;
    const terminal = this.createTerminal({
      name,
      shellPath: process.execPath,
      shellArgs: [this.cliPath, ...args],
      env: { ...secret?.env, ELECTRON_RUN_AS_NODE: '1' },
      iconPath: new vscode.ThemeIcon(icon),
      isTransient: true,
    });
    return { terminal, secret };
  }

  /**
   * A terminal of its own, not one of the pipeline's parts (a member of a consumer group): `pipeline <args>` with the
   * same argv and password handling; its password file goes when the terminal closes.
   */
  startNamed(name: string, icon: string, args: string[], options: { password?: string } = {}): vscode.Terminal {
    const { terminal, secret } = this.cliTerminal(name, icon, args, options.password);
    if (secret) {
      const closed = vscode.window.onDidCloseTerminal((t) => {
        if (t !== terminal) return;
        secret.remove();
        closed.dispose();
      });
      this._register(closed);
    }
    terminal.show(true);
    this.log.info(`Started in terminal "${name}": pipeline ${args.join(' ')}`);
    return terminal;
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
      // Only the very process the terminal started (pid and start time); without its identity VS Code ends it.
      if (!t.id || !signalGroupOf(t.id, 'SIGKILL')) t.terminal.dispose();
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
    // A process that still runs keeps its password file (the job reads it again when it submits anew); the next
    // window adopts the terminal and removes the file when it closes.
    for (const role of this.tracked.keys()) if (!this.isRunning(role)) this.tracked.get(role)?.secret?.remove();
    this.tracked.clear();
    super.dispose();
  }
}

/** Notes the terminal's process, by pid and start time, once VS Code reports its pid. */
function identify(tracked: Tracked, pid: number | undefined): void {
  if (pid === undefined || tracked.pid === pid) return;
  tracked.pid = pid;
  tracked.id = identityOf(pid);
}
