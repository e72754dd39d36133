#!/usr/bin/env node
// The Kafka view's speed on a big cluster, in a real VS Code (code-server) and a real Chromium: how long after
// the user's click the topic list of 1,000 topics appears, a refreshed count shows, and a topic expands into its
// partitions with offsets. `pipeline bench --only tree` creates the topics on its own broker and runs this; it can
// also run on its own against a cluster that has them:
//
//   node test/e2e/bench-tree.mjs --bootstrap 127.0.0.1:9092 --prefix <topic name prefix> --topics 1000 [--partitions 3] [--json]
//
// Each time is taken inside the workbench page: from the click's own event timestamp to the DOM change that
// puts the awaited rows on screen, so Playwright's round trips are not in it. Nothing is asserted: this is a
// benchmark (the e2e journey checks the tree's content). The last line of --json output is the JSON report.
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  chromiumLaunchOptions,
  codeServerEnv,
  findFreePort,
  installVsix,
  killProcessesOfRun,
  packVsix,
  prepareRunFolders,
  runToEnd,
  startCodeServer,
  stopProcessGroup,
} from './lib/codeServer.mjs';
import { extensionActive, rowText, treeRow, treeSnapshot, until, viewPane } from './lib/workbench.mjs';
import { cacheRoot, ensureE2eToolchain } from './setup.mjs';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values } = parseArgs({
  options: {
    bootstrap: { type: 'string' },
    prefix: { type: 'string' },
    topics: { type: 'string' },
    partitions: { type: 'string' },
    json: { type: 'boolean' },
  },
});
if (!values.bootstrap || !values.prefix || !values.topics) {
  console.error('bench-tree: --bootstrap, --prefix and --topics are required');
  process.exit(2);
}
const topicCount = Number(values.topics);
const partitions = Number(values.partitions ?? 3);
const names = Array.from({ length: topicCount }, (_, i) => `${values.prefix}${String(i).padStart(4, '0')}`);
const progress = (m) => console.error(`bench-tree: ${m}`);
const figures = [];
const add = (name, value, unit, extra = {}) => {
  figures.push({ name, value, unit, ...extra });
  progress(`${name}: ${typeof value === 'number' ? value.toFixed(unit === 'ms' ? 0 : 1) : value} ${unit}`);
};

const runId = `bench-tree-${Date.now().toString(36)}-${process.pid}`;
const runDir = mkdtempSync(join(tmpdir(), 'kfl-bench-tree-'));
const workspace = join(runDir, 'workspace');
let server;
let context;
let page;

/**
 * Arms a clock in the workbench page. It starts at the next `startEvent` (capture phase, the event's own
 * timestamp) and stops at the first DOM change after which `condition` holds for the Kafka view's rows:
 *   { kind: 'row', label, pattern }: a row with that label whose "label description" matches `pattern`;
 *   { kind: 'children', label, pattern, count }: `count` direct children of that row matching `pattern`.
 * Returns a function that waits for the reading (ms).
 */
