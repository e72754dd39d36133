import * as assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { generatorOptionsOf, jobOptionsOf, processCli as pipelineCommands } from '../../src/cli/processCli';
import { stackCli as stackCommands } from '../../src/cli/stackCli';
import { cliGenerateArgs, cliJobStartArgs, cliStackUpArgs } from '../../src/services/cliArgs';
import type { JobRuntime } from '../../src/local/flinkRuntime';
import { MAX_SENSORS, validateGroupId } from '../../src/config/validation';
import { cliContext, repoRoot } from '../support/cli';
import { UserError } from '../../src/shared/errors';

const base = { workspace: '/tmp/ws', topic: 'sensor-data', bootstrapServers: '127.0.0.1:9092', rate: 100, sensors: 10 };
const job = { bootstrapServers: '127.0.0.1:9092' };

describe('argv of the pipeline processes started in terminals', () => {
  it('the generator gets --flag=value arguments (a value starting with "-" can never become a flag)', () => {
    assert.deepEqual(cliGenerateArgs({ ...base, topic: '-weird.topic_1' }), [
      'generate',
      '--topic=-weird.topic_1',
      '--bootstrap-servers=127.0.0.1:9092',
      '--rate=100',
      '--sensors=10',
      '--workspace=/tmp/ws',
    ]);
    assert.deepEqual(cliGenerateArgs({ ...base, durationSeconds: 30 }).slice(5, 6), ['--duration=30']);
  });

  for (const topic of ['sensor data', 'x;rm -rf ~', '$(reboot)', 'a|b', '`id`', 'a&b', "it's", 'a>b', 'a\nb', '']) {
    it(`refuses the topic ${JSON.stringify(topic)} before anything reaches a terminal`, () => {
      assert.throws(() => cliGenerateArgs({ ...base, topic }), UserError);
      assert.throws(
        () => cliJobStartArgs({ ...job, workspace: '/tmp/ws', topic, outputDir: '/tmp/out', windowSeconds: 10, groupId: 'g' }),
        UserError,
      );
    });
  }

  it('refuses bad numbers, addresses and group ids', () => {
    assert.throws(() => cliGenerateArgs({ ...base, rate: -1 }), /rate/);
    assert.throws(() => cliGenerateArgs({ ...base, sensors: 0 }), /sensors/);
    assert.throws(() => cliGenerateArgs({ ...base, sensors: 2.5 }), /sensors/);
    assert.throws(() => cliGenerateArgs({ ...base, count: 10, durationSeconds: 5 }), /not both/);
    assert.throws(
      () => cliJobStartArgs({ ...job, workspace: '/tmp/ws', topic: 't', outputDir: '/tmp/out', windowSeconds: 0, groupId: 'g' }),
      /window/,
    );
    assert.throws(
      () => cliJobStartArgs({ ...job, workspace: '/tmp/ws', topic: 't', outputDir: 'a\nb', windowSeconds: 5, groupId: 'g' }),
      /line breaks/,
    );
    assert.throws(
      () => cliJobStartArgs({ ...job, workspace: '/tmp/ws', topic: 't', outputDir: 'out', windowSeconds: 5, groupId: 'g' }),
      /absolute path \(got out\)/,
    );
    assert.ok(validateGroupId('flink sensor'));
    assert.equal(validateGroupId('flink-sensor-processor'), undefined);
  });

  it('the job gets topic, cluster, output, window and group; the stack follows the broker log', () => {
    assert.deepEqual(
      cliJobStartArgs({
        ...job,
        workspace: '/w',
        topic: 'sensor-data',
        outputDir: '/w/output',
        windowSeconds: 10,
        groupId: 'flink-sensor-processor',
      }),
      [
        'job',
        'start',
        '--topic=sensor-data',
        '--bootstrap-servers=127.0.0.1:9092',
        '--output=/w/output',
        '--window=10',
        '--group-id=flink-sensor-processor',
        '--workspace=/w',
      ],
    );
    assert.deepEqual(
      cliJobStartArgs({ ...job, workspace: '/w', topic: 't', outputDir: '/o', windowSeconds: 5, groupId: 'g', restPort: 18081 }).at(-2),
      '--rest-port=18081',
    );
    assert.deepEqual(cliStackUpArgs('/w'), ['stack', 'up', '--follow', '--workspace=/w']);
    assert.deepEqual(cliStackUpArgs('/w', { brokers: 3, follow: false }), ['stack', 'up', '--brokers=3', '--workspace=/w']);
  });
});

