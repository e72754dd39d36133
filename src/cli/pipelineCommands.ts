import type { CliCommand } from './context';

/** generate, job, run, verify, query, bench: filled in as the pipeline lands. */
export const pipelineCommands: Record<string, CliCommand> = {};
