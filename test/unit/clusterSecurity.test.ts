import * as assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { clusterOf } from '../../src/cli/context';
import { cliContext } from '../support/cli';
import { processCli } from '../../src/cli/processCli';
import { cliGenerateArgs, cliJobStartArgs } from '../../src/services/cliArgs';
import {
  clusterIdentity,
  connectionSecurity,
  NO_SECURITY,
  parseClusterEntry,
  plaintextSaslWarning,
  secretKeyFor,
  type ClusterConfig,
  type ClusterSecurity,
} from '../../src/kafka/clusterSecurity';
import { UserError } from '../../src/shared/errors';
import { generatorArgs, PipelineProcess } from '../../src/local/pipelineProcesses';

const SECRET = 'alice-secret-4711';
const plainTls: ClusterSecurity = { mechanism: 'plain', username: 'alice', tls: true, allowPlaintextSasl: false };
const cluster = (bootstrapServers: string, security: Partial<ClusterSecurity> = {}): ClusterConfig => ({
  bootstrapServers,
  security: { ...plainTls, ...security },
});

/** A SecretStorage stand-in that records which keys were asked for. */
function secretStore(entries: [ClusterConfig, string][]) {
  const map = new Map(entries.map(([c, p]) => [secretKeyFor(c), p]));
  const asked: string[] = [];
  return { asked, get: async (key: string) => (asked.push(key), map.get(key)) };
}

describe('a SASL password belongs to one cluster identity (bootstrap servers + mechanism + user)', () => {
  it('one cluster, one key, however its servers are spelled; any other identity, another key', () => {
    const home = cluster('b2.corp:9093,b1.corp:9093');
    assert.equal(secretKeyFor(cluster('b1.corp:9093, b2.corp:9093')), secretKeyFor(home));
    assert.equal(secretKeyFor(cluster('localhost:9093')), secretKeyFor(cluster('127.0.0.1:9093')));
    const others = [
      cluster('evil.example:9093'),
      cluster('b1.corp:9093'),
      cluster(home.bootstrapServers, { username: 'bob' }),
      cluster(home.bootstrapServers, { mechanism: 'scram-sha-512' }),
    ];
    for (const other of others) assert.notEqual(secretKeyFor(other), secretKeyFor(home), clusterIdentity(other));
    assert.match(secretKeyFor(home), /^kafkaFlinkLab\.sasl\.password\/[0-9a-f]{64}$/);
  });

  it('the stored password goes to its own cluster, and is never offered to another', async () => {
    const home = cluster('b1.corp:9093');
    const secrets = secretStore([[home, SECRET]]);
    assert.deepEqual(await connectionSecurity(home, secrets), {
      ssl: true,
      sasl: { mechanism: 'plain', username: 'alice', password: SECRET },
    });
    // A repository's settings naming another host with the same mechanism and user get nothing.
    const elsewhere = cluster('evil.example:9093');
    await assert.rejects(
      connectionSecurity(elsewhere, secrets),
      (e: Error) =>
        e instanceof UserError &&
        /No SASL password is stored for user alice at evil\.example:9093/.test(e.message) &&
        !e.message.includes(SECRET),
    );
    assert.deepEqual(secrets.asked, [secretKeyFor(home), secretKeyFor(elsewhere)]);
  });

  it('SASL without TLS is refused unless the cluster allows it, and then comes with a warning', async () => {
    const plaintext = cluster('b1.corp:9092', { tls: false });
    const secrets = secretStore([[plaintext, SECRET]]);
    await assert.rejects(
      connectionSecurity(plaintext, secrets, 'kafkaFlinkLab.sasl.allowPlaintext'),
      (e: Error) => e instanceof UserError && /without TLS.*refused.*kafkaFlinkLab\.sasl\.allowPlaintext/.test(e.message),
    );
    assert.deepEqual(secrets.asked, [], 'the password is not even read');
    const scram = cluster('b1.corp:9092', { tls: false, mechanism: 'scram-sha-256' });
    await assert.rejects(connectionSecurity(scram, secretStore([[scram, SECRET]])), /proof of the password/);
    const allowed = cluster('b1.corp:9092', { tls: false, allowPlaintextSasl: true });
    assert.equal((await connectionSecurity(allowed, secretStore([[allowed, SECRET]]))).sasl?.password, SECRET);
    assert.match(plaintextSaslWarning(allowed) ?? '', /without TLS.*readable/);
    assert.equal(plaintextSaslWarning(cluster('b1.corp:9093')), undefined);
    assert.deepEqual(await connectionSecurity({ bootstrapServers: 'b1.corp:9092', security: NO_SECURITY }, secretStore([])), {
      ssl: false,
    });
  });

  it('additionalClusters: bootstrap servers alone take the main cluster’s security, an object its own', () => {
    assert.deepEqual(parseClusterEntry(' b:1 ', plainTls).cluster, { bootstrapServers: 'b:1', security: plainTls });
    assert.deepEqual(
      parseClusterEntry(
        { bootstrapServers: 'c:2', sasl: { mechanism: 'SCRAM-SHA-256', username: 'carol' }, tls: false, allowPlaintextSasl: true },
        plainTls,
      ).cluster,
      {
        bootstrapServers: 'c:2',
        security: { mechanism: 'scram-sha-256', username: 'carol', tls: false, allowPlaintextSasl: true },
      },
    );
    assert.deepEqual(parseClusterEntry({ bootstrapServers: 'd:3' }, plainTls).cluster?.security, NO_SECURITY);
    assert.match(parseClusterEntry({ bootstrapServers: 'e:4', sasl: { mechanism: 'gssapi' } }, plainTls).error ?? '', /gssapi/);
    assert.match(parseClusterEntry(42, plainTls).error ?? '', /neither/);
  });
});

