import * as assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkSecretTarget, flinkTargetOf } from '../../src/cli/processCli';
import { isLoopbackUrl, secretTargetProblem, type FlinkTarget } from '../../src/flink/flinkJobs';
import type { ClusterConfig } from '../../src/kafka/clusterSecurity';
import { clusterConfig, clusterProcessEnv, LocalFlinkCluster } from '../../src/local/flinkCluster';
import { identityOf, isSameProcess, pollUntil, signalGroupOf, stopIdentified } from '../../src/local/proc';
import { secretFileAt, writeSecretFile } from '../../src/local/secretFile';
import { secretTargetDecision } from '../../src/pipeline/secretTargets';
import { cliContext, pipeline } from '../support/cli';

const alice: ClusterConfig = {
  bootstrapServers: 'kafka.example:9093',
  security: { mechanism: 'plain', username: 'alice', tls: true, allowPlaintextSasl: false },
};
const remote = (url: string): FlinkTarget => ({ kind: 'remote', url });

describe('a SASL password follows only a Flink target the user chose', () => {
  it('knows loopback addresses', () => {
    for (const url of ['http://127.0.0.1:8081', 'http://127.3.4.5:1', 'http://localhost:8081', 'http://[::1]:8081'])
      assert.equal(isLoopbackUrl(url), true, url);
    for (const url of ['http://10.0.0.1:8081', 'http://127.0.0.1.evil.example:8081', 'http://flink.example', 'not a url'])
      assert.equal(isLoopbackUrl(url), false, url);
  });

  it('never over plain http to another machine; https, loopback, embedded and the local cluster are fine', () => {
    assert.match(secretTargetProblem(remote('http://flink.example:8081')) ?? '', /over plain http: refused/);
    assert.equal(secretTargetProblem(remote('https://flink.example:8443')), undefined);
    assert.equal(secretTargetProblem(remote('http://127.0.0.1:18081')), undefined);
    assert.equal(secretTargetProblem({ kind: 'embedded' }), undefined);
    assert.equal(secretTargetProblem({ kind: 'local-cluster', url: 'http://127.0.0.1:8081' }), undefined);
  });

  it('the extension asks once per cluster identity and Flink target before the password goes to another machine', () => {
    const target = remote('https://flink.example:8443');
    const asked = secretTargetDecision(alice, target, []);
    assert.equal(asked.kind, 'ask');
    if (asked.kind !== 'ask') return;
    assert.match(asked.message, /user alice at kafka\.example:9093 .* https:\/\/flink\.example:8443/, 'the question names both');
    assert.deepEqual(secretTargetDecision(alice, target, [asked.key]), { kind: 'send' }, 'remembered');
    assert.equal(secretTargetDecision(alice, remote('https://other.example:8443'), [asked.key]).kind, 'ask', 'another target is asked');
    const bob = { ...alice, security: { ...alice.security, username: 'bob' } };
    assert.equal(secretTargetDecision(bob, target, [asked.key]).kind, 'ask', 'another identity is asked');
    assert.equal(secretTargetDecision(alice, remote('http://flink.example:8081'), [asked.key]).kind, 'refuse');
    assert.deepEqual(secretTargetDecision(alice, remote('http://127.0.0.1:18081'), []), { kind: 'send' });
    assert.deepEqual(secretTargetDecision(alice, { kind: 'embedded' }, []), { kind: 'send' });
    const noSasl = { ...alice, security: { ...alice.security, mechanism: 'none' as const } };
    assert.deepEqual(secretTargetDecision(noSasl, remote('http://flink.example:8081'), []), { kind: 'send' }, 'no secret, no question');
  });

  describe('the CLI', () => {
    let workspace: string;
    before(() => {
      workspace = mkdtempSync(join(tmpdir(), 'kfl-trust-'));
      mkdirSync(join(workspace, '.vscode'));
    });
    after(() => rmSync(workspace, { recursive: true, force: true }));
    const withSettings = (settings: Record<string, unknown>) =>
      writeFileSync(join(workspace, '.vscode', 'settings.json'), JSON.stringify(settings));
    const secret = { childEnv: { PIPELINE_SASL_PASSWORD: 'pw' } };

    it('sends no password to a Flink target that a workspace file names, only to one named with --flink', () => {
      withSettings({ 'kafkaFlinkLab.flink.target': 'https://flink.example:8443' });
      const fromFile = flinkTargetOf(cliContext(workspace, {}));
      assert.equal(fromFile.origin, 'workspace');
      assert.throws(
        () => checkSecretTarget(fromFile, secret),
        /only to a Flink cluster named with --flink; https:\/\/flink\.example:8443 comes from/,
      );
      withSettings({ 'kafkaFlinkLab.flink.target': 'http://127.0.0.1:18081' });
      assert.throws(() => checkSecretTarget(flinkTargetOf(cliContext(workspace, {})), secret), /named with --flink/, 'loopback too');
      assert.doesNotThrow(() => checkSecretTarget(flinkTargetOf(cliContext(workspace, {})), { childEnv: {} }), 'no secret, no refusal');
      assert.doesNotThrow(() => checkSecretTarget(flinkTargetOf(cliContext(workspace, { flink: 'https://flink.example:8443' })), secret));
      withSettings({ 'kafkaFlinkLab.flink.target': 'local-cluster' });
      assert.doesNotThrow(() => checkSecretTarget(flinkTargetOf(cliContext(workspace, {})), secret), 'the local cluster is our own');
    });

    it('`pipeline job start` refuses before it starts anything, when a workspace file names the target', async () => {
      withSettings({ 'kafkaFlinkLab.flink.target': 'https://flink.example:8443' });
      const run = await pipeline(
        [
          'job',
          'start',
          '--workspace',
          workspace,
          '--bootstrap-servers',
          '127.0.0.1:9',
          '--sasl-mechanism',
          'plain',
          '--sasl-username',
          'u',
          '--tls',
        ],
        { env: { PIPELINE_SASL_PASSWORD: 'pw' }, timeoutMs: 30_000 },
      );
      assert.equal(run.code, 1, run.stdout + run.stderr);
      assert.match(run.stderr, /only to a Flink cluster named with --flink; https:\/\/flink\.example:8443 comes from/);
      assert.equal(existsSync(join(workspace, '.pipeline', 'flink', 'job.json')), false, 'no job was started');
    });

    it('sends none over plain http to another machine, even when --flink names it', () => {
      const target = flinkTargetOf(cliContext(workspace, { flink: 'http://flink.example:8081' }));
      assert.throws(() => checkSecretTarget(target, secret), /over plain http: refused.*\(--flink\)/);
    });
  });
});

