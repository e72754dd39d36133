import * as assert from 'node:assert/strict';
import { cliJobReplayArgs, cliJobStartArgs } from '../../src/services/cliArgs';
import { clusterConfig, DEFAULT_CLUSTER_SHAPE } from '../../src/local/flinkCluster';
import { parseFlinkTarget } from '../../src/flink/flinkJobs';
import { parseReplayStart } from '../../src/kafka/offsetReset';
import { argOf, jobArgs, restUrlOfJob } from '../../src/local/pipelineProcesses';
import { decodeProcAddress, isLoopback } from '../../src/local/sockets';

const LOCAL = 'http://127.0.0.1:8081';

describe('Flink session cluster', () => {
  it('binds every server of its config to 127.0.0.1 and keeps the distribution’s JVM options', () => {
    const yaml = clusterConfig(
      DEFAULT_CLUSTER_SHAPE,
      { savepoints: '/ws/.pipeline/savepoints', tmp: '/ws/.pipeline/flink-cluster/tmp' },
      '--add-opens=java.base/java.lang=ALL-UNNAMED',
    );
    const conf = Object.fromEntries(
      yaml
        .trim()
        .split('\n')
        .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]),
    );
    for (const key of [
      'jobmanager.rpc.address',
      'jobmanager.bind-host',
      'taskmanager.host',
      'taskmanager.bind-host',
      'rest.address',
      'rest.bind-address',
    ])
      assert.equal(conf[key], '127.0.0.1', key);
    assert.equal(conf['rest.port'], '8081');
    assert.equal(conf['web.submit.enable'], 'false');
    assert.equal(conf['taskmanager.numberOfTaskSlots'], '2');
    assert.match(
      conf['env.java.opts.all'],
      /^"--add-opens=java.base\/java.lang=ALL-UNNAMED -Djava.io.tmpdir=\/ws\/.pipeline\/flink-cluster\/tmp"$/,
    );
    assert.equal(conf['state.savepoints.dir'], '"file:///ws/.pipeline/savepoints"');
  });

  it('reads where the job runs from the setting or --flink: the local cluster unless it says otherwise', () => {
    assert.deepEqual(parseFlinkTarget(undefined, LOCAL).target, { kind: 'local-cluster', url: LOCAL });
    assert.deepEqual(parseFlinkTarget('  ', LOCAL).target, { kind: 'local-cluster', url: LOCAL });
    assert.deepEqual(parseFlinkTarget('embedded', LOCAL).target, { kind: 'embedded' });
    assert.deepEqual(parseFlinkTarget('local-cluster', LOCAL).target, { kind: 'local-cluster', url: LOCAL });
    assert.deepEqual(parseFlinkTarget('http://localhost:8081/', LOCAL).target, { kind: 'local-cluster', url: LOCAL });
    assert.deepEqual(parseFlinkTarget('https://flink.example:443', LOCAL).target, { kind: 'remote', url: 'https://flink.example:443' });
    assert.match(parseFlinkTarget('ftp://x', LOCAL).error!, /embedded, local-cluster or a REST URL/);
    assert.match(parseFlinkTarget('cluster', LOCAL).error!, /not a URL/);
  });

  it('passes the target, a savepoint and fresh state to the job, and finds its REST address again', () => {
    const jars = { connectorJar: '/c.jar', jobLibJar: '/j.jar', runtimeDir: '/r' };
    const args = jobArgs({
      bootstrapServers: 'b:1',
      topic: 't',
      output: '/o',
      windowSeconds: 10,
      groupId: 'g',
      jars,
      stateDir: '/s',
      restPort: 8081,
      flink: 'http://h:8081',
      shipJars: true,
      fromSavepoint: '/sp',
      noRestore: true,
    });
    assert.deepEqual(args.slice(-6), ['--flink', 'http://h:8081', '--ship-jars', '--from-savepoint', '/sp', '--no-restore']);
    assert.equal(argOf(args, '--from-savepoint'), '/sp');
    assert.equal(restUrlOfJob(args), 'http://h:8081');
    assert.equal(
      restUrlOfJob(
        jobArgs({
          bootstrapServers: 'b:1',
          topic: 't',
          output: '/o',
          windowSeconds: 10,
          groupId: 'g',
          jars,
          stateDir: '/s',
          restPort: 8282,
        }),
      ),
      'http://127.0.0.1:8282',
    );
  });

  it('replays from the beginning, a time or offsets, and refuses anything else', () => {
    assert.deepEqual(parseReplayStart('earliest'), { kind: 'earliest' });
    assert.deepEqual(parseReplayStart('2026-12-04T10:00:00Z'), { kind: 'timestamp', timestampMs: Date.UTC(2026, 11, 4, 10) });
    assert.deepEqual(parseReplayStart('1764064800000'), { kind: 'timestamp', timestampMs: 1764064800000 });
    assert.deepEqual(parseReplayStart('0:120,1:98,2:130'), {
      kind: 'offsets',
      offsets: [
        [0, 120],
        [1, 98],
        [2, 130],
      ],
    });
    for (const bad of ['latest', 'yesterday', '0:1,x', '12']) assert.throws(() => parseReplayStart(bad), /is not earliest, a time/);
    const base = {
      workspace: '/w',
      topic: 'sensor-data',
      bootstrapServers: '127.0.0.1:9092',
      outputDir: '/w/output/runs/20261204T100000',
      windowSeconds: 5,
      groupId: 'g',
      flink: 'local-cluster',
    };
    assert.deepEqual(cliJobReplayArgs({ ...base, from: 'earliest' }), [
      'job',
      'replay',
      '--from=earliest',
      ...cliJobStartArgs(base).slice(2),
    ]);
    assert.throws(() => cliJobReplayArgs({ ...base, from: 'soon' }), /is not earliest/);
  });

  it('reads listening addresses as /proc/net/tcp{,6} print them', () => {
    assert.deepEqual(decodeProcAddress('0100007F:1F91'), { address: '127.0.0.1', port: 8081 });
    assert.deepEqual(decodeProcAddress('00000000:1F91'), { address: '0.0.0.0', port: 8081 });
    assert.deepEqual(decodeProcAddress('0000000000000000FFFF00000100007F:1F91'), { address: '::ffff:127.0.0.1', port: 8081 });
    assert.deepEqual(decodeProcAddress('00000000000000000000000001000000:1F91'), { address: '::1', port: 8081 });
    assert.deepEqual(decodeProcAddress('00000000000000000000000000000000:1F91'), { address: '::', port: 8081 });
    assert.deepEqual(['127.0.0.1', '::1', '::ffff:127.0.0.1', '0.0.0.0', '::', '10.0.0.2'].map(isLoopback), [
      true,
      true,
      true,
      false,
      false,
      false,
    ]);
  });
});