describe('the argv the extension builds is what the pipeline CLI accepts', () => {
  // The CLI's own flag tables: a renamed or removed flag fails here, not in a user's terminal.
  const commands = { ...stackCommands, ...pipelineCommands };

  function parse(argv: string[]) {
    const key = commands[argv.slice(0, 2).join(' ')] ? argv.slice(0, 2).join(' ') : argv[0];
    const command = commands[key];
    assert.ok(command, `the CLI has a "${key}" command`);
    const rest = argv.slice(key.split(' ').length);
    return { ...parseArgs({ args: rest, options: command.options, allowPositionals: true, strict: true }).values };
  }

  it('stack up --follow', () => {
    assert.deepEqual(parse(cliStackUpArgs('/w')), { follow: true, workspace: '/w' });
  });

  it('generate', () => {
    const values = parse(cliGenerateArgs({ ...base, topic: '-t', durationSeconds: 60 }));
    assert.deepEqual(values, {
      topic: '-t',
      'bootstrap-servers': '127.0.0.1:9092',
      rate: '100',
      sensors: '10',
      duration: '60',
      workspace: '/tmp/ws',
    });
  });

  it('job start', () => {
    const values = parse(
      cliJobStartArgs({
        ...job,
        workspace: '/w',
        topic: 'sensor-data',
        outputDir: '/w/out',
        windowSeconds: 30,
        groupId: 'flink-sensor-processor',
        restPort: 8081,
      }),
    );
    assert.deepEqual(values, {
      topic: 'sensor-data',
      'bootstrap-servers': '127.0.0.1:9092',
      output: '/w/out',
      window: '30',
      'group-id': 'flink-sensor-processor',
      'rest-port': '8081',
      workspace: '/w',
    });
  });
});

describe('the pipeline CLI checks its input as the extension does', () => {
  const workspace = mkdtempSync(join(tmpdir(), 'kfl-cli-checks-'));
  after(() => rmSync(workspace, { recursive: true, force: true }));
  const ctx = (values: Record<string, string | boolean>) => cliContext(workspace, values);
  const jars: JobRuntime = { connectorJar: '/c.jar', jobLibJar: '/j.jar', runtimeDir: '/r' };

  it('--group-id: the rule of the setting job.groupId', async () => {
    for (const bad of ['flink sensor', 'g;rm -rf ~', '', 'x'.repeat(250)]) {
      await assert.rejects(
        jobOptionsOf(ctx({ 'group-id': bad }), jars),
        (e: Error) => e instanceof UserError && e.message === `--group-id: ${validateGroupId(bad)}`,
      );
      assert.throws(
        () => cliJobStartArgs({ ...job, workspace: '/w', topic: 't', outputDir: '/o', windowSeconds: 5, groupId: bad }),
        (e: Error) => e.message === validateGroupId(bad),
      );
    }
    assert.equal((await jobOptionsOf(ctx({ 'group-id': 'my.group_1-a' }), jars)).groupId, 'my.group_1-a');
  });

  it('one sensor limit: the setting, the prompt and --sensors', () => {
    const declared = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).contributes.configuration.properties[
      'kafkaFlinkLab.generator.sensors'
    ];
    assert.equal(declared.maximum, MAX_SENSORS);
    assert.equal(generatorOptionsOf(ctx({ sensors: String(MAX_SENSORS) })).sensors, MAX_SENSORS);
    assert.deepEqual(
      cliGenerateArgs({ ...base, sensors: MAX_SENSORS }).find((a) => a.startsWith('--sensors=')),
      `--sensors=${MAX_SENSORS}`,
    );
    assert.throws(() => generatorOptionsOf(ctx({ sensors: String(MAX_SENSORS + 1) })), new RegExp(`at most ${MAX_SENSORS}`));
    assert.throws(() => cliGenerateArgs({ ...base, sensors: MAX_SENSORS + 1 }), new RegExp(`at most ${MAX_SENSORS}`));
  });
});