describe('processes that need no password do not get it', () => {
  it('the session cluster starts with an environment without the password or its file', () => {
    const env = clusterProcessEnv(
      { PATH: '/bin', PIPELINE_SASL_PASSWORD: 'pw', PIPELINE_SASL_PASSWORD_FILE: '/run/pw' },
      { FLINK_CONF_DIR: '/ws/conf' },
    );
    assert.deepEqual(env, { PATH: '/bin', FLINK_CONF_DIR: '/ws/conf' });
  });

  it('a terminal gets the password as a 0600 file in a folder of its own, its environment names only the file', () => {
    const base = mkdtempSync(join(tmpdir(), 'kfl-secret-'));
    try {
      const file = writeSecretFile('alice-secret', base);
      assert.deepEqual(Object.values(file.env), [file.path]);
      assert.ok(!JSON.stringify(file.env).includes('alice-secret'));
      assert.equal(readFileSync(file.path, 'utf8'), 'alice-secret');
      assert.equal(statSync(file.path).mode & 0o777, 0o600);
      assert.equal(statSync(join(file.path, '..')).mode & 0o777, 0o700);
      assert.equal(secretFileAt(file.path)?.path, file.path, 'found again from the path (a window reload)');
      assert.equal(secretFileAt(join(base, 'sasl-password')), undefined, 'any other path is never removed');
      assert.equal(secretFileAt('/etc/passwd'), undefined);
      file.remove();
      assert.throws(() => statSync(join(file.path, '..')));
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
});

describe('Flink answers only its own web origin', () => {
  it('the session cluster sets web.access-control-allow-origin to its own REST address', () => {
    const conf = clusterConfig({ taskManagers: 1, slots: 1 }, { savepoints: '/s', tmp: '/t' }, '', {
      rest: 18081,
      rpc: 16123,
      blob: 16124,
    });
    assert.match(conf, /^web\.access-control-allow-origin: "http:\/\/127\.0\.0\.1:18081"$/m);
  });
});

describe('a process is known by pid and start time (and the cluster by its conf folder) before it is signalled', () => {
  const children: ChildProcess[] = [];
  let workspace: string;
  before(() => (workspace = mkdtempSync(join(tmpdir(), 'kfl-ident-'))));
  after(() => {
    for (const c of children) c.kill('SIGKILL');
    rmSync(workspace, { recursive: true, force: true });
  });

  /** A process like the distribution's start script: `bash …/bin/jobmanager.sh` with FLINK_CONF_DIR. */
  function fakeJobManager(confDir: string): ChildProcess {
    const bin = join(workspace, 'bin');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'jobmanager.sh'), 'sleep 60\n');
    const child = spawn('bash', [join(bin, 'jobmanager.sh')], { env: { ...process.env, FLINK_CONF_DIR: confDir }, detached: true });
    children.push(child);
    return child;
  }

  it("the session cluster's pid file names a process of its own conf folder, with its start time", () => {
    const cluster = new LocalFlinkCluster(workspace, { ...process.env, PIPELINE_STATE_DIR: '' });
    mkdirSync(cluster.root, { recursive: true });
    const pidFile = join(cluster.root, 'jobmanager.pid');
    const ours = fakeJobManager(cluster.confDir);
    const other = fakeJobManager('/elsewhere/conf');
    const start = (pid: number) => identityOf(pid)!.startTime;
    writeFileSync(pidFile, `${ours.pid} ${start(ours.pid!)}\n`);
    assert.equal(cluster.pidOf('jobmanager'), ours.pid);
    writeFileSync(pidFile, `${other.pid} ${start(other.pid!)}\n`);
    assert.equal(cluster.pidOf('jobmanager'), undefined, "another folder's Flink start script is not ours");
    writeFileSync(pidFile, `${ours.pid} ${start(ours.pid!) - 1}\n`);
    assert.equal(cluster.pidOf('jobmanager'), undefined, 'a reused pid (another start time) is not ours');
    writeFileSync(pidFile, `${ours.pid}\n`);
    assert.equal(cluster.pidOf('jobmanager'), undefined, 'a pid alone cannot tell');
  });

  it('a signal goes to a process group only while its leader is still the same process', async () => {
    const child = spawn('sleep', ['60'], { detached: true });
    children.push(child);
    const id = identityOf(child.pid!)!;
    assert.equal(signalGroupOf({ ...id, startTime: id.startTime + 1 }, 'SIGKILL'), false);
    assert.equal(await stopIdentified({ ...id, startTime: id.startTime - 1 }, 1000), false);
    assert.ok(isSameProcess(id), 'a wrong start time leaves the process alone');
    await stopIdentified(id, 5000);
    assert.ok(await pollUntil(async () => (isSameProcess(id) ? undefined : true), 5000));
  });
});