async function armClock(page, startEvent, condition) {
  await page.evaluate(
    ({ startEvent, condition }) => {
      const clock = { start: undefined, end: undefined };
      window.__kflClock = clock;
      window.addEventListener(startEvent, (e) => (clock.start ??= e.timeStamp), { capture: true, once: true });
      const pane = () =>
        [...document.querySelectorAll('.pane')].find((p) =>
          /^Kafka$/i.test(p.querySelector('.pane-header h3.title')?.textContent?.trim() ?? ''),
        );
      const text = (r) =>
        (r.getAttribute('aria-label') ?? '')
          .replace(/, has actions$/, '')
          .replace(/\s+/g, ' ')
          .trim();
      const pattern = new RegExp(condition.pattern);
      const holds = () => {
        const rows = [...(pane()?.querySelectorAll('.monaco-list-row[role="treeitem"]') ?? [])].sort(
          (a, b) => Number(a.dataset.index) - Number(b.dataset.index),
        );
        const at = rows.findIndex((r) => text(r) === condition.label || text(r).startsWith(`${condition.label} `));
        if (at < 0) return false;
        if (condition.kind === 'row') return pattern.test(text(rows[at]));
        const level = Number(rows[at].getAttribute('aria-level'));
        let found = 0;
        for (const r of rows.slice(at + 1)) {
          const l = Number(r.getAttribute('aria-level'));
          if (l <= level) break;
          if (l === level + 1 && pattern.test(text(r))) found++;
        }
        return found >= condition.count;
      };
      const observer = new MutationObserver(() => {
        if (clock.start === undefined || clock.end !== undefined) return;
        if (holds()) {
          clock.end = performance.now();
          observer.disconnect();
        }
      });
      observer.observe(document.body, {
        subtree: true,
        childList: true,
        characterData: true,
        attributes: true,
        attributeFilter: ['aria-label', 'aria-expanded', 'data-index'],
      });
    },
    { startEvent, condition },
  );
  return async (what, timeoutMs = 60_000) => {
    const clock = await until(
      async () => {
        const c = await page.evaluate(() => window.__kflClock);
        return c.end !== undefined && c;
      },
      { timeoutMs, intervalMs: 50, message: `${what}: the awaited rows did not appear within ${timeoutMs / 1000} s` },
    );
    return clock.end - clock.start;
  };
}