describe('the generator and the job reach a secured cluster without a password on any command line', function () {
  this.timeout(20_000);
  const workspace = mkdtempSync(join(tmpdir(), 'kfl-sasl-cli-'));
  after(() => rmSync(workspace, { recursive: true, force: true }));
  const ctx = (values: Record<string, string | boolean>) => cliContext(workspace, values);
  const sasl = { 'bootstrap-servers': 'b1.corp:9093', 'sasl-mechanism': 'plain', 'sasl-username': 'alice', tls: true };

  it('the CLI takes the password from PIPELINE_SASL_PASSWORD or a 0600 file, and hands the generator only that', () => {
    const fromEnv = clusterOf(ctx(sasl), { PIPELINE_SASL_PASSWORD: SECRET });
    assert.deepEqual(fromEnv.connection, { ssl: true, sasl: { mechanism: 'plain', username: 'alice', password: SECRET } });
    assert.deepEqual(fromEnv.childEnv, { PIPELINE_SASL_PASSWORD: SECRET });
    const file = join(workspace, 'password');
    writeFileSync(file, `${SECRET}\n`);
    chmodSync(file, 0o644);
    assert.throws(() => clusterOf(ctx(sasl), { PIPELINE_SASL_PASSWORD_FILE: file }), /can be read by others.*chmod 600/);
    chmodSync(file, 0o600);
    const fromFile = clusterOf(ctx(sasl), { PIPELINE_SASL_PASSWORD_FILE: file });
    assert.equal(fromFile.connection.sasl?.password, SECRET);
    assert.deepEqual(fromFile.childEnv, { PIPELINE_SASL_PASSWORD_FILE: file });
    assert.throws(() => clusterOf(ctx(sasl), {}), /PIPELINE_SASL_PASSWORD.*never on the command line/);
  });

  it('the CLI sends it only to servers named on its command line, and not over plaintext unless allowed', () => {
    mkdirSync(join(workspace, '.vscode'), { recursive: true });
    writeFileSync(join(workspace, '.vscode', 'settings.json'), '{ "kafkaFlinkLab.bootstrapServers": "evil.example:9093" }');
    const fromSettings = { 'sasl-mechanism': 'plain', 'sasl-username': 'alice', tls: true };
    assert.throws(
      () => clusterOf(ctx(fromSettings), { PIPELINE_SASL_PASSWORD: SECRET }),
      /only to bootstrap servers named with --bootstrap-servers.*evil\.example:9093/,
    );
    assert.equal(
      clusterOf(ctx(fromSettings), { PIPELINE_SASL_PASSWORD: SECRET, PIPELINE_BOOTSTRAP_SERVERS: 'b1.corp:9093' }).bootstrapServers,
      'b1.corp:9093',
    );
    rmSync(join(workspace, '.vscode'), { recursive: true });
    const plaintext = { ...sasl, tls: false };
    assert.throws(() => clusterOf(ctx(plaintext), { PIPELINE_SASL_PASSWORD: SECRET }), /without TLS.*--allow-plaintext-sasl/);
    const warnings: string[] = [];
    clusterOf(
      { ...ctx({ ...plaintext, 'allow-plaintext-sasl': true }), progress: (l) => warnings.push(l) },
      { PIPELINE_SASL_PASSWORD: SECRET },
    );
    assert.match(warnings.join('\n'), /warning: .*without TLS/);
  });

  it('the extension’s terminals and the CLI’s Python processes get flags that never hold the password', () => {
    const security: ClusterSecurity = { ...plainTls, tls: false, allowPlaintextSasl: true };
    const generate = cliGenerateArgs({ workspace: '/w', topic: 't', bootstrapServers: 'b1.corp:9092', rate: 1, sensors: 1, security });
    const job = cliJobStartArgs({
      workspace: '/w',
      topic: 't',
      bootstrapServers: 'b1.corp:9092',
      security,
      outputDir: '/o',
      windowSeconds: 5,
      groupId: 'g',
    });
    for (const [argv, command] of [
      [generate, 'generate'],
      [job, 'job start'],
    ] as const) {
      const values = parseArgs({ args: argv.slice(command.split(' ').length), options: processCli[command].options, strict: true }).values;
      assert.deepEqual(
        [values['bootstrap-servers'], values['sasl-mechanism'], values['sasl-username'], values['allow-plaintext-sasl'], values.tls],
        ['b1.corp:9092', 'plain', 'alice', true, undefined],
      );
    }
    const python = generatorArgs({ bootstrapServers: 'b1.corp:9092', topic: 't', rate: 1, sensors: 1, security });
    assert.deepEqual(python.slice(-6), ['--security-protocol', 'SASL_PLAINTEXT', '--sasl-mechanism', 'PLAIN', '--sasl-username', 'alice']);
    for (const argv of [generate, job, python]) assert.ok(!argv.join(' ').includes(SECRET));
  });

  it('a password in the CLI’s own environment is not passed on to a process that was not given it', async () => {
    const run = async (extraEnv?: Record<string, string>) => {
      const process = new PipelineProcess(workspace, 'generator', { ...globalThis.process.env, PIPELINE_SASL_PASSWORD: SECRET });
      const { exited } = process.start('/bin/sh', ['-c', 'echo "${PIPELINE_SASL_PASSWORD:-none}"'], {
        background: true,
        cwd: workspace,
        extraEnv,
      });
      await exited;
      return readFileSync(process.logFile, 'utf8').trim();
    };
    assert.equal(await run(), 'none');
    assert.equal(await run({ PIPELINE_SASL_PASSWORD: 'given' }), 'given');
  });
});
