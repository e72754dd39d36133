#!/usr/bin/env node
// The results webview's own speed, in a real VS Code (code-server) and a real Chromium: what the user waits for
// between choosing "Open Results" and seeing the summary, the first page and the chart, then a sort, a page, the
// last page of a text sort, a newly committed file, a warm reopen, and the webview's JS heap after all that.
// `pipeline bench --only webview` generates the output folder and runs this; it can also run on its own:
//
//   node test/e2e/bench-webview.mjs --output <folder with aggregates/> --rows <N in it> [--json]
//
// Times are from the command (Enter in the palette) to the element on screen, polled by Playwright, so they
// include the extension host's DuckDB work, the message to the webview and its rendering. Nothing is asserted:
// this is a benchmark; the e2e journey checks behaviour. The last line of --json output is the JSON report.
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
import { extensionActive, extensionLogLines, quickInput, typeInPalette, until, webviewFrame } from './lib/workbench.mjs';
import { cacheRoot, ensureE2eToolchain } from './setup.mjs';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values } = parseArgs({ options: { output: { type: 'string' }, rows: { type: 'string' }, json: { type: 'boolean' } } });
if (!values.output) {
  console.error('bench-webview: --output <folder holding aggregates/> is required');
  process.exit(2);
}
const output = resolve(values.output);
const rows = Number(values.rows ?? 0);
const progress = (m) => console.error(`bench-webview: ${m}`);
const figures = [];
/** Round trips measured inside the webview, split into DuckDB, the rest of the extension host, and the webview. */
const inside = [];
const add = (name, value, unit, extra = {}) => {
  figures.push({ name, value, unit, ...extra });
  progress(`${name}: ${typeof value === 'number' ? value.toFixed(unit === 'ms' ? 0 : 1) : value} ${unit}`);
};

const runId = `bench-webview-${Date.now().toString(36)}-${process.pid}`;
const runDir = mkdtempSync(join(tmpdir(), 'kfl-bench-webview-'));
const workspace = join(runDir, 'workspace');
let server;
let context;

/** Palette → command; returns the time of the Enter that runs it. */
async function startCommand(page, manifest, commandId) {
  const { title } = await typeInPalette(page, manifest, commandId);
  const first = page.locator('.quick-input-list .monaco-list-row.focused').first();
  await until(async () => ((await first.getAttribute('aria-label').catch(() => '')) ?? '').startsWith(title), {
    timeoutMs: 10_000,
    intervalMs: 50,
    message: `"${title}" is not the first palette entry`,
  });
  const t0 = Date.now();
  await page.keyboard.press('Enter');
  await until(async () => !(await quickInput(page).isVisible()), { timeoutMs: 10_000, intervalMs: 50, message: 'the palette stayed open' });
  return t0;
}

const since = (t0) => Date.now() - t0;
const LONG = { timeout: 120_000 };

