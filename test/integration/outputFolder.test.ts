// One output folder for `pipeline job start` and `pipeline verify`, run from a folder other than the workspace, whether a setting or a flag names it.
import * as assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { argOf, PipelineProcess } from '../../src/local/pipelineProcesses';
import { pollUntil } from '../../src/local/proc';
import { pipeline, requireEnv, tempWorkspace, type CliRun } from '../support/cli';

describe('the output folder of job start and verify (real Kafka, real PyFlink)', function () {
  this.timeout(900_000);
  let bootstrap: string;
  let workspace: string;
  /** The current folder of every command: not the workspace. */
  let elsewhere: string;
  const ok = (run: CliRun) => assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
  const cli = (args: string[], timeoutMs = 300_000) => pipeline([...args, '--workspace', workspace], { cwd: elsewhere, timeoutMs });

  async function startJob(topic: string, extra: string[] = []): Promise<CliRun> {
    ok(await cli(['topic', 'create', topic, '--partitions', '1', '--bootstrap-servers', bootstrap]));
    const started = await cli([
      'job',
      'start',
      '--detach',
      '--topic',
      topic,
      '--window',
      '2',
      '--checkpoint-interval',
      '2',
      '--bootstrap-servers',
      bootstrap,
      ...extra,
    ]);
    ok(started);
    assert.match(
      started.stderr,
      /\) in the Flink cluster http:\/\/127\.0\.0\.1:8081…/,
      'without --flink, the job runs on the local session cluster',
    );
    return started;
  }

  /** The folder the job was started with (its process record), the one its start line names, and the one verify read. */
  async function foldersOf(started: CliRun, verifyFlags: string[] = []): Promise<{ job?: string; printed?: string; verified?: string }> {
    const record = new PipelineProcess(workspace, 'job').record();
    const verify = await cli(['verify', ...verifyFlags]);
    return {
      job: record ? argOf(record.args, '--output') : undefined,
      printed: / → (\/\S+) \(window/.exec(started.stderr)?.[1],
      verified: /^Output folder: (.+)$/m.exec(verify.stdout)?.[1],
    };
  }

  before(() => {
    bootstrap = requireEnv('PIPELINE_BOOTSTRAP');
    workspace = tempWorkspace('output-folder');
    elsewhere = tempWorkspace('elsewhere');
  });

  afterEach(async () => {
    await cli(['job', 'stop']);
  });

  // Without --flink the job runs on the default target, the local session cluster, which its first start brought up.
  after(async () => {
    if (workspace) ok(await cli(['flink', 'down']));
  });

  it('a setting of ${workspaceFolder}/out: the job writes there and verify reads it, from another folder', async () => {
    mkdirSync(join(workspace, '.vscode'));
    writeFileSync(join(workspace, '.vscode', 'settings.json'), JSON.stringify({ 'kafkaFlinkLab.outputFolder': '${workspaceFolder}/out' }));
    const topic = `it-output-setting-${Date.now().toString(36)}`;
    const started = await startJob(topic);
    const expected = join(workspace, 'out');
    assert.deepEqual(await foldersOf(started), { job: expected, printed: expected, verified: expected });

    // What the job commits is what verify counts there.
    ok(
      await cli(
        [
          'generate',
          '--rate',
          '0',
          '--count',
          '200',
          '--seed',
          '7',
          '--topic',
          topic,
          '--bootstrap-servers',
          bootstrap,
          '--final-watermark',
        ],
        120_000,
      ),
    );
    const report = await pollUntil(
      async () => {
        const run = await cli(['verify', '--json', '--expected', '200']);
        return run.code === 0 ? JSON.parse(run.stdout) : undefined;
      },
      180_000,
      2000,
    );
    assert.ok(report, `verify over ${expected}: ${(await cli(['verify'])).stdout}`);
    assert.equal(report.outputFolder, expected);
    assert.equal(report.eventCountSum + report.deadLetterRows, 200);
  });

  it('--output out: relative to the current folder for job start and verify alike', async () => {
    const topic = `it-output-flag-${Date.now().toString(36)}`;
    const started = await startJob(topic, ['--output', 'out']);
    const expected = join(elsewhere, 'out');
    assert.deepEqual(await foldersOf(started, ['--output', 'out']), { job: expected, printed: expected, verified: expected });
  });
});
