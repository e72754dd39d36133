#!/usr/bin/env node
// `npm test`: every suite, in order — static checks, unit (TypeScript), Java unit (the job library), Python unit,
// integration against a real broker and real PyFlink, e2e in real VS Code. `npm test -- unit|java|python|integration|e2e` runs one stage.
// A suite fails when it ran no test, printed no count, or skipped a test without an allowed reason (scripts/lib/suiteRunner.mjs).
// Ends with the counts per suite, "skipped: K" and "tests: N passed, M failed", and a non-zero exit when anything failed.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { e2eCounts, pytestCounts, runMocha, runSuite, SKIP_REASONS, surefireCounts } from './lib/suiteRunner.mjs';

const root = new URL('..', import.meta.url).pathname;
const only = process.argv[2];
const totals = { passed: 0, failed: 0, skipped: 0 };
const failedStages = [];
const suiteLines = [];
const started = Date.now();

/** Build, type and lint steps are not tests: they add a failure when they fail and nothing when they pass. */
function step(label, command, args) {
  const t = Date.now();
  console.log(`\n=== ${label}: ${command} ${args.join(' ')}`);
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', timeout: 10 * 60_000 });
  console.log(`=== ${label}: exit ${result.status ?? result.signal} in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  if (result.status !== 0) {
    totals.failed++;
    failedStages.push(label);
  }
}

/** Adds a suite's verdict (see scripts/lib/suiteRunner.mjs) to the totals. */
function tally(label, verdict) {
  totals.passed += verdict.passed;
  totals.failed += verdict.failed;
  totals.skipped += verdict.skipped;
  if (!verdict.ok) failedStages.push(label);
  suiteLines.push(`  ${label}: ${verdict.passed} passed, ${verdict.failed} failed, ${verdict.skipped} skipped`);
}

const suite = (label, command, args, options) => tally(label, runSuite(label, command, args, { cwd: root, ...options }));
/** Unit tests get seconds per test; the integration suites set their own long timeouts (`this.timeout`) where they need them. */
const mocha = (label, glob, { env, perTestMs, timeoutMs }) => tally(label, runMocha(label, glob, { cwd: root, env, perTestMs, timeoutMs }));
const cli = (...args) =>
  spawnSync('node', ['dist/cli.js', ...args], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 60 * 60_000 });

function setupEngines() {
  const setup = cli('setup', '--json');
  if (setup.status !== 0) throw new Error('`pipeline setup` failed: the engines could not be prepared.');
  return JSON.parse(setup.stdout.trim().split('\n').pop());
}

const stages = {
  unit() {
    step('build', 'node', ['esbuild.mjs', '--tests']);
    step('typecheck', 'npx', ['tsc', '--noEmit', '-p', 'tsconfig.json']);
    step('lint', 'npx', ['eslint', 'src', 'test', 'webview-ui', 'scripts']);
    step('format', 'npx', ['prettier', '--check', '.']);
    mocha('unit', 'out/test/unit/**/*.test.js', { perTestMs: 5000, timeoutMs: 10 * 60_000 });
  },
  java() {
    // The job library's own tests (Maven Surefire); its build for the job is `pipeline setup`'s, in the cache.
    const reports = mkdtempSync(join(tmpdir(), 'kfl-job-lib-'));
    try {
      suite('java unit (job library)', 'mvn', ['-B', '-q', '-f', 'flink-jobs/job-lib/pom.xml', 'test', `-Dlab.buildDirectory=${reports}`], {
        count: () => surefireCounts(join(reports, 'surefire-reports')),
      });
    } finally {
      rmSync(reports, { recursive: true, force: true });
    }
  },
  python() {
    const engines = setupEngines();
    step('ruff', engines.python, ['-m', 'ruff', 'check', 'flink-jobs']);
    suite('python unit', engines.python, ['-m', 'pytest', '-q', '-rs', '-m', 'not integration', 'flink-jobs'], {
      count: pytestCounts,
      env: { PIPELINE_JOB_LIB_JAR: engines.jobLibJar },
    });
  },
  integration() {
    const engines = setupEngines();
    // The stack suite starts and stops its own brokers (one node, three nodes, failure cases).
    mocha('integration: local stack', 'out/test/integration/stack/**/*.test.js', { perTestMs: 120_000, timeoutMs: 30 * 60_000 });
    // Everything else shares one broker started here like a user would.
    const workspace = mkdtempSync(join(tmpdir(), 'kfl-integration-'));
    const env = {
      PIPELINE_BOOTSTRAP: '127.0.0.1:9092',
      PIPELINE_CONNECTOR_JAR: engines.connectorJar,
      PIPELINE_JOB_LIB_JAR: engines.jobLibJar,
      PIPELINE_FLINK_RUNTIME: engines.flinkRuntime,
      PIPELINE_PYTHON_ENV: engines.python,
      PIPELINE_TEST_WORKSPACE: workspace,
    };
    const up = cli('stack', 'up', '--workspace', workspace);
    if (up.status !== 0) {
      totals.failed++;
      failedStages.push('integration: shared broker did not start');
      return;
    }
    try {
      mocha('integration: extension core + pipeline', 'out/test/integration/*.test.js', {
        env,
        perTestMs: 120_000,
        timeoutMs: 40 * 60_000,
      });
      suite(
        'integration: python (real broker, real PyFlink)',
        engines.python,
        ['-m', 'pytest', '-q', '-rs', '-m', 'integration', 'flink-jobs'],
        {
          env,
          count: pytestCounts,
          timeoutMs: 40 * 60_000,
        },
      );
    } finally {
      cli('job', 'stop', '--workspace', workspace);
      cli('stack', 'down', '--workspace', workspace);
      rmSync(workspace, { recursive: true, force: true });
    }
  },
  e2e() {
    suite('e2e (real VS Code in code-server, real Chromium)', 'node', ['test/e2e/run.mjs'], { count: e2eCounts, timeoutMs: 30 * 60_000 });
  },
};

const order = only ? [only] : ['unit', 'java', 'python', 'integration', 'e2e'];
if (only && !stages[only]) {
  console.error(`Unknown stage "${only}": use one of ${Object.keys(stages).join(', ')}.`);
  process.exit(2);
}
if (only && only !== 'unit') step('build', 'node', ['esbuild.mjs', '--tests']);
for (const stage of order) {
  try {
    stages[stage]();
  } catch (error) {
    totals.failed++;
    failedStages.push(`${stage}: ${error.message}`);
    console.error(error.message);
  }
}
console.log(`\nPer suite:\n${suiteLines.join('\n')}`);
console.log(`Skips are allowed only with a reason from: ${Object.keys(SKIP_REASONS).join(', ')}.`);
console.log(
  `\nAll suites finished in ${((Date.now() - started) / 60000).toFixed(1)} min.${failedStages.length ? ` Failed: ${failedStages.join('; ')}` : ''}`,
);
console.log(`skipped: ${totals.skipped}`);
console.log(`tests: ${totals.passed} passed, ${totals.failed} failed`);
process.exit(totals.failed > 0 || failedStages.length > 0 ? 1 : 0);
