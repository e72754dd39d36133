// Flink's SQL Gateway beside the local session cluster: its own conf with mutual TLS on 127.0.0.1:8083, a key pair made once per workspace, started and stopped with the cluster.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { UserError } from '../shared/errors';
import type { Resolved } from '../config/resolver';
import type { GatewayCredentials } from '../flink/sqlGatewayClient';
import { fetchGatewayInfo, gatewayProblem, SqlGatewayClient } from '../flink/sqlGatewayClient';
import { javaBinary } from './environment';
import { flinkYaml, SQL_GATEWAY, type LocalFlinkCluster } from './flinkCluster';
import { pyflinkLibDir } from './flinkRuntime';
import { ensureSqlGatewayJar, type Progress } from './install';
import { ensurePortFree } from './ports';
import { runCommand, stopIdentified } from './proc';

export function sqlGatewayPort(env: NodeJS.ProcessEnv = process.env): number {
  return Number(env.PIPELINE_SQL_GATEWAY_PORT || 8083);
}

export function sqlGatewayUrl(env: NodeJS.ProcessEnv = process.env): string {
  return `https://127.0.0.1:${sqlGatewayPort(env)}`;
}

/**
 * The gateway's settings over the cluster's conf. Why mutual TLS: the gateway answers every origin with
 * `Access-Control-Allow-Origin: *` and runs a "simple" cross-origin POST (text/plain, no preflight), so any web page
 * could open a session and run SQL (a filesystem table reads and writes files). With `authentication-enabled`, the
 * TLS handshake itself needs the client certificate, a secret only the extension and the CLI can read (0600 files in
 * the workspace's `.pipeline/`): a browser has no such certificate, so no request of a page reaches the HTTP layer, and
 * DNS rebinding cannot help (the handshake fails whatever the host name). A plain-HTTP request only gets a redirect.
 * TLS 1.3 with its AES-GCM suites: Flink's default suite list is RSA-only and would not take the EC key.
 */
export function gatewayConfig(clusterConfig: string, files: { keystore: string; password: string }, port: number): string {
  const settings: Record<string, string | number | boolean> = {
    'execution.target': 'remote',
    'sql-gateway.endpoint.type': 'rest',
    'sql-gateway.endpoint.rest.address': '127.0.0.1',
    'sql-gateway.endpoint.rest.bind-address': '127.0.0.1',
    'sql-gateway.endpoint.rest.port': port,
    'sql-gateway.session.check-interval': '1 min',
    'sql-gateway.session.idle-timeout': '10 min',
    'security.ssl.rest.enabled': true,
    'security.ssl.rest.authentication-enabled': true,
    'security.ssl.rest.keystore': files.keystore,
    'security.ssl.rest.truststore': files.keystore,
    'security.ssl.rest.keystore-type': 'PKCS12',
    'security.ssl.rest.truststore-type': 'PKCS12',
    'security.ssl.rest.keystore-password': files.password,
    'security.ssl.rest.truststore-password': files.password,
    'security.ssl.rest.key-password': files.password,
    'security.ssl.protocol': 'TLSv1.3',
    'security.ssl.algorithms': 'TLS_AES_128_GCM_SHA256,TLS_AES_256_GCM_SHA384',
  };
  return clusterConfig + flinkYaml(settings);
}

/**
 * What a session must set so that the statements it submits reach the cluster's plain-HTTP REST API on 8081: the
 * gateway's own conf turns TLS on for its endpoint, and Flink reads the same keys for its client to the cluster.
 */
export const LOCAL_SESSION_PROPERTIES: Record<string, string> = { 'security.ssl.rest.enabled': 'false' };

/** The credentials folder of a workspace's gateway: the PKCS12 key pair, its password, the certificate (0700/0600). */
export function credentialsDir(cluster: LocalFlinkCluster): string {
  return join(cluster.gatewayDir, 'credentials');
}

/** Where statements go: a gateway named by a setting or a flag, or the local one (`client` undefined when it does not run). */
export type GatewayChoice = { local: false; client: SqlGatewayClient } | { local: true; client: SqlGatewayClient | undefined };

/**
 * The one rule for the editor and `pipeline sql` alike: a named gateway under the trust rule (`gatewayProblem`), and
 * never with a secured cluster, whose settings (its CA file, its SASL password) go only to the local gateway; else the
 * local gateway, reached with its client certificate.
 */
export function chooseSqlGateway(named: Resolved<string>, securedCluster: boolean, cluster: LocalFlinkCluster): GatewayChoice {
  if (named.value) {
    const problem = gatewayProblem(named);
    if (problem) throw new UserError(problem);
    if (securedCluster)
      throw new UserError(
        `A secured cluster's settings (its CA file, its SASL password) go only to the local SQL Gateway; the gateway ${named.value} comes from ${named.label}. Leave it out to use the local one.`,
      );
    return { local: false, client: new SqlGatewayClient(new URL(named.value).origin) };
  }
  const credentials = readGatewayCredentials(cluster);
  const running = cluster.pidOf(SQL_GATEWAY) !== undefined && credentials !== undefined;
  return { local: true, client: running ? new SqlGatewayClient(sqlGatewayUrl(), credentials) : undefined };
}

/** The client side of the mutual TLS: the same key pair (self-signed, trusted by both ends). Undefined before the first start. */
export function readGatewayCredentials(cluster: LocalFlinkCluster): GatewayCredentials | undefined {
  const dir = credentialsDir(cluster);
  try {
    return {
      pfx: readFileSync(join(dir, 'gateway.p12')),
      passphrase: readFileSync(join(dir, 'password'), 'utf8').trim(),
      ca: readFileSync(join(dir, 'gateway.pem'), 'utf8'),
    };
  } catch {
    return undefined;
  }
}

