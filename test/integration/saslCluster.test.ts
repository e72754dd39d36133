import * as assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { connectionSecurity, secretKeyFor, type ClusterConfig } from '../../src/kafka/clusterSecurity';
import { createKafka } from '../../src/kafka/kafkaClient';
import { PipelineProcess } from '../../src/local/pipelineProcesses';
import { describePortHolder, waitForPortFree } from '../../src/local/ports';
import { commandLineOf, groupMembers, pollUntil, sleep, stopProcess } from '../../src/local/proc';
import { pipeline, tempWorkspace } from '../support/cli';
import { startTestBroker } from '../support/testBroker';
import { alertsReadBack, countedOnce } from '../support/jobOutput';

/**
 * A real Kafka broker whose only client listener is SASL_PLAINTEXT with PLAIN, on loopback ports outside the
 * contract's (so it runs beside the suite's shared broker). It shows, on the wire and in /proc: a password goes to
 * the cluster identity it was stored for and nowhere else, SASL without TLS needs the cluster's own flag, and the
 * generator and the Flink job work against it with the password from the environment or a 0600 file — never on a
 * command line.
 */
const PORT = 47092;
const CONTROLLER_PORT = 47093;
const REST_PORT = 47081;
const BOOTSTRAP = `127.0.0.1:${PORT}`;
const ALICE_SECRET = `alice-${Math.random().toString(36).slice(2)}-secret`;
const TOPIC = 'sasl-sensor-data';
const EVENTS = 300;

/** A TCP relay to the broker that keeps every byte clients send through it: "another cluster" that listens in. */
interface Recorder {
  server: Server;
  port: number;
  received: () => string;
}

async function startRecorder(): Promise<Recorder> {
  const chunks: Buffer[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(PORT, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
    client.on('data', (chunk: Buffer) => chunks.push(chunk));
    client.pipe(upstream).pipe(client);
  });
  server.on('close', () => sockets.forEach((s) => s.destroy()));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return { server, port, received: () => Buffer.concat(chunks).toString('latin1') };
}

const secretStore = (entries: [ClusterConfig, string][]) => {
  const map = new Map(entries.map(([c, p]) => [secretKeyFor(c), p]));
  return { get: async (key: string) => map.get(key) };
};

