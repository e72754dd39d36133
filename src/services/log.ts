// The extension's log: the "Kafka Flink Lab" output channel with info, warn and error lines.
import * as vscode from 'vscode';
import { errorMessage, UserError } from '../shared/errors';

/** The extension's log output channel ("Kafka Flink Lab" in the Output panel). */
export class Log implements vscode.Disposable {
  readonly channel: vscode.LogOutputChannel;

  constructor(name = 'Kafka Flink Lab') {
    this.channel = vscode.window.createOutputChannel(name, { log: true });
  }

  info(line: string): void {
    this.channel.info(line);
  }

  warn(line: string): void {
    this.channel.warn(line);
  }

  /** One line with the message, then the details (process output, stack) for whoever debugs it. */
  error(context: string, error: unknown): void {
    this.channel.error(`${context}: ${errorMessage(error)}`);
    if (error instanceof UserError && error.details) this.channel.error(error.details);
    else if (!(error instanceof UserError) && error instanceof Error && error.stack) this.channel.error(error.stack);
  }

  show(): void {
    this.channel.show(true);
  }

  dispose(): void {
    this.channel.dispose();
  }
}
