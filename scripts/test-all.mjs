#!/usr/bin/env node
// `npm test`: every suite, in order — static checks, unit (TypeScript), Java unit (the job library), Python unit,
// integration against a real broker and real PyFlink, e2e in real VS Code. `npm test -- unit|java|python|integration|e2e` runs one stage.
// Ends with one line "tests: N passed, M failed" and a non-zero exit when anything failed.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const only = process.argv[2];
const totals = { passed: 0, failed: 0 };
const failedStages = [];
const started = Date.now();

function run(label, command, args, options = {}) {
  const t = Date.now();
  console.log(`\n=== ${label}: ${command} ${args.join(' ')}`);
  const result = spawnSync(command, args, {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...options.env },
    encoding: 'utf8',
    maxBuffer: 512 * 1024 * 1024,
    timeout: options.timeoutMs ?? 30 * 60_000,
  });
  process.stdout.write(result.stdout ?? '');
  const out = result.stdout ?? '';
  const counts = options.count?.(out) ?? { passed: result.status === 0 ? 1 : 0, failed: result.status === 0 ? 0 : 1 };
  if (result.status !== 0 && counts.failed === 0) counts.failed = 1;
  totals.passed += counts.passed;
  totals.failed += counts.failed;
  if (result.status !== 0) failedStages.push(label);
  console.log(
    `=== ${label}: exit ${result.status ?? result.signal} in ${((Date.now() - t) / 1000).toFixed(1)} s (${counts.passed} passed, ${counts.failed} failed)`,
  );
  return { ok: result.status === 0, stdout: out };
}

/** Build, type and lint steps are not tests: they add a failure when they fail and nothing when they pass. */
const check = () => ({ passed: 0, failed: 0 });
const mochaCounts = (out) => ({ passed: Number(/(\d+) passing/.exec(out)?.[1] ?? 0), failed: Number(/(\d+) failing/.exec(out)?.[1] ?? 0) });
const pytestCounts = (out) => {
  // pytest -q ends with a bare "21 passed, 5 deselected in 19.7s"; without -q the same line is framed by "=".
  const line =
    out
      .split('\n')
      .reverse()
      .find((l) => /\d+ (passed|failed|errors?)\b/.test(l)) ?? '';
  return {
    passed: Number(/(\d+) passed/.exec(line)?.[1] ?? 0),
    failed: Number(/(\d+) failed/.exec(line)?.[1] ?? 0) + Number(/(\d+) error/.exec(line)?.[1] ?? 0),
  };
};
const e2eCounts = (out) => {
  const m = /e2e: (\d+) passed, (\d+) failed/.exec(out);
  return m ? { passed: Number(m[1]), failed: Number(m[2]) } : undefined;
};
/** Surefire writes one `<testsuite tests= failures= errors= skipped=>` report per test class. */
const surefireCounts = (dir) => {
  const totals = { passed: 0, failed: 0 };
  for (const name of existsSync(dir) ? readdirSync(dir).filter((n) => n.endsWith('.xml')) : []) {
    const head = /<testsuite [^>]*>/.exec(readFileSync(join(dir, name), 'utf8'))?.[0] ?? '';
    const attr = (a) => Number(new RegExp(`${a}="(\\d+)"`).exec(head)?.[1] ?? 0);
    const bad = attr('failures') + attr('errors');
    totals.failed += bad;
    totals.passed += attr('tests') - bad - attr('skipped');
  }
  return totals;
};
const mocha = (label, glob, env, timeoutMs) =>
  run(label, 'npx', ['mocha', '--reporter', 'spec', '--timeout', '600000', glob], { env, count: mochaCounts, timeoutMs });
const cli = (...args) =>
  spawnSync('node', ['dist/cli.js', ...args], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 60 * 60_000 });

function setupEngines() {
  const setup = cli('setup', '--json');
  if (setup.status !== 0) throw new Error('`pipeline setup` failed: the engines could not be prepared.');
  return JSON.parse(setup.stdout.trim().split('\n').pop());
}

const stages = {
  unit() {
    run('build', 'node', ['esbuild.mjs', '--tests'], { count: check });
    run('typecheck', 'npx', ['tsc', '--noEmit', '-p', 'tsconfig.json'], { count: check });
    run('lint', 'npx', ['eslint', 'src', 'test', 'webview-ui', 'scripts'], { count: check });
    run('format', 'npx', ['prettier', '--check', '.'], { count: check });
    mocha('unit', 'out/test/unit/**/*.test.js');
  },
  java() {
    // The job library's own tests (Maven Surefire); its build for the job is `pipeline setup`'s, in the cache.
    const reports = mkdtempSync(join(tmpdir(), 'kfl-job-lib-'));
    try {
      run('java unit (job library)', 'mvn', ['-B', '-q', '-f', 'flink-jobs/job-lib/pom.xml', 'test', `-Dlab.buildDirectory=${reports}`], {
        count: () => surefireCounts(join(reports, 'surefire-reports')),
      });
    } finally {
      rmSync(reports, { recursive: true, force: true });
    }
  },
  python() {
    const engines = setupEngines();
    run('ruff', engines.python, ['-m', 'ruff', 'check', 'flink-jobs'], { count: check });
    run('python unit', engines.python, ['-m', 'pytest', '-q', '-m', 'not integration', 'flink-jobs'], {
      count: pytestCounts,
      env: { PIPELINE_JOB_LIB_JAR: engines.jobLibJar },
    });
  },
  integration() {
    const engines = setupEngines();
    // The stack suite starts and stops its own brokers (one node, three nodes, failure cases).
    mocha('integration: local stack', 'out/test/integration/stack/**/*.test.js', {}, 30 * 60_000);
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
      mocha('integration: extension core + pipeline', 'out/test/integration/*.test.js', env, 40 * 60_000);
      run('integration: python (real broker, real PyFlink)', engines.python, ['-m', 'pytest', '-q', '-m', 'integration', 'flink-jobs'], {
        env,
        count: pytestCounts,
        timeoutMs: 40 * 60_000,
      });
    } finally {
      cli('job', 'stop', '--workspace', workspace);
      cli('stack', 'down', '--workspace', workspace);
      rmSync(workspace, { recursive: true, force: true });
    }
  },
  e2e() {
    run('e2e (real VS Code in code-server, real Chromium)', 'node', ['test/e2e/run.mjs'], { count: e2eCounts, timeoutMs: 30 * 60_000 });
  },
};

const order = only ? [only] : ['unit', 'java', 'python', 'integration', 'e2e'];
if (only && !stages[only]) {
  console.error(`Unknown stage "${only}": use one of ${Object.keys(stages).join(', ')}.`);
  process.exit(2);
}
if (only && only !== 'unit') run('build', 'node', ['esbuild.mjs', '--tests'], { count: check });
for (const stage of order) {
  try {
    stages[stage]();
  } catch (error) {
    totals.failed++;
    failedStages.push(`${stage}: ${error.message}`);
    console.error(error.message);
  }
}
console.log(
  `\nAll suites finished in ${((Date.now() - started) / 60000).toFixed(1)} min.${failedStages.length ? ` Failed: ${failedStages.join('; ')}` : ''}`,
);
console.log(`tests: ${totals.passed} passed, ${totals.failed} failed`);
process.exit(totals.failed > 0 || failedStages.length > 0 ? 1 : 0);
