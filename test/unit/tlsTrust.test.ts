// TLS with a private CA: where the CA file comes from, whom it may decide for, how each client is told, and what an untrusted certificate says.
import * as assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterOf, configOf } from '../../src/cli/context';
import { PipelineConfig, type Resolved, type SettingScope } from '../../src/config/resolver';
import { SETTING_DEFAULTS } from '../../src/config/settingKeys';
import { caFileTrustProblem, pythonSecurityArgs, type ClusterSecurity } from '../../src/kafka/clusterSecurity';
import { untrustedCertificateProblem } from '../../src/kafka/tlsTrust';
import { cliSecurityArgs } from '../../src/services/cliArgs';
import { cliContext } from '../support/cli';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const saslTls: ClusterSecurity = { mechanism: 'plain', username: 'alice', tls: true, allowPlaintextSasl: false };
const noSasl: ClusterSecurity = { mechanism: 'none', username: '', tls: true, allowPlaintextSasl: false };
const ca = (origin: Resolved<string>['origin'], value = '/etc/corp-ca.pem'): Resolved<string> => ({
  value,
  origin,
  label: `kafkaFlinkLab.tlsCaFile in the ${origin} settings`,
});

describe('TLS with a private CA (kafkaFlinkLab.tlsCaFile, --tls-ca-file)', () => {
  let workspace: string;
  let elsewhere: string;
  beforeEach(() => {
    workspace = mkdtempSync(join(tmpdir(), 'kfl-tls-ws-'));
    elsewhere = mkdtempSync(join(tmpdir(), 'kfl-tls-cwd-'));
  });
  afterEach(() => {
    rmSync(workspace, { recursive: true, force: true });
    rmSync(elsewhere, { recursive: true, force: true });
  });

  it('the CA file resolves like any path: a flag from the current folder, a setting from the workspace, unset is empty', () => {
    const source = (workspaceValue?: string) => ({
      read: (key: string, scope: SettingScope) =>
        scope === 'workspace' && key === 'tlsCaFile' && workspaceValue !== undefined
          ? { value: workspaceValue, label: 'kafkaFlinkLab.tlsCaFile in the workspace settings' }
          : undefined,
      defaultOf: (key: string) => SETTING_DEFAULTS[key as keyof typeof SETTING_DEFAULTS],
    });
    const config = (flags: Record<string, string> = {}, env: NodeJS.ProcessEnv = {}, workspaceValue?: string) =>
      new PipelineConfig({ settings: source(workspaceValue), workspace, flags, env, cwd: elsewhere }).tlsCaFile();
    assert.deepEqual(config(), { value: '', origin: 'default', label: 'the default of kafkaFlinkLab.tlsCaFile' });
    assert.deepEqual(config({ 'tls-ca-file': 'certs/ca.pem' }), {
      value: join(elsewhere, 'certs/ca.pem'),
      origin: 'flag',
      label: '--tls-ca-file',
    });
    assert.equal(config({}, { PIPELINE_TLS_CA_FILE: '/abs/ca.pem' }).value, '/abs/ca.pem');
    const fromWorkspace = config({}, {}, '${workspaceFolder}/ca.pem');
    assert.equal(fromWorkspace.value, join(workspace, 'ca.pem'));
    assert.equal(fromWorkspace.origin, 'workspace');
  });

  it("the CLI: --tls-ca-file turns TLS on and gives kafkajs the CA's PEM; a missing or non-PEM file is named; the workspace file is not read", () => {
    const file = join(workspace, 'ca.pem');
    writeFileSync(file, PEM);
    const ctx = (values: Record<string, string | boolean>) => cliContext(workspace, values);
    const cluster = clusterOf(ctx({ 'bootstrap-servers': 'b1.corp:9093', 'tls-ca-file': file }), {});
    assert.equal(cluster.security.tls, true);
    assert.equal(cluster.security.caFile, file);
    assert.deepEqual(cluster.connection, { ssl: { ca: PEM, caFile: file } });
    const sasl = clusterOf(ctx({ 'bootstrap-servers': 'b1.corp:9093', 'sasl-mechanism': 'plain', 'sasl-username': 'alice' }), {
      PIPELINE_SASL_PASSWORD: 's3cret',
      PIPELINE_TLS_CA_FILE: file,
    });
    assert.deepEqual(sasl.connection.ssl, { ca: PEM, caFile: file }, 'the environment names it too, and TLS with it');
    assert.throws(
      () => clusterOf(ctx({ 'tls-ca-file': join(workspace, 'nope.pem') }), {}),
      /The CA file .*nope\.pem cannot be read \(ENOENT\).*--tls-ca-file/,
    );
    writeFileSync(join(workspace, 'key.pem'), '-----BEGIN PRIVATE KEY-----\n');
    assert.throws(() => clusterOf(ctx({ 'tls-ca-file': join(workspace, 'key.pem') }), {}), /holds no PEM certificate/);

    mkdirSync(join(workspace, '.vscode'));
    writeFileSync(
      join(workspace, '.vscode', 'settings.json'),
      JSON.stringify({ 'kafkaFlinkLab.tlsCaFile': file, 'kafkaFlinkLab.tls': true }),
    );
    assert.equal(
      configOf(ctx({}), {}).tlsCaFile().value,
      '',
      'like its SASL and TLS, the CLI takes its CA from a flag or the environment only',
    );
    assert.equal(clusterOf(ctx({}), {}).connection.ssl, false);
  });

  it('with SASL, a CA chosen by the workspace settings is refused; one the user chose, or one without a secret at stake, is not', () => {
    assert.match(
      caFileTrustProblem(saslTls, ca('workspace')) ?? '',
      /^The CA file \/etc\/corp-ca\.pem comes from kafkaFlinkLab\.tlsCaFile in the workspace settings: .*refused\. .*user settings/,
    );
    assert.equal(caFileTrustProblem(saslTls, ca('user')), undefined);
    assert.equal(caFileTrustProblem(saslTls, ca('flag')), undefined);
    assert.equal(caFileTrustProblem(saslTls, ca('environment')), undefined);
    assert.equal(caFileTrustProblem(noSasl, ca('workspace')), undefined, 'no password: the workspace already chooses the servers');
    assert.equal(caFileTrustProblem(saslTls, ca('workspace', '')), undefined, 'no CA file set');
  });

  it('the generator, the job and the terminals are told the CA file; a plaintext cluster gets none', () => {
    const security = { ...saslTls, caFile: '/etc/corp-ca.pem' };
    assert.deepEqual(pythonSecurityArgs(security), [
      ...['--security-protocol', 'SASL_SSL', '--sasl-mechanism', 'PLAIN', '--sasl-username', 'alice'],
      ...['--tls-ca-file', '/etc/corp-ca.pem'],
    ]);
    assert.ok(cliSecurityArgs(security).includes('--tls-ca-file=/etc/corp-ca.pem'));
    assert.deepEqual(pythonSecurityArgs({ ...security, mechanism: 'none', tls: false }), []);
    assert.throws(() => cliSecurityArgs({ ...security, caFile: '/x\n--evil' }), /line breaks/);
  });

  it('an untrusted certificate names the cluster, why, and the setting to change; other errors are left alone', () => {
    const kafkajs = (message: string) => Object.assign(new Error(`Connection error: ${message}`), { name: 'KafkaJSConnectionError' });
    assert.equal(
      untrustedCertificateProblem('b1.corp:9093', undefined, kafkajs('self-signed certificate in certificate chain')),
      "Kafka at b1.corp:9093 sent a TLS certificate that the system's CAs do not trust (self-signed certificate in certificate chain): if the cluster has its own CA, name its PEM file in kafkaFlinkLab.tlsCaFile (CLI: --tls-ca-file or PIPELINE_TLS_CA_FILE).",
    );
    const retried = Object.assign(new Error('retries exhausted'), { cause: kafkajs('unable to verify the first certificate') });
    assert.match(
      untrustedCertificateProblem('b1.corp:9093', '/etc/other-ca.pem', retried) ?? '',
      /the CA in \/etc\/other-ca\.pem did not sign \(unable to verify the first certificate\): name the CA that signed it in kafkaFlinkLab\.tlsCaFile/,
    );
    assert.match(
      untrustedCertificateProblem(
        '10.0.0.1:9093',
        undefined,
        kafkajs("Hostname/IP does not match certificate's altnames: IP: 10.0.0.1 is not in the cert's list"),
      ) ?? '',
      /certificate for other names/,
    );
    assert.equal(untrustedCertificateProblem('b1.corp:9093', undefined, kafkajs('connect ECONNREFUSED 127.0.0.1:9093')), undefined);
  });
});
