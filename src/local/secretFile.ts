// A SASL password handed to a child process as a 0600 file in a folder of its own: the process's environment names only the file.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { SASL_PASSWORD_FILE_ENV } from '../kafka/clusterSecurity';

export interface SecretFile {
  path: string;
  /** What the process gets in its environment: the file's name, never the password. */
  env: Record<string, string>;
  remove(): void;
}

/**
 * Writes the password for one process. A variable holding the password itself could be read back by others: VS
 * Code hands a terminal's TerminalOptions.env to every extension (Terminal.creationOptions). The folder is the
 * user's alone (mkdtemp makes it 0700), on the runtime tmpfs where there is one; the file is 0600, as the CLI
 * and the Python side require of PIPELINE_SASL_PASSWORD_FILE.
 */
export function writeSecretFile(password: string, base = process.env.XDG_RUNTIME_DIR || tmpdir()): SecretFile {
  const path = join(mkdtempSync(join(base, FOLDER_PREFIX)), FILE_NAME);
  writeFileSync(path, password, { mode: 0o600, flag: 'wx' });
  return secretFileAt(path)!;
}

const FOLDER_PREFIX = 'kafka-flink-lab-';
const FILE_NAME = 'sasl-password';

/**
 * The file writeSecretFile wrote at `path` (a terminal's environment names it after a window reload), so that it
 * can be removed; undefined for any other path, which is never removed.
 */
export function secretFileAt(path: string | undefined): SecretFile | undefined {
  if (!path || basename(path) !== FILE_NAME || !basename(dirname(path)).startsWith(FOLDER_PREFIX)) return undefined;
  return { path, env: { [SASL_PASSWORD_FILE_ENV]: path }, remove: () => rmSync(dirname(path), { recursive: true, force: true }) };
}
