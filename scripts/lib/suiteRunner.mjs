// How `npm test` runs one suite and decides whether it passed: counts read from the runner's own output, a suite
// that ran nothing or printed no count fails, skips are counted and fail unless they carry a reason from SKIP_REASONS.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The only reasons a test may skip. What a test needs (kcat, the broker, Flink, the gateway) is installed or started by
 * the suite, never a reason to skip. A test names its reason by printing `skipLine(reason, why)` just before it skips
 * (mocha) or by starting its skip message with `reason:` (pytest, JUnit).
 */
export const SKIP_REASONS = {
  'other-os': 'the behaviour exists only on another operating system',
  'not-as-root': 'the check needs a user that file permissions apply to, and the tests run as root',
};

const SKIP_MARK = 'test-skip-reason:';

/** The line a mocha test prints before `this.skip()`. */
export function skipLine(reason, why = '') {
  return `${SKIP_MARK} ${reason}${why ? ` — ${why}` : ''}`;
}

/** Reasons named on `test-skip-reason:` lines (mocha), in order. */
function markedReasons(out) {
  return [...out.matchAll(new RegExp(`${SKIP_MARK} ([\\w-]+)`, 'g'))].map((m) => m[1]);
}

/** Mocha's spec reporter ends with "N passing", then "N pending" and "N failing" when there are any. */
export function mochaCounts(out) {
  const passing = /(\d+) passing/.exec(out);
  if (!passing) return undefined;
  const skipped = Number(/(\d+) pending/.exec(out)?.[1] ?? 0);
  const reasons = markedReasons(out);
  return {
    passed: Number(passing[1]),
    failed: Number(/(\d+) failing/.exec(out)?.[1] ?? 0),
    skipped,
    // A pending test without a printed reason (it.skip, a bare this.skip()) has none.
    skipReasons: [...reasons.slice(0, skipped), ...Array(Math.max(0, skipped - reasons.length)).fill('')],
  };
}

/**
 * pytest ends with "21 passed, 2 skipped, 5 deselected in 19.7s" (framed by "=" without -q); with `-rs` it lists each
 * skip first as "SKIPPED [n] file:line: reason".
 */
export function pytestCounts(out) {
  const lines = out.split('\n');
  const last = [...lines].reverse().find((l) => /\d+ (passed|failed|errors?|skipped|deselected)\b|no tests ran/.test(l));
  if (last === undefined) return undefined;
  const n = (word) => Number(new RegExp(`(\\d+) ${word}`).exec(last)?.[1] ?? 0);
  const skipReasons = lines.flatMap((l) => {
    const m = /^SKIPPED \[(\d+)\] [^:]+:\d+: (?:Skipped: )?(.*)$/.exec(l);
    return m ? Array(Number(m[1])).fill(/^([\w-]+):/.exec(m[2])?.[1] ?? '') : [];
  });
  const skipped = n('skipped');
  return {
    passed: n('passed'),
    failed: n('failed') + n('errors?'),
    skipped,
    skipReasons: [...skipReasons.slice(0, skipped), ...Array(Math.max(0, skipped - skipReasons.length)).fill('')],
  };
}

