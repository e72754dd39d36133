// The CLI's command shape, its shared flags, and the configuration and cluster a command works with.
import { readFileSync, statSync } from 'node:fs';
import type { ParseArgsConfig } from 'node:util';
import {
  parseMechanism,
  plaintextSaslProblem,
  plaintextSaslWarning,
  SASL_MECHANISMS,
  SASL_PASSWORD_ENV,
  SASL_PASSWORD_FILE_ENV,
  usesSasl,
  type ClusterConfig,
} from '../kafka/clusterSecurity';
import { tlsOptions } from '../kafka/tlsTrust';
import { UserError } from '../shared/errors';
import type { Progress } from '../local/install';
import type { ConnectionOptions } from '../kafka/kafkaClient';
import { PipelineConfig } from '../config/resolver';
import { WorkspaceFileSettings } from '../config/workspaceSettings';

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

export const securityOption = {
  'sasl-mechanism': { type: 'string' as const },
  'sasl-username': { type: 'string' as const },
  tls: { type: 'boolean' as const },
  'tls-ca-file': { type: 'string' as const },
  'allow-plaintext-sasl': { type: 'boolean' as const },
};

/** A cluster the command talks to, with what its Python process needs to reach it. */
export interface CliCluster extends ClusterConfig {
  /** For kafkajs in the CLI itself. */
  connection: Pick<ConnectionOptions, 'ssl' | 'sasl'>;
  /** For the generator or the job: the password's variable (or the file's), nothing else. */
  childEnv: Record<string, string>;
}

/** The password of a 0600 file owned by the user (a file others can read is refused, as ssh does with keys). */
function readPasswordFile(file: string): string {
  let mode: number;
  let uid: number;
  try {
    ({ mode, uid } = statSync(file));
  } catch {
    throw new UserError(`${SASL_PASSWORD_FILE_ENV} names ${file}, which cannot be read.`);
  }
  if ((mode & 0o077) !== 0 || (process.getuid && uid !== process.getuid())) {
    throw new UserError(
      `The SASL password file ${file} can be read by others (mode ${(mode & 0o777).toString(8)}): make it yours only (chmod 600 ${file}).`,
    );
  }
  return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
}

/** The command's configuration: its flags, the environment, `<workspace>/.vscode/settings.json`, the defaults. */
export function configOf(ctx: CliContext, env: NodeJS.ProcessEnv = process.env): PipelineConfig {
  return new PipelineConfig({ settings: new WorkspaceFileSettings(ctx.workspace), workspace: ctx.workspace, flags: ctx.values, env });
}

/**
 * The command's cluster and how to reach it: --sasl-mechanism, --sasl-username, --tls, --tls-ca-file (or
 * PIPELINE_TLS_CA_FILE; a CA file turns TLS on), --allow-plaintext-sasl, and the password from PIPELINE_SASL_PASSWORD
 * or a 0600 file named by PIPELINE_SASL_PASSWORD_FILE. The password goes only to bootstrap servers named on the
 * command line or in PIPELINE_BOOTSTRAP_SERVERS, never to ones a workspace's .vscode/settings.json names or the
 * default; and the CA that decides who those servers are comes, like all of the CLI's TLS and SASL, from a flag or
 * the environment only (workspaceSettings.ts does not read it from the file).
 */
export function clusterOf(ctx: CliContext, env: NodeJS.ProcessEnv = process.env): CliCluster {
  const config = configOf(ctx, env);
  const bootstrap = config.bootstrapServers();
  const bootstrapServers = bootstrap.value;
  const resolved = config.security();
  const mechanism = parseMechanism(resolved.mechanism.value);
  if (!mechanism) throw new UserError(`--sasl-mechanism must be one of ${SASL_MECHANISMS.join(', ')} (got ${resolved.mechanism.value}).`);
  const caFile = resolved.caFile.value || undefined;
  const security = {
    mechanism,
    username: resolved.username.value,
    tls: resolved.tls.value || caFile !== undefined,
    caFile,
    allowPlaintextSasl: resolved.allowPlaintextSasl.value,
  };
  const cluster: ClusterConfig = { bootstrapServers, security };
  const ssl = tlsOptions(security.tls, caFile);
  if (!usesSasl(security)) return { ...cluster, connection: { ssl }, childEnv: {} };
  if (!security.username) throw new UserError('--sasl-mechanism needs --sasl-username.');
  const problem = plaintextSaslProblem(cluster, '--allow-plaintext-sasl');
  if (problem) throw new UserError(problem);
  if (bootstrap.origin !== 'flag' && bootstrap.origin !== 'environment') {
    throw new UserError(
      `A SASL password goes only to bootstrap servers named with --bootstrap-servers or PIPELINE_BOOTSTRAP_SERVERS; ${bootstrapServers} comes from ${bootstrap.label}.`,
    );
  }
  const file = env[SASL_PASSWORD_FILE_ENV];
  const password = file ? readPasswordFile(file) : env[SASL_PASSWORD_ENV];
  if (!password)
    throw new UserError(
      `SASL needs the password in ${SASL_PASSWORD_ENV}, or in a file readable only by you named by ${SASL_PASSWORD_FILE_ENV}; never on the command line.`,
    );
  const warning = plaintextSaslWarning(cluster);
  if (warning) ctx.progress(`warning: ${warning}`);
  return {
    ...cluster,
    connection: { ssl, sasl: { mechanism: security.mechanism, username: security.username, password } },
    childEnv: file ? { [SASL_PASSWORD_FILE_ENV]: file } : { [SASL_PASSWORD_ENV]: password },
  };
}

export function numberFlag(ctx: CliContext, name: string, fallback?: number): number | undefined {
  const raw = ctx.values[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || String(raw).trim() === '') throw new UserError(`--${name} must be a number (got ${String(raw)}).`);
  return n;
}

/** A number flag checked by `check` (its message is the error); undefined when the flag is not given. */
export function checkedNumber(ctx: CliContext, name: string, check: (v: number) => string | undefined): number | undefined {
  const value = numberFlag(ctx, name);
  if (value === undefined) return undefined;
  const invalid = check(value);
  if (invalid) throw new UserError(invalid);
  return value;
}