async function main() {
  const toolchain = await ensureE2eToolchain({ progress });
  // The production bundle (minified, no source maps), as `npm run package` ships it.
  const built = await runToEnd(process.execPath, [join(repo, 'esbuild.mjs'), '--production'], { cwd: repo, timeoutMs: 180_000 });
  if (built.code !== 0) throw new Error(`building the extension failed:\n${built.out.slice(-2000)}`);
  const vsix = await packVsix(repo, join(runDir, 'kafka-flink-lab.vsix'));
  progress(`VSIX ${(vsix.bytes / 1024 / 1024).toFixed(1)} MB`);
  const dirs = prepareRunFolders(runDir, {
    settings: { 'workbench.secondarySideBar.defaultVisibility': 'hidden', 'chat.commandCenter.enabled': false },
  });
  const env = codeServerEnv(toolchain, dirs, { runId, cacheDir: cacheRoot() });
  await installVsix(toolchain, dirs, vsix.file, env);
  mkdirSync(join(workspace, '.vscode'), { recursive: true });
  // The workspace settings; VS Code picks up a change of the file while it runs.
  const writeSettings = (extra = {}) =>
    writeFileSync(join(workspace, '.vscode', 'settings.json'), JSON.stringify({ 'kafkaFlinkLab.outputFolder': output, ...extra }, null, 2));
  writeSettings();

  server = await startCodeServer(toolchain, dirs, {
    port: await findFreePort(Number(process.env.E2E_PORT || 18180)),
    workspace,
    env,
    smokeTestDriver: true,
  });
  const { chromium } = createRequire(join(repo, 'package.json'))('playwright-core');
  const launch = chromiumLaunchOptions(toolchain, { env: { ...process.env, KFL_RUN_ID: runId } });
  // Exact heap sizes (Chromium rounds performance.memory otherwise), for the webview's share of the heap.
  launch.args = [...launch.args, '--enable-precise-memory-info'];
  context = await chromium.launchPersistentContext(join(runDir, 'chromium-profile'), launch);
  const page = await context.newPage();
  await page.goto(`${server.url}/?folder=${encodeURIComponent(workspace)}`);
  await page.locator('.activitybar').waitFor({ timeout: 60_000 });
  // Let the extension activate (it activates on startup; its status-bar item says it has) before the clock starts.
  await extensionActive(page);
  const manifest = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));
  const rowsLabel = rows ? rows.toLocaleString('en-US') : undefined;

  const frame = webviewFrame(page);
  const summaryRows = rowsLabel
    ? frame.locator('[data-testid="stat-rows"]', { hasText: rowsLabel })
    : frame.locator('[data-testid="stat-rows"]');
  const firstRow = frame.locator('[data-testid="results-row"]').first();
  const chartLine = frame.locator('[data-testid="results-chart"] path.series').first();
  // The webview's own marks: its clock starts when its document starts loading (performance.timeOrigin).
  const appData = () => frame.locator('main.app').evaluate((el) => ({ ...el.dataset, timeOrigin: performance.timeOrigin }));

  /**
   * "Open Results" from the palette until summary, first page and chart are on screen, and where the time went.
   * On screen is the webview's own clock: the frame after each part was drawn (its marks), put on the driver's
   * clock through the document's time origin. The driver's polling for the elements is reported beside it.
   */
  const openResults = async (label) => {
    const t0 = await startCommand(page, manifest, 'kafkaFlinkLab.results.open');
    const d = await until(
      async () => {
        const data = await appData().catch(() => undefined);
        return data && data.initAt !== undefined && data.pageFirstAt !== undefined && data.chartFirstAt !== undefined && data;
      },
      { timeoutMs: 120_000, intervalMs: 20, message: `${label}: the summary, first page and chart did not all show` },
    );
    await Promise.all([summaryRows.waitFor(LONG), firstRow.waitFor(LONG), chartLine.waitFor({ ...LONG, state: 'attached' })]);
    const driver = since(t0);
    const docStart = d.timeOrigin - t0;
    const at = (mark) => docStart + Number(mark);
    const marks = { summary: at(d.initAt), page: at(d.pageFirstAt), chart: at(d.chartFirstAt) };
    progress(
      `${label} breakdown: webview document started ${docStart.toFixed(0)} ms after Enter; script ready +${d.readyAt} ms; ` +
        `in the page's first screen: ${d.initialData || 'nothing'}; summary +${d.initAt}; ` +
        `first page +${d.pageFirstAt} (DuckDB ${d.pageDbMs} ms, extension host ${d.pageHostMs} ms, round trip ${d.pageMs} ms); ` +
        `chart +${d.chartFirstAt} (DuckDB ${d.chartDbMs} ms, extension host ${d.chartHostMs} ms, round trip ${d.chartMs} ms); the driver saw all three after ${driver} ms`,
    );
    return {
      ...marks,
      paint: Math.max(marks.summary, marks.page, marks.chart),
      driver,
      docStart,
      ready: docStart + Number(d.readyAt),
      init: marks.summary,
    };
  };
  const closeResults = async () => {
    await page.keyboard.press('Escape');
    await page.keyboard.press('Control+W');
    await until(async () => (await page.locator('iframe.webview.ready').count()) === 0, {
      timeoutMs: 10_000,
      intervalMs: 100,
      message: 'the results view did not close',
    }).catch(() => undefined);
  };

  // The webview runs in the workbench's renderer (same origin), so its heap is the growth of that renderer's heap.
  const workbenchHeap = () => page.evaluate(() => performance.memory?.usedJSHeapSize ?? 0);
  const heapBeforeOpen = await workbenchHeap();

  // 1. Cold: the first webview of this browser profile (VS Code installs its webview service worker first); the
  // extension host loads the CSVs into DuckDB meanwhile, writing its cache file.
  const cold = await openResults('cold');
  add('cold: summary shown', cold.summary, 'ms');
  add('cold: first page shown', cold.page, 'ms');
  add('cold: chart drawn', cold.chart, 'ms');
  add('cold first paint (summary, first page, chart)', cold.paint, 'ms', { budget: 1000 });
  add('cold: webview document starts loading', cold.docStart, 'ms', {
    note: "the browser profile's first webview: VS Code's service worker is installed before any extension code runs",
  });
  add('cold: webview script ready', cold.ready, 'ms');
  add('cold: summary arrived (data loaded)', cold.init, 'ms');

  /** Waits for the next answer on a channel and returns where its time went. */
  const lastAnswer = async (channel, before) => {
    await until(async () => Number((await appData())[`${channel}Seq`] ?? 0) > before, {
      timeoutMs: 30_000,
      intervalMs: 20,
      message: `no ${channel} answer`,
    });
    const d = await appData();
    return { total: Number(d[`${channel}Ms`]), host: Number(d[`${channel}HostMs`]), db: Number(d[`${channel}DbMs`]) };
  };
  const seq = async (channel) => Number((await appData())[`${channel}Seq`] ?? 0);
  const noteInside = (name, b) => {
    inside.push({ name, ...b });
    progress(
      `  inside the webview: ${name}: round trip ${b.total} ms = DuckDB ${b.db} ms + rest of the extension host ${(b.host - b.db).toFixed(0)} ms + messaging and drawing ${(b.total - b.host).toFixed(0)} ms`,
    );
  };

  const domRows = () => frame.locator('[data-testid="results-row"]').count();
  const heapAfterOpen = await workbenchHeap();

  // 2. Sorts: click a column header; done when that header says so (the rows of the new order come with it).
  // Two clocks: the webview's own, from the click's request to the frame that shows its rows (what the user
  // waits for), and the test driver's, which adds Playwright's click and its polling over CDP.
  const sortBy = async (column, direction) => {
    const before = await seq('page');
    const t = Date.now();
    await frame.locator(`button.sort[data-column="${column}"]`).click();
    await frame.locator(`th[aria-sort="${direction}"] button.sort[data-column="${column}"]`).waitFor(LONG);
    const driver = since(t);
    const answer = await lastAnswer('page', before);
    noteInside(`sort by ${column}`, answer);
    return { driver, shown: answer.total };
  };
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const sorts = [];
  for (const column of ['avg_temperature', 'event_count', 'window_start']) sorts.push(await sortBy(column, 'ascending'));
  add('sort by a column: click to rows on screen (median of 3)', median(sorts.map((x) => x.shown)), 'ms', { budget: 200 });
  add('sort by a column: click to rows on screen (slowest of 3)', Math.max(...sorts.map((x) => x.shown)), 'ms', { budget: 200 });
  add('sort by a column, as the test driver sees it (median of 3)', median(sorts.map((x) => x.driver)), 'ms', {
    note: "Playwright's click and polling included",
  });

  // 3. Pages: next, then the last page of a text sort (the deepest page of the costliest order).
  const firstRowNumber = () => frame.locator('[data-testid="results-row"] td.rownum').first().innerText();
  const pageTo = async (button) => {
    const before = await firstRowNumber();
    const answers = await seq('page');
    const t = Date.now();
    await frame.locator(`[data-testid="page-${button}"]`).click();
    await until(async () => (await firstRowNumber()) !== before, {
      timeoutMs: 120_000,
      intervalMs: 5,
      message: `page-${button} changed nothing`,
    });
    const driver = since(t);
    const answer = await lastAnswer('page', answers);
    noteInside(`page ${button}`, answer);
    return { driver, shown: answer.total };
  };
  const pages = [];
  const pageFigure = (name, x) => {
    pages.push(x);
    add(`${name}: click to rows on screen`, x.shown, 'ms', { budget: 200 });
  };
  pageFigure('next page (sorted by window_start)', await pageTo('next'));
  await sortBy('sensor_id', 'ascending');
  pageFigure('last page of a text sort (sensor_id)', await pageTo('last'));
  pageFigure('first page again', await pageTo('first'));
  add('a page, as the test driver sees it (median of 3)', median(pages.map((x) => x.driver)), 'ms', {
    note: "Playwright's click and polling included",
  });

  // 4. Live: a newly committed file (a copy of one, under a new name) shows in the summary.
  const aggregates = join(output, 'aggregates');
  const sampleFile = readdirSync(aggregates, { recursive: true }).find((f) => String(f).endsWith('.csv'));
  const folder = sampleFile ? dirname(join(aggregates, String(sampleFile))) : aggregates;
  const sample = sampleFile ? String(sampleFile).split('/').pop() : undefined;
  if (!sample || !rows) progress('new file shown: not measured (no CSV file in aggregates/, or --rows not given)');
  else {
    const added = readFileSync(join(folder, sample), 'utf8').trim().split('\n').length - 1;
    const expected = (rows + added).toLocaleString('en-US');
    const copy = join(folder, `part-bench-webview-${Date.now()}.csv`);
    const t0 = Date.now();
    copyFileSync(join(folder, sample), copy);
    await frame.locator('[data-testid="stat-rows"]', { hasText: expected }).waitFor(LONG);
    add('new file shown (watcher, debounce, reload, repaint)', since(t0), 'ms', { budget: 2000 });
    rmSync(copy, { force: true });
  }

  const heapAfterUse = await workbenchHeap();
  add('JS heap of the webview after open (renderer heap growth)', (heapAfterOpen - heapBeforeOpen) / 1024 / 1024, 'MB');
  add('JS heap of the webview after sorts, pages and a live update', (heapAfterUse - heapBeforeOpen) / 1024 / 1024, 'MB', {
    note: `the whole renderer, workbench included: ${(heapAfterUse / 1024 / 1024).toFixed(0)} MB`,
  });
  add('table rows in the webview DOM', await domRows(), 'rows', { note: `of ${rowsLabel ?? '?'} in the folder` });

  // 5. Warm: close the view and open it again (three times); the extension host keeps the loaded data a while.
  const warm = [];
  for (let i = 1; i <= 3; i++) {
    await closeResults();
    warm.push(await openResults(`warm ${i}`));
  }
  const medianOf = (runs, key) => median(runs.map((r) => r[key]));
  add('warm first paint (reopened; median of 3)', medianOf(warm, 'paint'), 'ms', {
    budget: 1000,
    note: `each: ${warm.map((r) => r.paint.toFixed(0)).join(', ')} ms`,
  });
  add('warm: webview document starts loading (median of 3)', medianOf(warm, 'docStart'), 'ms');
  add('warm first paint, as the test driver sees it (median of 3)', medianOf(warm, 'driver'), 'ms', {
    note: "Playwright's polling included",
  });

  // 6. A reloaded window: a new extension host, and a browser that has shown a webview before — the cold open of
  // a user's next session. First without the cache file and with background indexing off (every file is read
  // when the view opens), then through the cache file with indexing on (the default).
  const reloaded = async (label, withCache) => {
    await closeResults();
    writeSettings(withCache ? {} : { 'kafkaFlinkLab.results.indexInBackground': false });
    await page.reload();
    await page.locator('.activitybar').waitFor({ timeout: 60_000 });
    await extensionActive(page);
    const caches = readdirSync(dirs.userData, { recursive: true })
      .map(String)
      .filter((f) => /results-[0-9a-f]+\.duckdb(\.wal)?$/.test(f));
    if (!withCache) for (const f of caches) rmSync(join(dirs.userData, f), { force: true });
    else if (caches.length === 0) progress(`${label}: no cache file in the workspace storage`);
    return openResults(label);
  };
  const fresh = await reloaded('reloaded window, no cache', false);
  add('cold first paint in a reloaded window, no cache file, background indexing off (every file read at open)', fresh.paint, 'ms', {
    budget: 1000,
  });
  add('reloaded window, no cache: webview document starts loading', fresh.docStart, 'ms');
  add('reloaded window, no cache: summary shown (data loaded)', fresh.init, 'ms');
  const cached = [];
  for (let i = 1; i <= 3; i++) cached.push(await reloaded(`reloaded window ${i}, cache`, true));
  add('cold first paint in a reloaded window, through the cache file (median of 3)', medianOf(cached, 'paint'), 'ms', {
    budget: 1000,
    note: `each: ${cached.map((r) => r.paint.toFixed(0)).join(', ')} ms`,
  });
  add('reloaded window, cache: webview document starts loading (median of 3)', medianOf(cached, 'docStart'), 'ms');

  // 7. Background indexing: with the view closed, the output folder becomes one the extension has never read (a
  // copy, as after a pipeline run with the view closed); the extension indexes it into its cache file, and the
  // view opens afterwards.
  await closeResults();
  const copy = join(runDir, 'output-copy');
  cpSync(output, copy, { recursive: true });
  const logsDir = join(dirs.userData, 'logs');
  const indexedCopy = () => extensionLogLines(logsDir).some((l) => l.includes(`results: indexed ${copy} in the background`));
  const t7 = Date.now();
  writeSettings({ 'kafkaFlinkLab.outputFolder': copy });
  await until(indexedCopy, {
    timeoutMs: 180_000,
    intervalMs: 100,
    message: `the extension did not log "results: indexed ${copy} in the background"`,
  });
  add('background indexing of a never-read folder, view closed (setting change to the log line)', since(t7), 'ms', {
    note: 'includes the 1 s wait before indexing and the log file being written',
  });
  const indexed = await openResults('after background indexing');
  add('first paint after background indexing of a never-read folder (view closed meanwhile)', indexed.paint, 'ms', { budget: 1000 });
  await closeResults();
  writeSettings();
  rmSync(copy, { recursive: true, force: true });
}

let failure;
try {
  await main();
} catch (error) {
  failure = error?.message ?? String(error);
  progress(`failed: ${failure}`);
} finally {
  await context?.close().catch(() => {});
  if (server) await stopProcessGroup(server.pid);
  await killProcessesOfRun(runId);
  // KFL_BENCH_LOGS=<folder>: keep code-server's logs (the extension's output channel among them) for a look.
  if (process.env.KFL_BENCH_LOGS) cpSync(join(runDir, 'user-data', 'logs'), process.env.KFL_BENCH_LOGS, { recursive: true });
  rmSync(runDir, { recursive: true, force: true });
}
if (values.json) console.log(JSON.stringify({ figures, inside, error: failure }));
process.exit(failure ? 1 : 0);