/** Surefire writes one report per test class: `<testsuite tests= failures= errors= skipped=>`, `<skipped message=…>` per skip. */
export function surefireCounts(dir) {
  const names = existsSync(dir) ? readdirSync(dir).filter((n) => /^TEST-.*\.xml$/.test(n)) : [];
  if (names.length === 0) return undefined;
  const counts = { passed: 0, failed: 0, skipped: 0, skipReasons: [] };
  for (const name of names) {
    const xml = readFileSync(join(dir, name), 'utf8');
    const head = /<testsuite [^>]*>/.exec(xml)?.[0] ?? '';
    const attr = (a) => Number(new RegExp(`\\b${a}="(\\d+)"`).exec(head)?.[1] ?? 0);
    const bad = attr('failures') + attr('errors');
    counts.failed += bad;
    counts.skipped += attr('skipped');
    counts.passed += attr('tests') - bad - attr('skipped');
    for (const m of xml.matchAll(/<skipped(?: message="([^"]*)")?/g)) counts.skipReasons.push(/^([\w-]+):/.exec(m[1] ?? '')?.[1] ?? '');
  }
  return counts;
}

/** The e2e runner's last line: "e2e: N passed, M failed". */
export function e2eCounts(out) {
  const m = /e2e: (\d+) passed, (\d+) failed/.exec(out);
  return m ? { passed: Number(m[1]), failed: Number(m[2]), skipped: 0, skipReasons: [] } : undefined;
}

/**
 * A suite's verdict from its exit and its counts: any problem (a sentence for the log) makes it fail, and a suite with
 * a problem but no failing test counts one failure, so a suite that ran nothing is never "0 failed".
 */
export function judge(label, { status, signal, timedOutAfterMs }, counts) {
  const problems = [];
  if (timedOutAfterMs) problems.push(`${label} did not finish within ${Math.round(timedOutAfterMs / 1000)} s and was stopped.`);
  else if (status !== 0) problems.push(`${label} exited ${status ?? signal}.`);
  if (!counts) problems.push(`${label} printed no test count, so what ran is unknown.`);
  else if (counts.passed + counts.failed === 0) problems.push(`${label} ran no test.`);
  const unexplained = (counts?.skipReasons ?? []).filter((r) => !SKIP_REASONS[r]).length;
  if (unexplained > 0)
    problems.push(
      `${label}: ${unexplained} test${unexplained > 1 ? 's' : ''} skipped without a reason from the list (${Object.keys(SKIP_REASONS).join(', ')}).`,
    );
  const c = counts ?? { passed: 0, failed: 0, skipped: 0, skipReasons: [] };
  const failed = c.failed + (problems.length > 0 && c.failed === 0 ? 1 : 0);
  return { passed: c.passed, failed, skipped: c.skipped, skipReasons: c.skipReasons, problems };
}

/**
 * Runs one suite (stdout captured and echoed, stderr passed through) and judges it. `count(stdout)` reads the
 * runner's counts, or undefined when it printed none.
 */
export function runSuite(label, command, args, { cwd, env, count, timeoutMs = 30 * 60_000, quiet = false } = {}) {
  const started = Date.now();
  if (!quiet) console.log(`\n=== ${label}: ${command} ${args.join(' ')}`);
  // Through coreutils' timeout, which runs the suite in a process group of its own and, when time is up, signals the
  // whole group (TERM, then KILL 10 s later): a runner's children (npx → mocha, mvn → java) go with it.
  const seconds = Math.max(1, Math.ceil(timeoutMs / 1000));
  const result = spawnSync('timeout', ['--kill-after=10s', `${seconds}s`, command, ...args], {
    cwd,
    stdio: ['ignore', 'pipe', quiet ? 'pipe' : 'inherit'],
    env: { ...process.env, ...env },
    encoding: 'utf8',
    maxBuffer: 512 * 1024 * 1024,
    timeout: timeoutMs + 60_000,
    killSignal: 'SIGKILL',
  });
  const out = result.stdout ?? '';
  if (!quiet) process.stdout.write(out);
  // 124: timeout's TERM ended it; 137: its KILL did; ETIMEDOUT: the backstop above.
  const timedOut =
    ((result.status === 124 || result.status === 137) && Date.now() - started >= timeoutMs) || result.error?.code === 'ETIMEDOUT';
  const verdict = judge(
    label,
    { status: result.status, signal: result.signal, timedOutAfterMs: timedOut ? timeoutMs : undefined },
    count(out),
  );
  if (!quiet) {
    for (const problem of verdict.problems) console.log(`=== FAILED: ${problem}`);
    const reasons = verdict.skipReasons.map((r) => r || 'no reason');
    console.log(
      `=== ${label}: exit ${result.status ?? result.signal} in ${((Date.now() - started) / 1000).toFixed(1)} s ` +
        `(${verdict.passed} passed, ${verdict.failed} failed, ${verdict.skipped} skipped${reasons.length ? `: ${reasons.join(', ')}` : ''})`,
    );
  }
  return { ...verdict, ok: verdict.problems.length === 0 && verdict.failed === 0, stdout: out };
}

/** Mocha with the spec reporter; `perTestMs` is mocha's per-test timeout (a suite may raise its own with this.timeout). */
export function runMocha(label, files, { perTestMs, ...options }) {
  return runSuite(label, 'npx', ['mocha', '--reporter', 'spec', '--timeout', String(perTestMs), ...[files].flat()], {
    ...options,
    count: mochaCounts,
  });
}
