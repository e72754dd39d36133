import * as assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseJavaMajor, parsePythonVersion } from '../../src/local/environment';
import { isCompleteFolder } from '../../src/local/install';
import { pythonEnvDir } from '../../src/local/pythonEnv';
import { cacheRoot, stateRoot } from '../../src/config/paths';
import { generatorArgs, jobArgs } from '../../src/local/pipelineProcesses';
import { resumableSavepoint, savepointDirOf } from '../../src/flink/flinkSavepoints';
import { listeningInodes, shortCommand, socketsOnPort } from '../../src/local/ports';
import { bootstrapFor, newClusterId, nodesFor, serverProperties } from '../../src/local/stack';
import { validateBootstrapServers, validatePositiveInt, validateRetentionMs, validateTopicName } from '../../src/config/validation';
import { parseJsonc } from '../../src/config/workspaceSettings';

describe('topic name validation (Kafka rules, and nothing a shell could misread)', () => {
  it('accepts legal names', () => {
    for (const name of ['sensor-data', 'a', 'my.topic_1', 'x'.repeat(249)]) assert.equal(validateTopicName(name), undefined, name);
  });
  it('refuses spaces and shell metacharacters, naming them', () => {
    assert.match(validateTopicName('my topic')!, /found space/);
    assert.match(validateTopicName('a;rm -rf ~')!, /";"/);
    for (const name of ['$(id)', 'a`b`', 'a|b', 'a&b', "a'b", 'a"b', 'a>b', 'ü']) assert.ok(validateTopicName(name), name);
  });
  it('refuses empty, too long, "." and ".."', () => {
    assert.ok(validateTopicName(''));
    assert.match(validateTopicName('x'.repeat(250))!, /at most 249/);
    assert.ok(validateTopicName('.'));
    assert.ok(validateTopicName('..'));
  });
});

describe('number and address validation', () => {
  it('positive integers', () => {
    assert.equal(validatePositiveInt('3', 'Partitions'), undefined);
    assert.ok(validatePositiveInt('0', 'Partitions'));
    assert.ok(validatePositiveInt('2.5', 'Partitions'));
    assert.ok(validatePositiveInt('3x', 'Partitions'));
    assert.match(validatePositiveInt(20_000, 'Partitions', 10_000)!, /at most 10000/);
  });
  it('retention: -1 or a positive number of ms', () => {
    assert.equal(validateRetentionMs('-1'), undefined);
    assert.equal(validateRetentionMs('86400000'), undefined);
    assert.ok(validateRetentionMs('-5'));
  });
  it('bootstrap servers', () => {
    assert.equal(validateBootstrapServers('127.0.0.1:9092'), undefined);
    assert.equal(validateBootstrapServers('a:1, b.example.com:9093'), undefined);
    assert.ok(validateBootstrapServers('localhost'));
    assert.ok(validateBootstrapServers('a:99999'));
    assert.ok(validateBootstrapServers('a:1,,b:2'));
  });
});

describe('environment checks parse what the tools print', () => {
  it('java -version', () => {
    assert.equal(parseJavaMajor('openjdk version "17.0.15" 2025-04-15'), 17);
    assert.equal(parseJavaMajor('java version "1.8.0_392"'), 8);
    assert.equal(parseJavaMajor('openjdk version "25" 2025-09-16'), 25);
    assert.equal(parseJavaMajor('nothing'), undefined);
  });
  it('python --version', () => {
    assert.deepEqual(parsePythonVersion('Python 3.11.7'), [3, 11]);
    assert.equal(parsePythonVersion('bash: python3: not found'), undefined);
  });
});

describe('ports: who holds a listening socket', () => {
  const table = [
    '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
    '   0: 0100007F:2384 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 123456 1 0000000000000000 100 0 0 10 0',
    '   1: 0100007F:2384 0100007F:D4C2 01 00000000:00000000 00:00000000 00000000     0        0 999999 1 0000000000000000 100 0 0 10 0',
    '   2: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 777 1 0000000000000000 100 0 0 10 0',
  ].join('\n');
  it('finds only LISTEN sockets of the port (9092 = 0x2384)', () => {
    assert.deepEqual([...listeningInodes([table], 9092)], ['123456']);
    assert.deepEqual([...listeningInodes([table], 8080)], ['777']);
    assert.deepEqual([...listeningInodes([table], 9093)], []);
  });
  it('names every socket of a port with its state, listening or not (what holds a port no process listens on)', () => {
    assert.deepEqual(socketsOnPort([table], 9092), ['LISTEN 127.0.0.1:9092 → 0.0.0.0:0', 'ESTABLISHED 127.0.0.1:9092 → 127.0.0.1:54466']);
    assert.deepEqual(socketsOnPort([table], 9093), []);
  });
  it('shows a java command line the way a person recognises it', () => {
    assert.equal(
      shortCommand('java -Xmx512m -XX:+UseG1GC -Dlog4j2.configurationFile=x -cp /a/*:/b kafka.Kafka /w/server.properties'),
      'java kafka.Kafka /w/server.properties',
    );
    assert.equal(shortCommand('python3 -m http.server 9092'), 'python3 -m http.server 9092');
  });
});

