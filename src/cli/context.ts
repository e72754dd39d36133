import type { ParseArgsConfig } from 'node:util';
import { UserError } from '../core/errors';
import type { Progress } from '../core/install';
import { validateBootstrapServers } from '../core/validation';
import { resolveBootstrapServers } from '../core/workspaceSettings';

/** One command of the `pipeline` CLI: its usage line, its flags, and what it does. */
export interface CliCommand {
  usage: string;
  summary: string;
  options: NonNullable<ParseArgsConfig['options']>;
  positionals?: number;
  run(ctx: CliContext): Promise<number>;
}

export interface CliContext {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
  workspace: string;
  progress: Progress;
  print: (line: string) => void;
  signal: AbortSignal;
}

export const workspaceOption = { workspace: { type: 'string' as const, short: 'w' } };
export const bootstrapOption = { 'bootstrap-servers': { type: 'string' as const, short: 'b' } };

export function bootstrapOf(ctx: CliContext): string {
  const value = resolveBootstrapServers(ctx.workspace, ctx.values['bootstrap-servers'] as string | undefined);
  const invalid = validateBootstrapServers(value);
  if (invalid) throw new UserError(invalid);
  return value;
}

export function numberFlag(ctx: CliContext, name: string, fallback?: number): number | undefined {
  const raw = ctx.values[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || String(raw).trim() === '') throw new UserError(`--${name} must be a number (got ${String(raw)}).`);
  return n;
}