async function main() {
  const toolchain = await ensureE2eToolchain({ progress });
  const built = await runToEnd(process.execPath, [join(repo, 'esbuild.mjs')], { cwd: repo, timeoutMs: 180_000 });
  if (built.code !== 0) throw new Error(`building the extension failed:\n${built.out.slice(-2000)}`);
  const vsix = await packVsix(repo, join(runDir, 'kafka-flink-lab.vsix'));
  const dirs = prepareRunFolders(runDir, {
    settings: { 'workbench.secondarySideBar.defaultVisibility': 'hidden', 'chat.commandCenter.enabled': false },
  });
  const env = codeServerEnv(toolchain, dirs, { runId, cacheDir: cacheRoot() });
  await installVsix(toolchain, dirs, vsix.file, env);
  mkdirSync(join(workspace, '.vscode'), { recursive: true });
  // No auto-refresh: every fetch the clocks see is the one the click asked for.
  writeFileSync(
    join(workspace, '.vscode', 'settings.json'),
    JSON.stringify({ 'kafkaFlinkLab.bootstrapServers': values.bootstrap, 'kafkaFlinkLab.refreshInterval': 0 }, null, 2),
  );

  server = await startCodeServer(toolchain, dirs, {
    port: await findFreePort(Number(process.env.E2E_PORT || 18280)),
    workspace,
    env,
    smokeTestDriver: true,
  });
  const { chromium } = createRequire(join(repo, 'package.json'))('playwright-core');
  context = await chromium.launchPersistentContext(
    join(runDir, 'chromium-profile'),
    chromiumLaunchOptions(toolchain, { env: { ...process.env, KFL_RUN_ID: runId } }),
  );
  page = await context.newPage();
  await page.goto(`${server.url}/?folder=${encodeURIComponent(workspace)}`);
  await page.locator('.activitybar').waitFor({ timeout: 60_000 });
  // The clock measures the topic list, not the extension's activation: wait for its status-bar item (it
  // activates on startup, which code-server may put off for several seconds on a busy machine).
  await extensionActive(page);
  const kafka = () => viewPane(page, 'Kafka');
  const pattern = `${partitions} partitions?`;

  // 1. The topic list: the activity-bar icon opens the view, which connects and lists every topic with its
  // partitions, retention and message count (the folders are expanded by default).
  const icon = page
    .locator('.activitybar .action-item a[aria-label^="Kafka Flink Lab"], .activitybar .action-item[aria-label^="Kafka Flink Lab"]')
    .first();
  await icon.waitFor({ timeout: 45_000 });
  let reading = await armClock(page, 'mousedown', { kind: 'row', label: names[0], pattern });
  await icon.click();
  add(`topic list shown on opening the view (connect + ${topicCount} topics)`, await reading('topic list'), 'ms', { budget: 1000 });
  const topicsRow = treeRow(kafka(), 'Topics');
  const listed = Number((await rowText(topicsRow)).match(/^Topics (\d+)/)?.[1] ?? 0);
  add('topics listed in the Topics folder', listed, 'topics', { note: `${topicCount} created by the benchmark, plus the stack's own` });

  // 2. A refresh of the Topics folder (its inline action) shows a count that changed meanwhile.
  const { Kafka, logLevel } = createRequire(join(repo, 'package.json'))('kafkajs');
  const kafkaClient = new Kafka({ clientId: 'bench-tree', brokers: values.bootstrap.split(','), logLevel: logLevel.NOTHING });
  const producer = kafkaClient.producer();
  await producer.connect();
  try {
    await producer.send({ topic: names[0], messages: Array.from({ length: 7 }, (_, i) => ({ value: String(i) })) });
  } finally {
    await producer.disconnect();
  }
  await topicsRow.hover();
  const refresh = topicsRow.locator('.action-label[aria-label^="Refresh"]').first();
  reading = await armClock(page, 'mousedown', { kind: 'row', label: names[0], pattern: '\\b7 msgs\\b' });
  await refresh.click();
  add('refresh of the Topics folder until a new count shows', await reading('refresh'), 'ms', { budget: 1000 });

  // 3. Expanding topics: partitions with leader, ISR and low/high offsets, each topic fetched on its first expand.
  const expands = [];
  for (const name of names.slice(0, 3)) {
    reading = await armClock(page, 'mousedown', {
      kind: 'children',
      label: name,
      pattern: '^partition \\d+ .*offsets \\d+',
      count: partitions,
    });
    await treeRow(kafka(), name).click();
    expands.push(await reading(`expand ${name}`));
    // Collapsed again, so the next topic's partitions fit in the view (rows out of sight are not drawn).
    await treeRow(kafka(), name).click();
  }
  progress(`expands: ${expands.map((ms) => `${ms.toFixed(0)} ms`).join(', ')}`);
  const sorted = [...expands].sort((a, b) => a - b);
  add(`expand a topic into its ${partitions} partitions with offsets (median of 3)`, sorted[1], 'ms', { budget: 300 });
  add(`expand a topic into its ${partitions} partitions with offsets (slowest of 3)`, sorted[2], 'ms', { budget: 300 });
  const heap = await page.evaluate(() => performance.memory?.usedJSHeapSize ?? 0);
  add('workbench JS heap after the list and the expands', heap / 1024 / 1024, 'MB');
}

let failure;
try {
  await main();
} catch (error) {
  failure = error?.message ?? String(error);
  progress(`failed: ${failure}`);
  if (page && process.env.KFL_BENCH_SHOT) await page.screenshot({ path: process.env.KFL_BENCH_SHOT }).catch(() => {});
  const rows = page ? await treeSnapshot(viewPane(page, 'Kafka')).catch(() => []) : [];
  if (rows.length)
    progress(
      `the Kafka view showed: ${rows
        .slice(0, 12)
        .map((r) => `[${r.level}] ${r.text}`)
        .join(' | ')}`,
    );
} finally {
  await context?.close().catch(() => {});
  if (server) await stopProcessGroup(server.pid);
  await killProcessesOfRun(runId);
  // KFL_BENCH_LOGS=<folder>: keep code-server's logs (the extension's output channel among them) for a look.
  if (process.env.KFL_BENCH_LOGS) cpSync(join(runDir, 'user-data', 'logs'), process.env.KFL_BENCH_LOGS, { recursive: true });
  rmSync(runDir, { recursive: true, force: true });
}
if (values.json) console.log(JSON.stringify({ figures, error: failure }));
process.exit(failure ? 1 : 0);