describe('KRaft node configuration', () => {
  it('single node: loopback listeners on the contract ports, replication 1', () => {
    const [node] = nodesFor('single', {});
    assert.deepEqual(node, { id: 1, port: 9092, controllerPort: 9093 });
    const props = serverProperties(node, [node], '/data');
    assert.match(props, /^process\.roles=broker,controller$/m);
    assert.match(props, /^controller\.quorum\.voters=1@127\.0\.0\.1:9093$/m);
    assert.match(props, /^listeners=PLAINTEXT:\/\/127\.0\.0\.1:9092,CONTROLLER:\/\/127\.0\.0\.1:9093$/m);
    assert.match(props, /^offsets\.topic\.replication\.factor=1$/m);
    assert.doesNotMatch(props, /0\.0\.0\.0|zookeeper/);
  });
  it('three nodes: 19092/29092/39092, replication 3, min ISR 2', () => {
    const nodes = nodesFor('cluster3', {});
    assert.equal(bootstrapFor('cluster3', {}), '127.0.0.1:19092,127.0.0.1:29092,127.0.0.1:39092');
    const props = serverProperties(nodes[1], nodes, '/d2');
    assert.match(props, /^node\.id=2$/m);
    assert.match(props, /^controller\.quorum\.voters=1@127\.0\.0\.1:19093,2@127\.0\.0\.1:29093,3@127\.0\.0\.1:39093$/m);
    assert.match(props, /^default\.replication\.factor=3$/m);
    assert.match(props, /^min\.insync\.replicas=2$/m);
  });
  it('cluster ids are 22 base64url characters that Kafka accepts', () => {
    for (let i = 0; i < 200; i++) {
      const id = newClusterId();
      assert.match(id, /^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
      assert.equal(Buffer.from(id, 'base64url').length, 16);
    }
  });
});

describe('cache folders', () => {
  it('an interrupted download is never taken for a good one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kfl-cache-'));
    mkdirSync(join(dir, 'libs'));
    writeFileSync(join(dir, 'libs', 'a.jar'), 'abc');
    assert.equal(isCompleteFolder(dir), false, 'no manifest yet');
    writeFileSync(join(dir, '.complete.json'), JSON.stringify({ files: { 'libs/a.jar': 3 } }));
    assert.equal(isCompleteFolder(dir), true);
    writeFileSync(join(dir, 'libs', 'a.jar'), 'ab');
    assert.equal(isCompleteFolder(dir), false, 'a truncated jar');
    rmSync(dir, { recursive: true, force: true });
  });
  it('lives outside the repository, overridable; run state lives in the workspace', () => {
    assert.equal(cacheRoot({ PIPELINE_CACHE_DIR: '/x/c' }), '/x/c');
    assert.equal(cacheRoot({ XDG_CACHE_HOME: '/xdg' }), '/xdg/kafka-flink-lab');
    assert.equal(stateRoot('/ws', {}), '/ws/.pipeline');
  });
  it('a change of requirements or Python version makes a new virtual environment', () => {
    const a = pythonEnvDir('apache-flink==2.2.1', '3.11', { PIPELINE_CACHE_DIR: '/c' });
    assert.notEqual(a, pythonEnvDir('apache-flink==2.2.2', '3.11', { PIPELINE_CACHE_DIR: '/c' }));
    assert.notEqual(a, pythonEnvDir('apache-flink==2.2.1', '3.12', { PIPELINE_CACHE_DIR: '/c' }));
    assert.equal(a, pythonEnvDir('apache-flink==2.2.1', '3.11', { PIPELINE_CACHE_DIR: '/c' }));
  });
});