function keytoolBinary(env: NodeJS.ProcessEnv): string {
  const java = javaBinary(env);
  return java.includes('/') ? join(dirname(java), 'keytool') : 'keytool';
}

/** A self-signed EC key pair for 127.0.0.1, made once; the password goes to keytool through its environment, not its command line. */
async function ensureCredentials(cluster: LocalFlinkCluster, env: NodeJS.ProcessEnv): Promise<{ keystore: string; password: string }> {
  const dir = credentialsDir(cluster);
  const keystore = join(dir, 'gateway.p12');
  const passwordFile = join(dir, 'password');
  const pem = join(dir, 'gateway.pem');
  if (existsSync(keystore) && existsSync(passwordFile) && existsSync(pem))
    return { keystore, password: readFileSync(passwordFile, 'utf8').trim() };
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const password = randomBytes(24).toString('base64url');
  const keytool = keytoolBinary(env);
  const keyEnv = { ...env, KFL_GATEWAY_STOREPASS: password };
  const run = async (args: string[]) => {
    const result = await runCommand(keytool, args, { timeoutMs: 60_000, env: keyEnv });
    if (result.code !== 0)
      throw new UserError(`keytool could not make the SQL Gateway's key pair (${keytool} ${args[0]}).`, result.stderr + result.stdout);
    return result.stdout;
  };
  const store = ['-keystore', keystore, '-storetype', 'PKCS12', '-storepass:env', 'KFL_GATEWAY_STOREPASS'];
  await run([
    '-genkeypair',
    ...store,
    '-alias',
    'gateway',
    '-keyalg',
    'EC',
    '-groupname',
    'secp256r1',
    '-dname',
    'CN=127.0.0.1',
    '-ext',
    'SAN=ip:127.0.0.1',
    '-validity',
    '3650',
    '-keypass:env',
    'KFL_GATEWAY_STOREPASS',
  ]);
  writeFileSync(pem, await run(['-exportcert', '-rfc', ...store, '-alias', 'gateway']), { mode: 0o600 });
  chmodSync(keystore, 0o600);
  writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
  return { keystore, password };
}

/**
 * Starts the SQL Gateway of a running cluster (once): Flink's `sql-gateway.sh` from PyFlink's distribution, with the
 * runtime's lib/ (the Kafka connector, the job library's `sensor-json` format) and an opt/ folder holding the gateway
 * jar from Maven Central (downloaded once), which the wheel does not ship.
 */
export async function startSqlGateway(
  cluster: LocalFlinkCluster,
  python: string,
  classpathDir: string,
  progress: Progress,
  env: NodeJS.ProcessEnv = process.env,
  signal?: AbortSignal,
): Promise<{ alreadyRunning: boolean }> {
  if (cluster.pidOf(SQL_GATEWAY)) return { alreadyRunning: true };
  const pyflinkLib = pyflinkLibDir(python);
  if (!pyflinkLib) throw new UserError(`PyFlink's Flink distribution was not found next to ${python}: run \`pipeline setup\` again.`);
  const flinkHome = dirname(pyflinkLib);
  const gatewayJar = await ensureSqlGatewayJar(progress, env, signal);
  const port = sqlGatewayPort(env);
  await ensurePortFree(port, 'stop that process and run `pipeline flink up` again', 'the Flink SQL Gateway');
  const files = await ensureCredentials(cluster, env);
  const confDir = join(cluster.gatewayDir, 'conf');
  const optDir = join(cluster.gatewayDir, 'opt');
  for (const dir of [confDir, optDir]) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }
  writeFileSync(join(confDir, 'config.yaml'), gatewayConfig(readFileSync(join(cluster.confDir, 'config.yaml'), 'utf8'), files, port), {
    mode: 0o600,
  });
  for (const file of ['log4j-console.properties', 'logback-console.xml'])
    writeFileSync(join(confDir, file), readFileSync(join(cluster.confDir, file)));
  symlinkSync(gatewayJar, join(optDir, 'flink-sql-gateway.jar'));
  linkPythonJar(flinkHome, optDir);
  progress(`Starting the Flink SQL Gateway (${sqlGatewayUrl(env)}, mutual TLS)…`);
  const id = cluster.spawn(SQL_GATEWAY, join(flinkHome, 'bin', 'sql-gateway.sh'), ['start-foreground'], flinkHome, classpathDir, {
    FLINK_OPT_DIR: optDir,
  });
  const credentials = readGatewayCredentials(cluster);
  try {
    await cluster.waitFor(
      () => fetchGatewayInfo(sqlGatewayUrl(env), credentials, 2000).then((info) => (info ? true : undefined)),
      'the SQL Gateway to answer',
      SQL_GATEWAY,
      signal,
    );
  } catch (error) {
    await stopIdentified(id, 5000);
    throw error;
  }
  return { alreadyRunning: false };
}

/** PyFlink's flink-python jar, which sql-gateway.sh also looks for in opt/ (the gateway runs Python UDFs with it). */
function linkPythonJar(flinkHome: string, optDir: string): void {
  const opt = join(flinkHome, 'opt');
  if (!existsSync(opt)) return;
  for (const name of readdirSync(opt)) {
    if (/^flink-python.*\.jar$/.test(name)) symlinkSync(join(opt, name), join(optDir, name));
  }
}
