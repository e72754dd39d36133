import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { expectationOfTopic, judge } from '../../src/cli/chaos/oracleSources';
import { describePortHolder, isPortFree, waitForPortFree } from '../../src/local/ports';
import { isAlive } from '../../src/local/proc';
import { cliPath, pipeline, requireEnv } from '../support/cli';

/**
 * The headless end to end through the CLI, against the broker the test runner started and real PyFlink. The judge of
 * exactly-once is the test's own oracle (the input topic read from its start, per sensor and window, against the
 * committed files); `pipeline verify`, a product feature, is checked against it.
 */
describe('pipeline run (real Kafka, real PyFlink, DuckDB verify)', function () {
  this.timeout(900_000);
  let workspace: string;
  let bootstrap: string;

  before(() => {
    bootstrap = requireEnv('PIPELINE_BOOTSTRAP');
    workspace = requireEnv('PIPELINE_TEST_WORKSPACE');
  });

  it('counts 100,000 events exactly once, with CSV and JSON holding the same rows; verify agrees with the oracle, also on a doubled file', async () => {
    const topic = `it-run-100k-${Date.now().toString(36)}`;
    const output = join(workspace, 'output', topic);
    const run = await pipeline(
      ['run', '--events', '100000', '--window', '10', '--workspace', workspace, '--topic', topic, '--output', output],
      {
        timeoutMs: 840_000,
      },
    );
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /VERIFY OK/);
    assert.match(run.stdout, /sensor-009\s+\d+/);
    const expected = await expectationOfTopic(bootstrap, topic, 10_000);
    const oracle = judge(expected, output);
    assert.deepEqual(
      [oracle.events, oracle.csv.lost, oracle.json.lost, oracle.duplicated, expected.controlRecords],
      [100_000, 0, 0, 0, 3],
      oracle.notes.join('; '),
    );
    const verify = await pipeline(['verify', '--output', output, '--expected', '100000', '--json']);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    const report = JSON.parse(verify.stdout);
    assert.equal(report.eventCountSum + report.deadLetterRows, oracle.committed);
    assert.equal(report.duplicateWindowCount, 0);
    assert.equal(report.csvRows, report.jsonRows);
    assert.equal(report.csvJsonMismatch, 0);
    assert.ok(report.csvFiles > 0 && report.jsonFiles > 0);
    const files = readdirSync(join(output, 'aggregates'), { recursive: true })
      .map(String)
      .filter((f) => !f.split('/').some((part) => part.startsWith('.')));
    assert.ok(files.some((f) => f.endsWith('.csv')) && files.some((f) => f.endsWith('.jsonl')));
    assert.ok(await isPortFree(8081), 'the job was stopped at the end');

    // One committed CSV and one JSON-lines file copied to new committed names: both judges must see the doubling.
    const copies = [files.find((f) => f.endsWith('.csv'))!, files.find((f) => f.endsWith('.jsonl'))!].map((f) => {
      const copy = join(output, 'aggregates', f.replace(/(\.\w+)$/, '-copy$1'));
      copyFileSync(join(output, 'aggregates', f), copy);
      return copy;
    });
    try {
      const doubled = judge(expected, output);
      assert.ok(doubled.csv.duplicated > 0 && doubled.json.duplicated > 0, JSON.stringify(doubled));
      assert.equal(doubled.lost, 0);
      const verifyDoubled = await pipeline(['verify', '--output', output, '--expected', '100000', '--json']);
      assert.notEqual(verifyDoubled.code, 0, verifyDoubled.stdout);
      const r = JSON.parse(verifyDoubled.stdout);
      assert.ok(r.duplicateWindowCount > 0, verifyDoubled.stdout);
      assert.ok(r.eventCountSum + r.deadLetterRows > 100_000, 'verify counts extra events too');
    } finally {
      for (const copy of copies) rmSync(copy, { force: true });
    }
  });

  it('stops everything it started on Ctrl-C', async () => {
    const child = spawn(
      process.execPath,
      [cliPath, 'run', '--events', '50000000', '--workspace', workspace, '--topic', 'it-run-interrupt'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (c) => (output += c));
    child.stderr.on('data', (c) => (output += c));
    const deadline = Date.now() + 240_000;
    while (!/sent=\d+/.test(output) && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 500));
    assert.match(output, /sent=\d+/, `the generator was running: ${output.slice(-2000)}`);
    const jobRecord = join(workspace, '.pipeline/flink/job.json');
    assert.ok(existsSync(jobRecord), 'the job is tracked while it runs');
    const jobPid = JSON.parse(readFileSync(jobRecord, 'utf8')).pid as number;
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.notEqual(code, 0);
    assert.equal(isAlive(jobPid), false, 'the Flink job process is gone');
    assert.equal(existsSync(jobRecord), false);
    assert.equal(existsSync(join(workspace, '.pipeline/generator/generator.json')), false);
    assert.ok(
      await waitForPortFree(8081, 15_000),
      `Flink REST port released within 15 s (held by ${describePortHolder(8081)}; output: ${output.slice(-1500)})`,
    );
    const status = await pipeline(['stack', 'status', '--json', '--workspace', workspace]);
    assert.equal(JSON.parse(status.stdout).state, 'up', 'the broker it did not start keeps running');
  });
});