describe('workspace settings are shared by the CLI and the extension', () => {
  it('parses VS Code settings files with comments and trailing commas', () => {
    const parsed = parseJsonc('{\n // a comment\n "a": "http://x//y", /* block */ "b": [1,2,],\n}') as Record<string, unknown>;
    assert.deepEqual(parsed, { a: 'http://x//y', b: [1, 2] });
  });
});

describe('pipeline process command lines', () => {
  it('the generator gets argv, never a shell string', () => {
    const args = generatorArgs({
      bootstrapServers: 'b:1',
      topic: 't',
      rate: 0,
      count: 5,
      sensors: 3,
      finalWatermark: true,
      malformedFraction: 0.1,
    });
    assert.match(args[0], /flink-jobs\/data_generator\.py$/);
    assert.deepEqual(args.slice(1), [
      '--bootstrap-servers',
      'b:1',
      '--topic',
      't',
      '--rate',
      '0',
      '--sensors',
      '3',
      '--count',
      '5',
      '--malformed-fraction',
      '0.1',
      '--final-watermark',
    ]);
  });
  it('the job gets its topic, output, window, group, connector jar and job library', () => {
    const args = jobArgs({
      bootstrapServers: 'b:1',
      topic: 't',
      output: '/o',
      windowSeconds: 10,
      groupId: 'g',
      jars: { connectorJar: '/c.jar', jobLibJar: '/j.jar', runtimeDir: '/r' },
      stateDir: '/s',
      restPort: 8081,
      checkpointSeconds: 5,
    });
    assert.match(args[0], /flink-jobs\/flink_job\.py$/);
    assert.deepEqual(args.slice(1), [
      '--bootstrap-servers',
      'b:1',
      '--topic',
      't',
      '--output',
      '/o',
      '--window',
      '10',
      '--group-id',
      'g',
      '--connector-jar',
      '/c.jar',
      '--job-lib-jar',
      '/j.jar',
      '--runtime-dir',
      '/r',
      '--state-dir',
      '/s',
      '--rest-port',
      '8081',
      '--checkpoint-interval',
      '5',
    ]);
  });
  it('the job started by `pipeline job start` restores from its savepoints too', () => {
    const args = jobArgs({
      bootstrapServers: 'b:1',
      topic: 't',
      output: '/o',
      windowSeconds: 10,
      groupId: 'g',
      jars: { connectorJar: '/c.jar', jobLibJar: '/j.jar' },
      stateDir: '/s',
      savepointDir: savepointDirOf('/ws', 't', {}),
      restPort: 8081,
    });
    assert.deepEqual(args.slice(-2), ['--savepoint-dir', '/ws/.pipeline/savepoints/t']);
  });
});

describe('the savepoint a new start continues from', () => {
  it('the newest savepoint when it is newer than every retained checkpoint, else none', () => {
    const workspace = mkdtempSync(join(tmpdir(), 'kfl-savepoints-'));
    const env = {};
    try {
      const saved = (dir: string, at: number) => {
        mkdirSync(dir, { recursive: true });
        writeFileSync(join(dir, '_metadata'), '');
        utimesSync(join(dir, '_metadata'), at / 1000, at / 1000);
      };
      assert.equal(resumableSavepoint(workspace, 'sensor-data', env), undefined, 'nothing saved');
      const checkpoints = join(stateRoot(workspace, env), 'flink', 'checkpoints', 'sensor-data', 'a'.repeat(32));
      saved(join(checkpoints, 'chk-3'), 1_000_000);
      assert.equal(resumableSavepoint(workspace, 'sensor-data', env), undefined, 'only a checkpoint');
      saved(join(savepointDirOf(workspace, 'sensor-data', env), 'savepoint-6a0b1d-older'), 500_000);
      assert.equal(resumableSavepoint(workspace, 'sensor-data', env), undefined, 'a savepoint older than the newest checkpoint');
      saved(join(savepointDirOf(workspace, 'sensor-data', env), 'savepoint-6a0b1d-newest'), 2_000_000);
      assert.match(resumableSavepoint(workspace, 'sensor-data', env)!.path, /savepoint-6a0b1d-newest$/);
      saved(join(checkpoints, 'chk-4'), 3_000_000);
      assert.equal(resumableSavepoint(workspace, 'sensor-data', env), undefined, 'the job ran on after it: a checkpoint is newest');
      assert.equal(resumableSavepoint(workspace, 'other-topic', env), undefined, 'per topic');
    } finally {
      rmSync(workspace, { recursive: true, force: true });
    }
  });
});
