#!/usr/bin/env node
// The `pipeline` command line's entry: parses argv, finds the command in the table of every *Cli.ts, runs it, maps errors to exit codes.
import { parseArgs } from 'node:util';
import { type CliCommand, type CliContext } from './cli/context';
import { consumeCli } from './cli/consumeCli';
import { flinkCli } from './cli/flinkCli';
import { messagesCli } from './cli/messagesCli';
import { processCli } from './cli/processCli';
import { resultsCli } from './cli/resultsCli';
import { setupCli } from './cli/setupCli';
import { sqlCli } from './cli/sqlCli';
import { stackCli } from './cli/stackCli';
import { errorMessage, UserError } from './shared/errors';

export const commands: Record<string, CliCommand> = {
  ...setupCli,
  ...stackCli,
  ...flinkCli,
  ...processCli,
  ...resultsCli,
  ...sqlCli,
  ...consumeCli,
  ...messagesCli,
};

function help(): string {
  const lines = ['pipeline — a local Kafka → Flink (PyFlink) pipeline', '', 'Commands:'];
  for (const command of Object.values(commands)) lines.push(`  ${command.usage}`, `      ${command.summary}`);
  lines.push('', 'Every command accepts --workspace DIR (default: the current folder) and --help.');
  return lines.join('\n');
}

function findCommand(argv: string[]): { key: string; rest: string[] } | undefined {
  for (const words of [2, 1]) {
    const key = argv.slice(0, words).join(' ');
    if (commands[key]) return { key, rest: argv.slice(words) };
  }
  return undefined;
}

export async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    console.log(help());
    return argv.length === 0 ? 2 : 0;
  }
  const found = findCommand(argv);
  if (!found) {
    console.error(`pipeline: unknown command "${argv.slice(0, 2).join(' ')}". Run \`pipeline --help\` for the list.`);
    return 2;
  }
  const command = commands[found.key];
  if (found.rest.includes('--help') || found.rest.includes('-h')) {
    console.log(`${command.usage}\n  ${command.summary}`);
    return 0;
  }
  let parsed;
  try {
    parsed = parseArgs({ args: found.rest, options: command.options, allowPositionals: true, strict: true });
  } catch (error) {
    console.error(`pipeline ${found.key}: ${errorMessage(error)}. Usage: ${command.usage}`);
    return 2;
  }
  if (parsed.positionals.length > (command.positionals ?? 0)) {
    console.error(`pipeline ${found.key}: unexpected argument "${parsed.positionals[command.positionals ?? 0]}". Usage: ${command.usage}`);
    return 2;
  }
  const controller = new AbortController();
  let interrupted = 0;
  const onSignal = () => {
    interrupted++;
    if (interrupted > 1) process.exit(130);
    console.error('\nStopping (press Ctrl-C again to quit at once)…');
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const ctx: CliContext = {
    values: parsed.values as CliContext['values'],
    positionals: parsed.positionals,
    workspace: (parsed.values.workspace as string | undefined) ?? process.cwd(),
    progress: (message) => console.error(message),
    print: (line) => console.log(line),
    signal: controller.signal,
  };
  try {
    return await command.run(ctx);
  } catch (error) {
    if (error instanceof UserError) {
      console.error(`pipeline ${found.key}: ${error.message}`);
      if (error.details && process.env.PIPELINE_DEBUG) console.error(error.details);
      return 1;
    }
    console.error(`pipeline ${found.key}: unexpected error: ${errorMessage(error)}`);
    if (error instanceof Error && error.stack) console.error(error.stack);
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error) => {
      console.error(errorMessage(error));
      process.exit(1);
    },
  );
}
