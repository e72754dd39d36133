// The Java and Python the local stack runs on: found, version-checked, with a message that says what to install.
import { join } from 'node:path';
import { UserError } from '../shared/errors';
import { runCommand } from './proc';
import { JAVA_MIN_MAJOR, PYTHON_MAX, PYTHON_MIN } from './versions';

/** The java binary: PIPELINE_JAVA, then JAVA_HOME/bin/java, then `java` on PATH. */
export function javaBinary(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PIPELINE_JAVA) return env.PIPELINE_JAVA;
  if (env.JAVA_HOME) return join(env.JAVA_HOME, 'bin', 'java');
  return 'java';
}

export function parseJavaMajor(versionOutput: string): number | undefined {
  const match = /version "(\d+)(?:\.(\d+))?/.exec(versionOutput);
  if (!match) return undefined;
  const first = Number(match[1]);
  return first === 1 && match[2] ? Number(match[2]) : first;
}

export async function checkJava(env: NodeJS.ProcessEnv = process.env): Promise<{ binary: string; major: number }> {
  const binary = javaBinary(env);
  const result = await runCommand(binary, ['-version'], { timeoutMs: 20_000, env });
  if (result.code === 127 || (result.code !== 0 && !result.stderr.includes('version'))) {
    throw new UserError(
      `Java was not found (tried "${binary}"): install OpenJDK ${JAVA_MIN_MAJOR} or newer (e.g. apt-get install openjdk-17-jdk-headless) or set JAVA_HOME.`,
      result.stderr,
    );
  }
  const major = parseJavaMajor(result.stderr + result.stdout);
  if (major === undefined || major < JAVA_MIN_MAJOR) {
    throw new UserError(
      `Java ${major ?? 'of unknown version'} at "${binary}" is too old: Kafka 4 and Flink 2 need Java ${JAVA_MIN_MAJOR} or newer; install it or point JAVA_HOME at it.`,
    );
  }
  return { binary, major };
}

export function pythonBinary(env: NodeJS.ProcessEnv = process.env): string {
  return env.PIPELINE_PYTHON || 'python3';
}

export function parsePythonVersion(output: string): [number, number] | undefined {
  const match = /Python (\d+)\.(\d+)/.exec(output);
  return match ? [Number(match[1]), Number(match[2])] : undefined;
}

const versionAtLeast = (v: [number, number], min: [number, number]) => v[0] > min[0] || (v[0] === min[0] && v[1] >= min[1]);

export async function checkPython(env: NodeJS.ProcessEnv = process.env): Promise<{ binary: string; version: [number, number] }> {
  const binary = pythonBinary(env);
  const result = await runCommand(binary, ['--version'], { timeoutMs: 20_000, env });
  const version = result.code === 0 ? parsePythonVersion(result.stdout + result.stderr) : undefined;
  const range = `${PYTHON_MIN.join('.')}–${PYTHON_MAX.join('.')}`;
  if (!version) {
    throw new UserError(
      `Python was not found (tried "${binary}"): install Python ${range} (PyFlink needs it) or set PIPELINE_PYTHON to its path.`,
      result.stderr,
    );
  }
  if (!versionAtLeast(version, PYTHON_MIN) || versionAtLeast(version, [PYTHON_MAX[0], PYTHON_MAX[1] + 1])) {
    throw new UserError(
      `Python ${version.join('.')} at "${binary}" is not supported by PyFlink: install Python ${range} and set PIPELINE_PYTHON to it.`,
    );
  }
  return { binary, version };
}

export async function checkMaven(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const binary = env.PIPELINE_MVN || 'mvn';
  const result = await runCommand(binary, ['--version'], { timeoutMs: 30_000, env });
  if (result.code !== 0) {
    throw new UserError(
      `Maven was not found (tried "${binary}"): it downloads Kafka and the Flink connector from Maven Central; install it (apt-get install maven) and run again.`,
      result.stderr,
    );
  }
  return binary;
}