async function adminCall(cluster: ClusterConfig, secrets: { get(key: string): Promise<string | undefined> }): Promise<string[]> {
  const admin = createKafka({
    bootstrapServers: [cluster.bootstrapServers],
    retries: 0,
    connectionTimeoutMs: 3000,
    requestTimeoutMs: 5000,
    ...(await connectionSecurity(cluster, secrets)),
  }).admin();
  try {
    await admin.connect();
    return await admin.listTopics();
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** Every process of a pipeline process's group (python and, for the job, its JVM): their command lines. */
function commandLines(process: PipelineProcess): string[] {
  const record = process.record();
  if (!record) return [];
  return groupMembers(record.pid).map((pid) => commandLineOf(pid) ?? '');
}

describe('a SASL_PLAINTEXT (PLAIN) Kafka broker: whose password goes where', function () {
  this.timeout(900_000);
  const brokerDir = tempWorkspace('sasl-broker');
  const workspace = tempWorkspace('sasl-pipeline');
  const output = join(workspace, 'output');
  const home: ClusterConfig = {
    bootstrapServers: BOOTSTRAP,
    security: { mechanism: 'plain', username: 'alice', tls: false, allowPlaintextSasl: true },
  };
  let brokerPid: number | undefined;
  const recorders: Recorder[] = [];
  const saslFlags = ['--bootstrap-servers', BOOTSTRAP, '--sasl-mechanism', 'plain', '--sasl-username', 'alice', '--allow-plaintext-sasl'];

  before(async function () {
    for (const port of [PORT, CONTROLLER_PORT, REST_PORT])
      assert.ok(
        await waitForPortFree(port, 15_000),
        `port ${port} on 127.0.0.1 is free for this test (held by ${describePortHolder(port)})`,
      );
    brokerPid = await startTestBroker({
      dir: brokerDir,
      port: PORT,
      controllerPort: CONTROLLER_PORT,
      listeners: {
        listeners: `SASL_PLAINTEXT://127.0.0.1:${PORT},CONTROLLER://127.0.0.1:${CONTROLLER_PORT}`,
        'advertised.listeners': `SASL_PLAINTEXT://127.0.0.1:${PORT}`,
        'inter.broker.listener.name': 'SASL_PLAINTEXT',
        'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT',
      },
      extra: [
        'sasl.enabled.mechanisms=PLAIN',
        'sasl.mechanism.inter.broker.protocol=PLAIN',
        `listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret" user_admin="admin-secret" user_alice="${ALICE_SECRET}";`,
      ],
      name: 'the SASL broker',
      answers: () => adminCall(home, secretStore([[home, ALICE_SECRET]])),
    });
  });

  after(async () => {
    await pipeline(['job', 'stop', '--workspace', workspace]);
    await pipeline(['flink', 'down', '--workspace', workspace]);
    await pipeline(['generate', '--stop', '--workspace', workspace]);
    for (const r of recorders) r.server.close();
    if (brokerPid) await stopProcess(brokerPid, 20_000);
    rmSync(brokerDir, { recursive: true, force: true });
  });

  it('the password stored for the cluster connects; a wrong one is turned away by the broker', async () => {
    assert.ok(Array.isArray(await adminCall(home, secretStore([[home, ALICE_SECRET]]))));
    await assert.rejects(
      adminCall(home, secretStore([[home, 'not-the-password']])),
      /SASL PLAIN authentication failed|Authentication failed/i,
    );
  });

  it('SASL without TLS is refused unless the cluster allows it, before a byte is sent', async () => {
    const recorder = await startRecorder();
    recorders.push(recorder);
    const strict: ClusterConfig = {
      bootstrapServers: `127.0.0.1:${recorder.port}`,
      security: { ...home.security, allowPlaintextSasl: false },
    };
    await assert.rejects(adminCall(strict, secretStore([[strict, ALICE_SECRET]])), /without TLS .*refused/);
    assert.equal(recorder.received().length, 0);
    const allowed: ClusterConfig = { ...strict, security: { ...strict.security, allowPlaintextSasl: true } };
    assert.ok(
      Array.isArray(await adminCall(allowed, secretStore([[allowed, ALICE_SECRET]]))),
      'with the flag it connects (through the relay)',
    );
    assert.ok(
      recorder.received().includes(ALICE_SECRET),
      'and PLAIN without TLS does put the password on the wire, readable: why it needs the flag',
    );
  });

  it('a password is never offered to a cluster of another identity, even one relaying to the same broker', async () => {
    const recorder = await startRecorder();
    recorders.push(recorder);
    // Another cluster (say, named by a repository's settings) with the same mechanism and user.
    const other: ClusterConfig = { bootstrapServers: `127.0.0.1:${recorder.port}`, security: home.security };
    await assert.rejects(
      adminCall(other, secretStore([[home, ALICE_SECRET]])),
      /No SASL password is stored for user alice at 127\.0\.0\.1:\d+/,
    );
    assert.equal(recorder.received().length, 0, 'nothing was sent to the other cluster');
    // Given a password of its own, that one is what it receives — the recorder would have seen alice's.
    await assert.rejects(
      adminCall(
        other,
        secretStore([
          [home, ALICE_SECRET],
          [other, 'other-identity-password'],
        ]),
      ),
      /authentication failed/i,
    );
    assert.ok(recorder.received().includes('other-identity-password'));
    assert.ok(!recorder.received().includes(ALICE_SECRET));

    // The CLI: servers from a workspace's settings file get no password from the environment.
    mkdirSync(join(workspace, '.vscode'), { recursive: true });
    writeFileSync(
      join(workspace, '.vscode', 'settings.json'),
      JSON.stringify({ 'kafkaFlinkLab.bootstrapServers': other.bootstrapServers }),
    );
    const refused = await pipeline(
      ['topic', 'list', '--workspace', workspace, '--sasl-mechanism', 'plain', '--sasl-username', 'alice', '--allow-plaintext-sasl'],
      { env: { PIPELINE_SASL_PASSWORD: ALICE_SECRET, PIPELINE_BOOTSTRAP_SERVERS: '' } },
    );
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /only to bootstrap servers named with --bootstrap-servers/);
    assert.ok(!recorder.received().includes(ALICE_SECRET));
    rmSync(join(workspace, '.vscode'), { recursive: true });
  });

  it('the generator and the Flink job produce and consume with the password from a 0600 file or the environment, never on a command line', async () => {
    const passwordFile = join(workspace, 'kafka-password');
    writeFileSync(passwordFile, `${ALICE_SECRET}\n`);
    chmodSync(passwordFile, 0o600);
    const created = await pipeline(['topic', 'create', TOPIC, '--partitions', '3', ...saslFlags, '--workspace', workspace], {
      env: { PIPELINE_SASL_PASSWORD_FILE: passwordFile },
    });
    assert.equal(created.code, 0, created.stderr);

    // The job: the password from the 0600 file.
    const started = await pipeline(
      [
        'job',
        'start',
        '--detach',
        '--topic',
        TOPIC,
        '--output',
        output,
        '--window',
        '2',
        '--checkpoint-interval',
        '2',
        // Embedded, on a port of its own: the job's own processes are the ones checked for the password.
        '--flink',
        'embedded',
        '--rest-port',
        String(REST_PORT),
        ...saslFlags,
        '--workspace',
        workspace,
      ],
      { env: { PIPELINE_SASL_PASSWORD_FILE: passwordFile, PIPELINE_SASL_PASSWORD: '' }, timeoutMs: 300_000 },
    );
    assert.equal(started.code, 0, started.stderr + started.stdout);
    const job = new PipelineProcess(workspace, 'job');
    const jobCommands = commandLines(job);
    assert.ok(jobCommands.length >= 2, `python and its JVM: ${jobCommands.join('\n')}`);
    for (const cmd of jobCommands) assert.ok(!cmd.includes(ALICE_SECRET), `no password on the job's command line: ${cmd.slice(0, 300)}`);

    // The generator: the password from the environment, through the CLI.
    const generator = new PipelineProcess(workspace, 'generator');
    const generating = pipeline(
      [
        'generate',
        '--topic',
        TOPIC,
        '--count',
        String(EVENTS),
        '--rate',
        '60',
        '--sensors',
        '3',
        '--anomaly-fraction',
        '0.1',
        '--final-watermark',
        ...saslFlags,
        '--workspace',
        workspace,
      ],
      {
        env: { PIPELINE_SASL_PASSWORD: ALICE_SECRET, PIPELINE_SASL_PASSWORD_FILE: '' },
      },
    );
    const generatorCommands = await pollUntil(async () => (generator.running() ? commandLines(generator) : undefined), 60_000, 100);
    assert.ok(generatorCommands && generatorCommands.length > 0, 'the generator ran');
    const cliCommands = readdirSync('/proc')
      .filter((p) => /^\d+$/.test(p))
      .map((p) => commandLineOf(Number(p)) ?? '')
      .filter((c) => c.includes('cli.js') && c.includes(workspace));
    assert.ok(cliCommands.length > 0, 'the CLI processes are found');
    for (const cmd of [...generatorCommands!, ...cliCommands])
      assert.ok(!cmd.includes(ALICE_SECRET), `no password on a command line: ${cmd.slice(0, 300)}`);
    const generated = await generating;
    assert.equal(generated.code, 0, generated.stderr + generated.stdout);
    assert.match(generated.stdout, new RegExp(`sent=${EVENTS} `));

    // Every event counted once in the job's committed output, read from the SASL source.
    const { alertRows } = await countedOnce(output, EVENTS, 'SASL');
    // The alerts sink wrote the same alerts to sensor-alerts on the SASL broker (transactions, read committed).
    const security = await connectionSecurity(home, secretStore([[home, ALICE_SECRET]]));
    await alertsReadBack({ bootstrapServers: [BOOTSTRAP], requestTimeoutMs: 10_000, retries: 5, ...security }, alertRows, 'SASL');

    // Nor does the password show in Flink's REST API or in the job's logs.
    const jobs = (await (await fetch(`http://127.0.0.1:${REST_PORT}/jobs/overview`)).json()) as { jobs: { jid: string }[] };
    for (const path of [
      '/jobmanager/config',
      `/jobs/${jobs.jobs[0].jid}`,
      `/jobs/${jobs.jobs[0].jid}/config`,
      `/jobs/${jobs.jobs[0].jid}/plan`,
    ]) {
      const body = await (await fetch(`http://127.0.0.1:${REST_PORT}${path}`)).text();
      assert.ok(!body.includes(ALICE_SECRET), `no password in ${path}`);
    }
    const stopped = await pipeline(['job', 'stop', '--workspace', workspace]);
    assert.equal(stopped.code, 0, stopped.stderr);
    await sleep(500);
    // Every file the pipeline keeps in .pipeline/ (logs, pid files, checkpoints; the jars Flink unpacks aside).
    const files = readdirSync(join(workspace, '.pipeline'), { recursive: true, withFileTypes: true }).filter(
      (f) => f.isFile() && !f.name.endsWith('.jar'),
    );
    assert.ok(
      files.some((f) => f.name === '_metadata'),
      'checkpoints are among the files read',
    );
    for (const f of files) {
      const file = join(f.parentPath, f.name);
      assert.ok(!readFileSync(file, 'latin1').includes(ALICE_SECRET), `no password in ${file}`);
    }
  });

  it('pipeline sql reads the SASL topic through the local cluster and gateway: a bounded count is every event sent, and the password shows in no command line, REST answer or file', async () => {
    const sql = pipeline(
      [
        ...['sql', '--bounded', '--json', '--topic', TOPIC, 'SELECT COUNT(*) AS events, COUNT(DISTINCT event_id) AS ids FROM sensor_data'],
        ...saslFlags,
        ...['--workspace', workspace],
      ],
      { env: { PIPELINE_SASL_PASSWORD: ALICE_SECRET, PIPELINE_SASL_PASSWORD_FILE: '' }, timeoutMs: 420_000 },
    );
    const sqlCommands = await pollUntil(
      async () => {
        const found = readdirSync('/proc')
          .filter((p) => /^\d+$/.test(p))
          .map((p) => commandLineOf(Number(p)) ?? '')
          .filter((c) => c.includes('cli.js') && c.includes(' sql '));
        return found.length > 0 ? found : undefined;
      },
      60_000,
      100,
    );
    for (const cmd of sqlCommands ?? []) assert.ok(!cmd.includes(ALICE_SECRET), `no password on a command line: ${cmd.slice(0, 300)}`);
    const run = await sql;
    assert.equal(run.code, 0, run.stderr + run.stdout);
    const rows = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { op: string; events: number; ids: number });
    const last = rows.filter((r) => r.op === '+I' || r.op === '+U').at(-1);
    assert.deepEqual(last && [last.events, last.ids], [EVENTS, EVENTS], `the folded count over ${TOPIC}: ${run.stdout.slice(-300)}`);

    // The statement's job ran on the local cluster: neither its REST answers nor the cluster's and gateway's logs
    // hold the password.
    const overview = (await (await fetch('http://127.0.0.1:8081/jobs/overview')).json()) as { jobs: { jid: string; name: string }[] };
    assert.ok(overview.jobs.length > 0, 'the statement ran as a job on the local cluster');
    for (const job of overview.jobs)
      for (const path of [`/jobs/${job.jid}`, `/jobs/${job.jid}/config`, `/jobs/${job.jid}/plan`, `/jobs/${job.jid}/exceptions`]) {
        const body = await (await fetch(`http://127.0.0.1:8081${path}`)).text();
        assert.ok(!body.includes(ALICE_SECRET), `no password in ${path} (${job.name})`);
      }
    const files = readdirSync(join(workspace, '.pipeline'), { recursive: true, withFileTypes: true }).filter(
      (f) => f.isFile() && !f.name.endsWith('.jar'),
    );
    assert.ok(
      files.some((f) => f.parentPath.includes('flink-cluster') && /sql-gateway|gateway/.test(f.name)),
      `the gateway's log is among the files read: ${files.map((f) => f.name).join(', ')}`,
    );
    for (const f of files) {
      const file = join(f.parentPath, f.name);
      assert.ok(!readFileSync(file, 'latin1').includes(ALICE_SECRET), `no password in ${file}`);
    }
  });
});
