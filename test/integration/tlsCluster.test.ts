import * as assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectionSecurity, secretKeyFor, type ClusterConfig } from '../../src/kafka/clusterSecurity';
import { KafkaAdminClient } from '../../src/kafka/kafkaAdmin';
import type { ConnectionOptions } from '../../src/kafka/kafkaClient';
import { describePortHolder, waitForPortFree } from '../../src/local/ports';
import { runCommand, stopProcess } from '../../src/local/proc';
import { pipeline, repoRoot, tempWorkspace } from '../support/cli';
import { startTestBroker } from '../support/testBroker';
import { alertsReadBack, countedOnce } from '../support/jobOutput';

/**
 * A real Kafka broker with an SSL listener and a SASL_SSL (PLAIN) listener, its certificate signed at test time by
 * a private CA (openssl; `IP:127.0.0.1` in its SAN), on loopback ports outside the contract's. The Kafka tree's
 * admin client, the CLI, the generator and the Flink job reach it when given the CA file, and each says which
 * setting to change when the certificate is not trusted (no CA given, or another CA).
 */
const SSL_PORT = 48092;
const SASL_SSL_PORT = 48093;
const CONTROLLER_PORT = 48094;
const REST_PORT = 48081;
const SSL_BOOTSTRAP = `127.0.0.1:${SSL_PORT}`;
const SASL_SSL_BOOTSTRAP = `127.0.0.1:${SASL_SSL_PORT}`;
const ALICE_SECRET = `alice-${Math.random().toString(36).slice(2)}-secret`;
const KEYSTORE_PASSWORD = 'test-keystore';
const EVENTS = 300;
const UNTRUSTED =
  /sent a TLS certificate that the (system's CAs do not trust|CA in \S+ did not sign).*kafkaFlinkLab\.tlsCaFile \(CLI: --tls-ca-file/;

/** A private CA, another one, and the broker's PKCS12 keystore signed by the first. */
async function makeCertificates(dir: string): Promise<{ ca: string; otherCa: string; keystore: string }> {
  const openssl = async (...args: string[]) => {
    const r = await runCommand('openssl', args, { cwd: dir, timeoutMs: 60_000 });
    assert.equal(r.code, 0, `openssl ${args.join(' ')}: ${r.stderr}`);
  };
  for (const name of ['ca', 'other-ca'])
    await openssl(
      ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=kafka-flink-lab test ${name}`],
      ...['-keyout', `${name}.key`, '-out', `${name}.pem`, '-addext', 'basicConstraints=critical,CA:TRUE'],
      ...['-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
    );
  await openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', 'broker.key', '-out', 'broker.csr');
  writeFileSync(join(dir, 'broker.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n');
  await openssl(
    ...['x509', '-req', '-in', 'broker.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2'],
    ...['-extfile', 'broker.ext', '-out', 'broker.pem'],
  );
  await openssl(
    ...['pkcs12', '-export', '-in', 'broker.pem', '-inkey', 'broker.key', '-certfile', 'ca.pem', '-name', 'broker'],
    ...['-out', 'broker.p12', '-passout', `pass:${KEYSTORE_PASSWORD}`],
  );
  return { ca: join(dir, 'ca.pem'), otherCa: join(dir, 'other-ca.pem'), keystore: join(dir, 'broker.p12') };
}

const secretStore = (entries: [ClusterConfig, string][]) => {
  const map = new Map(entries.map(([c, p]) => [secretKeyFor(c), p]));
  return { get: async (key: string) => map.get(key) };
};

/** The Kafka tree's client of a cluster, as the extension builds it (KafkaConnections.client). */
async function treeClient(cluster: ClusterConfig, password = ALICE_SECRET): Promise<KafkaAdminClient> {
  const options: ConnectionOptions = {
    bootstrapServers: [cluster.bootstrapServers],
    requestTimeoutMs: 5000,
    connectionTimeoutMs: 3000,
    retries: 1,
    ...(await connectionSecurity(cluster, secretStore([[cluster, password]]))),
  };
  return new KafkaAdminClient(options, 5000);
}

async function treeTopics(cluster: ClusterConfig): Promise<string[]> {
  const client = await treeClient(cluster);
  try {
    return (await client.listTopics()).map((t) => t.name);
  } finally {
    await client.close();
  }
}

describe('a Kafka broker with SSL and SASL_SSL listeners and a private CA', function () {
  this.timeout(900_000);
  const brokerDir = tempWorkspace('tls-broker');
  const workspace = tempWorkspace('tls-pipeline');
  const output = join(workspace, 'output');
  let certs: { ca: string; otherCa: string; keystore: string };
  let brokerPid: number | undefined;
  const ssl = (caFile?: string): ClusterConfig => ({
    bootstrapServers: SSL_BOOTSTRAP,
    security: { mechanism: 'none', username: '', tls: true, caFile, allowPlaintextSasl: false },
  });
  const saslSsl = (caFile?: string): ClusterConfig => ({
    bootstrapServers: SASL_SSL_BOOTSTRAP,
    security: { mechanism: 'plain', username: 'alice', tls: true, caFile, allowPlaintextSasl: false },
  });
  const sslFlags = () => ['--bootstrap-servers', SSL_BOOTSTRAP, '--tls-ca-file', certs.ca];
  const saslSslFlags = () => [
    ...['--bootstrap-servers', SASL_SSL_BOOTSTRAP, '--sasl-mechanism', 'plain', '--sasl-username', 'alice'],
    ...['--tls', '--tls-ca-file', certs.ca],
  ];
  const saslEnv = { PIPELINE_SASL_PASSWORD: ALICE_SECRET, PIPELINE_SASL_PASSWORD_FILE: '', PIPELINE_TLS_CA_FILE: '' };

  before(async function () {
    for (const port of [SSL_PORT, SASL_SSL_PORT, CONTROLLER_PORT, REST_PORT])
      assert.ok(
        await waitForPortFree(port, 15_000),
        `port ${port} on 127.0.0.1 is free for this test (held by ${describePortHolder(port)})`,
      );
    certs = await makeCertificates(brokerDir);
    brokerPid = await startTestBroker({
      dir: brokerDir,
      port: SSL_PORT,
      controllerPort: CONTROLLER_PORT,
      listeners: {
        listeners: `SSL://127.0.0.1:${SSL_PORT},SASL_SSL://127.0.0.1:${SASL_SSL_PORT},CONTROLLER://127.0.0.1:${CONTROLLER_PORT}`,
        'advertised.listeners': `SSL://127.0.0.1:${SSL_PORT},SASL_SSL://127.0.0.1:${SASL_SSL_PORT}`,
        'inter.broker.listener.name': 'SSL',
        'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,SSL:SSL,SASL_SSL:SASL_SSL',
      },
      extra: [
        'ssl.keystore.type=PKCS12',
        `ssl.keystore.location=${certs.keystore}`,
        `ssl.keystore.password=${KEYSTORE_PASSWORD}`,
        `ssl.key.password=${KEYSTORE_PASSWORD}`,
        // The broker trusts the CA as the job does: a PEM truststore.
        'ssl.truststore.type=PEM',
        `ssl.truststore.location=${certs.ca}`,
        'sasl.enabled.mechanisms=PLAIN',
        `listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret" user_admin="admin-secret" user_alice="${ALICE_SECRET}";`,
      ],
      name: 'the TLS broker (both listeners)',
      answers: () => Promise.all([treeTopics(ssl(certs.ca)), treeTopics(saslSsl(certs.ca))]),
    });
  });

  after(async () => {
    await pipeline(['job', 'stop', '--workspace', workspace]);
    await pipeline(['generate', '--stop', '--workspace', workspace]);
    if (brokerPid) await stopProcess(brokerPid, 20_000);
    rmSync(brokerDir, { recursive: true, force: true });
  });

  it('the Kafka tree reaches it over SSL and SASL_SSL with the CA file', async () => {
    for (const cluster of [ssl(certs.ca), saslSsl(certs.ca)]) {
      const client = await treeClient(cluster);
      try {
        const model = await client.describeCluster();
        assert.equal(model.brokers.length, 1, `one broker at ${cluster.bootstrapServers}`);
        assert.ok(Array.isArray(await client.listTopics()));
      } finally {
        await client.close();
      }
    }
    // The broker checks the password on the SASL_SSL listener: TLS alone lets nobody in.
    const wrong = await treeClient(saslSsl(certs.ca), 'not-the-password');
    try {
      await assert.rejects(
        wrong.listTopics(),
        /^UserError: Kafka at 127\.0\.0\.1:48093 turned the SASL login away: check the user and its password\.$/,
      );
    } finally {
      await wrong.close();
    }
  });

  it('an untrusted certificate (no CA given, or another CA) names the cluster and the setting to change', async () => {
    for (const [cluster, reason] of [
      [ssl(), /the system's CAs do not trust \(self[- ]signed certificate in certificate chain\)/],
      [saslSsl(certs.otherCa), new RegExp(`the CA in ${certs.otherCa} did not sign`)],
    ] as const) {
      const client = await treeClient(cluster);
      try {
        const failed = await client.listTopics().then(
          () => assert.fail(`${cluster.bootstrapServers} was trusted`),
          (error: Error) => error.message,
        );
        assert.match(failed, new RegExp(`^Kafka at ${cluster.bootstrapServers} sent a TLS certificate`));
        assert.match(failed, UNTRUSTED);
        assert.match(failed, reason);
      } finally {
        await client.close();
      }
    }

    // The CLI, with --tls and no CA, then another CA.
    const noCa = await pipeline(['topic', 'list', '--workspace', workspace, '--bootstrap-servers', SSL_BOOTSTRAP, '--tls'], {
      env: { PIPELINE_TLS_CA_FILE: '' },
    });
    assert.equal(noCa.code, 1, noCa.stdout);
    assert.match(noCa.stderr, new RegExp(`Kafka at ${SSL_BOOTSTRAP} sent a TLS certificate`));
    assert.match(noCa.stderr, UNTRUSTED);
    const otherCa = await pipeline(['topic', 'list', '--workspace', workspace, ...saslSslFlags(), '--tls-ca-file', certs.otherCa], {
      env: saslEnv,
    });
    assert.equal(otherCa.code, 1, otherCa.stdout);
    assert.match(otherCa.stderr, new RegExp(`Kafka at ${SASL_SSL_BOOTSTRAP} sent a TLS certificate that the CA in ${certs.otherCa}`));

    // The generator (librdkafka), run directly: another CA.
    const python = process.env.PIPELINE_PYTHON_ENV ?? 'python3';
    const generator = await runCommand(
      python,
      [
        join(repoRoot, 'flink-jobs', 'data_generator.py'),
        ...['--bootstrap-servers', SSL_BOOTSTRAP, '--security-protocol', 'SSL', '--tls-ca-file', certs.otherCa],
        ...['--topic', 'nowhere', '--count', '1', '--connect-timeout', '5'],
      ],
      { timeoutMs: 60_000 },
    );
    assert.equal(generator.code, 2, generator.stdout + generator.stderr);
    assert.match(
      generator.stderr,
      new RegExp(`Kafka at ${SSL_BOOTSTRAP} sent a TLS certificate that the CA in ${certs.otherCa} did not sign`),
    );
    assert.match(generator.stderr, /kafkaFlinkLab\.tlsCaFile \(CLI: --tls-ca-file/);
  });

  it("the CLI takes the CA from its flag or the environment, never from the workspace's settings file", async () => {
    mkdirSync(join(workspace, '.vscode'), { recursive: true });
    writeFileSync(join(workspace, '.vscode', 'settings.json'), JSON.stringify({ 'kafkaFlinkLab.tlsCaFile': certs.ca }));
    try {
      const fromFile = await pipeline(['topic', 'list', '--workspace', workspace, '--bootstrap-servers', SSL_BOOTSTRAP, '--tls'], {
        env: { PIPELINE_TLS_CA_FILE: '' },
      });
      assert.equal(fromFile.code, 1, fromFile.stdout);
      assert.match(fromFile.stderr, UNTRUSTED);
      const fromEnv = await pipeline(['topic', 'list', '--workspace', workspace, '--bootstrap-servers', SSL_BOOTSTRAP], {
        env: { PIPELINE_TLS_CA_FILE: certs.ca },
      });
      assert.equal(fromEnv.code, 0, fromEnv.stderr);
    } finally {
      rmSync(join(workspace, '.vscode'), { recursive: true });
    }
  });

  it('a TLS round trip: the CLI makes a topic, the generator produces over SSL, the Kafka tree produces and peeks records over SSL', async () => {
    const topic = 'tls-round-trip';
    for (const name of [topic, 'tls-tree-round-trip']) {
      const created = await pipeline(['topic', 'create', name, '--partitions', '3', '--workspace', workspace, ...sslFlags()]);
      assert.equal(created.code, 0, created.stderr);
    }
    const listed = await pipeline(['topic', 'list', '--json', '--workspace', workspace, ...sslFlags()]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.ok(listed.stdout.includes(topic), listed.stdout);
    const generated = await pipeline(
      ['generate', '--topic', topic, '--count', String(EVENTS), '--rate', '0', '--sensors', '3', '--workspace', workspace, ...sslFlags()],
      { timeoutMs: 120_000 },
    );
    assert.equal(generated.code, 0, generated.stderr + generated.stdout);
    assert.match(generated.stdout, new RegExp(`sent=${EVENTS} `));
    // The Kafka tree over SSL: the generator's records are all there; records it produces, it peeks back. (It
    // cannot peek the generator's own records: they are LZ4-compressed, a codec kafkajs does not have.)
    const client = await treeClient(ssl(certs.ca));
    const values = Array.from({ length: 50 }, (_, i) => `tls-record-${i}`);
    let consumed: string[] = [];
    try {
      const offsets = await client.fetchPartitionOffsets(topic);
      const stored = offsets.reduce((n, o) => n + o.high - o.low, 0);
      assert.equal(stored, EVENTS, 'the partitions hold every record the generator sent');
      for (const value of values) await client.produce({ topic: 'tls-tree-round-trip', value });
      const peeked = await client.peek(
        { topic: 'tls-tree-round-trip', partition: 'all', start: { kind: 'earliest' }, count: 1000 },
        { timeoutMs: 30_000, idleMs: 10_000 },
      );
      consumed = peeked.records.map((r) => r.value!.toString());
    } finally {
      await client.close();
    }
    assert.deepEqual(consumed.sort(), [...values].sort(), 'every record produced over SSL is read back over SSL');
    console.log(
      `      TLS round trip on ${SSL_BOOTSTRAP}: generator sent=${EVENTS} (all ${EVENTS} stored); the tree produced ${values.length}, peeked back ${consumed.length}`,
    );
  });

  it('the Flink job runs on SASL_SSL: it reads the generator’s events and writes its alerts back over SASL_SSL', async () => {
    const topic = 'sasl-ssl-sensor-data';
    const created = await pipeline(['topic', 'create', topic, '--partitions', '3', ...saslSslFlags(), '--workspace', workspace], {
      env: saslEnv,
    });
    assert.equal(created.code, 0, created.stderr);
    const started = await pipeline(
      [
        ...['job', 'start', '--detach', '--topic', topic, '--output', output, '--window', '2', '--checkpoint-interval', '2'],
        ...['--flink', 'embedded', '--rest-port', String(REST_PORT), ...saslSslFlags(), '--workspace', workspace],
      ],
      { env: saslEnv, timeoutMs: 300_000 },
    );
    assert.equal(started.code, 0, started.stderr + started.stdout);
    console.log(`      ${started.stdout.trim()}`);
    const generated = await pipeline(
      [
        ...['generate', '--topic', topic, '--count', String(EVENTS), '--rate', '100', '--sensors', '3', '--anomaly-fraction', '0.1'],
        ...['--final-watermark', ...saslSslFlags(), '--workspace', workspace],
      ],
      { env: saslEnv, timeoutMs: 120_000 },
    );
    assert.equal(generated.code, 0, generated.stderr + generated.stdout);
    assert.match(generated.stdout, new RegExp(`sent=${EVENTS} `));

    const { counted, alertRows } = await countedOnce(output, EVENTS, 'SASL_SSL');
    // The alerts sink (the Java producer, PEM truststore) wrote them to sensor-alerts over SASL_SSL.
    const security = await connectionSecurity(saslSsl(certs.ca), secretStore([[saslSsl(certs.ca), ALICE_SECRET]]));
    await alertsReadBack(
      { bootstrapServers: [SASL_SSL_BOOTSTRAP], requestTimeoutMs: 10_000, retries: 5, ...security },
      alertRows,
      'SASL_SSL',
    );
    console.log(`      job on SASL_SSL ${SASL_SSL_BOOTSTRAP}: ${counted} of ${EVENTS} events counted, ${alertRows} alerts read back`);
    const stopped = await pipeline(['job', 'stop', '--workspace', workspace]);
    assert.equal(stopped.code, 0, stopped.stderr);
  });
});
