import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from '../support/cli';

interface Verdict {
  ok: boolean;
  passed: number;
  failed: number;
  skipped: number;
  skipReasons: string[];
  problems: string[];
  stdout: string;
}
interface Counts {
  passed: number;
  failed: number;
  skipped: number;
  skipReasons: string[];
}
interface SuiteRunner {
  runMocha(label: string, files: string, options: { perTestMs: number; timeoutMs?: number; cwd?: string; quiet?: boolean }): Verdict;
  runSuite(
    label: string,
    command: string,
    args: string[],
    options: { count: (out: string) => Counts | undefined; quiet?: boolean },
  ): Verdict;
  pytestCounts(out: string): Counts | undefined;
  surefireCounts(dir: string): Counts | undefined;
  skipLine(reason: string, why?: string): string;
}

/** `npm test`'s rules, applied to throw-away suites run by the same code that runs the real ones. */
describe('the test runner (scripts/lib/suiteRunner.mjs) on throw-away suites', function () {
  // Each case starts a real mocha process.
  this.timeout(60_000);
  let runner: SuiteRunner;
  let dir: string;

  before(async () => {
    // Loaded at run time from the source tree: the runner is a plain script, not part of the bundle.
    runner = (await import(pathToFileURL(join(repoRoot, 'scripts', 'lib', 'suiteRunner.mjs')).href)) as SuiteRunner;
    dir = mkdtempSync(join(tmpdir(), 'kfl-runner-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function suite(name: string, body: string): string {
    const file = join(dir, `${name}.test.js`);
    writeFileSync(file, body);
    return file;
  }
  const mocha = (file: string, perTestMs = 2000, timeoutMs = 30_000) =>
    runner.runMocha('throw-away', file, { perTestMs, timeoutMs, cwd: repoRoot, quiet: true });

  it('passes a suite whose tests ran and passed, with its count', () => {
    const v = mocha(suite('good', `describe('s', () => { it('a', () => {}); it('b', () => {}); });`));
    assert.deepEqual([v.ok, v.passed, v.failed, v.problems], [true, 2, 0, []]);
  });

  it('fails a suite that runs no test, though mocha exits 0', () => {
    const v = mocha(suite('empty', `describe('nothing here', () => {});`));
    assert.equal(v.ok, false);
    assert.equal(v.failed, 1);
    assert.match(v.problems.join(' '), /ran no test/);
  });

  it('counts a skip, and fails it when it has no reason from the list', () => {
    const v = mocha(
      suite('skip', `describe('s', () => { it('runs', () => {}); it('skipped for no reason', function () { this.skip(); }); });`),
    );
    assert.equal(v.skipped, 1);
    assert.equal(v.passed, 1);
    assert.equal(v.ok, false);
    assert.match(v.problems.join(' '), /1 test skipped without a reason from the list \(other-os, not-as-root\)/);
  });

  it('accepts a skip that names a listed reason, and still counts it', () => {
    const line = JSON.stringify(runner.skipLine('other-os', 'macOS only'));
    const v = mocha(
      suite('reasoned', `describe('s', () => { it('runs', () => {}); it('mac', function () { console.log(${line}); this.skip(); }); });`),
    );
    assert.deepEqual([v.ok, v.passed, v.skipped, v.skipReasons], [true, 1, 1, ['other-os']]);
  });

  it('rejects a reason that is not on the list', () => {
    const line = JSON.stringify(runner.skipLine('no-broker', 'the broker is down'));
    const v = mocha(
      suite(
        'unlisted',
        `describe('s', () => { it('runs', () => {}); it('needs kafka', function () { console.log(${line}); this.skip(); }); });`,
      ),
    );
    assert.equal(v.ok, false);
    assert.match(v.problems.join(' '), /skipped without a reason/);
  });

  it('fails a hanging test after the short per-test timeout', () => {
    const started = Date.now();
    const v = mocha(suite('hang', `describe('s', () => { it('hangs', () => new Promise(() => {})); });`), 1000);
    assert.equal(v.ok, false);
    assert.equal(v.failed, 1);
    assert.match(v.stdout, /Timeout of 1000ms exceeded/);
    assert.ok(Date.now() - started < 20_000, 'stopped by the per-test timeout, not the suite timeout');
  });

  it('stops a suite that never exits and says so', () => {
    // The test passes, but a timer keeps the process alive: only the suite's own timeout ends it.
    const file = suite('linger', `describe('s', () => { it('leaves a timer', () => { setInterval(() => {}, 1000); }); });`);
    const v = mocha(file, 2000, 4000);
    assert.equal(v.ok, false);
    assert.match(v.problems.join(' '), /did not finish within 4 s and was stopped/);
    // Stopped with its children: npx's mocha must not live on.
    const left = spawnSync('pgrep', ['-f', file], { encoding: 'utf8' }).stdout.trim();
    assert.equal(left, '', `processes of the stopped suite are still running: ${left}`);
  });

  it('fails a runner that prints no count', () => {
    const v = runner.runSuite('silent', process.execPath, ['-e', 'process.exit(0)'], { count: () => undefined, quiet: true });
    assert.equal(v.ok, false);
    assert.match(v.problems.join(' '), /printed no test count/);
  });

  it('reads pytest: all skipped is no test run, a skip reason is the word before the colon', () => {
    const allSkipped = runner.pytestCounts('SKIPPED [2] tests/test_a.py:10: no broker\n2 skipped in 0.12s\n');
    assert.deepEqual(allSkipped, { passed: 0, failed: 0, skipped: 2, skipReasons: ['', ''] });
    const reasoned = runner.pytestCounts(
      'SKIPPED [1] tests/test_a.py:10: other-os: Windows paths\n3 passed, 1 skipped, 5 deselected in 1.0s\n',
    );
    assert.deepEqual(reasoned, { passed: 3, failed: 0, skipped: 1, skipReasons: ['other-os'] });
    assert.equal(runner.pytestCounts('ImportError: no module named pyflink\n'), undefined);
    const v = runner.runSuite('pytest', process.execPath, ['-e', 'console.log("2 skipped in 0.1s")'], {
      count: runner.pytestCounts,
      quiet: true,
    });
    assert.equal(v.ok, false);
    assert.match(v.problems.join(' '), /ran no test/);
  });

  it('reads Surefire: no report is no count, skipped tests are counted with their reason', () => {
    const reports = join(dir, 'surefire-reports');
    mkdirSync(reports, { recursive: true });
    assert.equal(runner.surefireCounts(reports), undefined);
    writeFileSync(
      join(reports, 'TEST-lab.SomeTest.xml'),
      '<?xml version="1.0"?>\n<testsuite name="lab.SomeTest" tests="3" failures="0" errors="0" skipped="1">\n' +
        '<testcase name="a"/><testcase name="b"/><testcase name="c"><skipped message="not-as-root: chmod"/></testcase></testsuite>\n',
    );
    assert.deepEqual(runner.surefireCounts(reports), { passed: 2, failed: 0, skipped: 1, skipReasons: ['not-as-root'] });
  });
});
