// The results webview (browser side). It draws what the extension host sends and asks for what is on screen:
// one page of rows, one chart, one query result page. Nothing here parses file data as HTML.
import '@vscode-elements/elements/dist/vscode-badge/index.js';
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-multi-select/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-progress-bar/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-tab-header/index.js';
import '@vscode-elements/elements/dist/vscode-tab-panel/index.js';
import '@vscode-elements/elements/dist/vscode-tabs/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import type { VscodeMultiSelect } from '@vscode-elements/elements/dist/vscode-multi-select/vscode-multi-select.js';
import type { VscodeSingleSelect } from '@vscode-elements/elements/dist/vscode-single-select/vscode-single-select.js';
import type { VscodeTabs } from '@vscode-elements/elements/dist/vscode-tabs/vscode-tabs.js';
import type { VscodeTextfield } from '@vscode-elements/elements/dist/vscode-textfield/vscode-textfield.js';
import {
  chartRequestKey,
  DEFAULT_SORT,
  INITIAL_DATA_ID,
  pageRequestKey,
  RESULT_TABLES,
  type ColumnInfo,
  type ExportFormat,
  type ChartRequest,
  type ChartResult,
  type HostToWebview,
  type InitialData,
  type PageRequest,
  type PageResult,
  type QueryResult,
  type RequestChannel,
  type ResultsSummary,
  type ResultTable,
  type RowFilter,
  type SortSpec,
  type WebviewToHost,
} from '../src/results/resultsProtocol';
import { EventsChart, TemperatureChart } from './chart';
import { clear, h, icon } from './dom';
import { formatAgo, formatCount, formatTime } from './format';
import './results.css';
import { ResultsTable } from './table';

interface VsCodeApi {
  postMessage(message: WebviewToHost): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

type Tab = ResultTable | 'query';
const TABS: Tab[] = [...RESULT_TABLES, 'query'];
const TAB_LABELS: Record<Tab, string> = { aggregates: 'Aggregates', alerts: 'Alerts', dead_letter: 'Dead letters', query: 'Query result' };
const PAGE_SIZES = [50, 100, 200, 500];

/** What the view remembers across hide/show and live updates (webview state, no retainContextWhenHidden). */
interface ViewState {
  tab: Tab;
  sorts: Partial<Record<ResultTable, SortSpec>>;
  offsets: Partial<Record<Tab, number>>;
  scroll: Partial<Record<Tab, number>>;
  filter: RowFilter;
  pageSize: number;
  sql: string;
  /** The statement whose result the query tab shows. */
  activeSql?: string;
  querySort?: SortSpec;
  hiddenSensors: string[];
}

const vscode = acquireVsCodeApi();
const defaults: ViewState = {
  tab: 'aggregates',
  sorts: {},
  offsets: {},
  scroll: {},
  filter: {},
  pageSize: 100,
  sql: 'SELECT sensor_id, count(*) AS windows, sum(event_count) AS events, round(avg(avg_temperature), 2) AS mean_temperature\nFROM aggregates\nGROUP BY sensor_id\nORDER BY sensor_id',
  hiddenSensors: [],
};
const state: ViewState = { ...defaults, ...((vscode.getState() as Partial<ViewState> | undefined) ?? {}) };
const save = () => vscode.setState(state);

let summary: ResultsSummary | undefined;
let lastPage: PageResult | QueryResult | undefined;
let requestSeq = 0;
const latest: Partial<Record<RequestChannel, number>> = {};
const pending = new Set<number>();
const sentAt = new Map<number, number>();
const errors = new Map<string, string>();
let hostBusy = false;
let initialised = false;

/** The first screen the extension host wrote into the page (a JSON data block, read as text), used once. */
function readInitialData(): InitialData | undefined {
  const block = document.getElementById(INITIAL_DATA_ID);
  if (!block?.textContent) return undefined;
  try {
    return JSON.parse(block.textContent) as InitialData;
  } catch {
    return undefined;
  } finally {
    block.remove();
  }
}
let initialData = readInitialData();

// ---- layout ----

const progress = h('vscode-progress-bar', { class: 'progress', 'aria-label': 'Loading' });
const folderLabel = h('span', { class: 'folder', 'data-testid': 'results-folder' });
const liveLabel = h('span', { class: 'live', 'data-testid': 'results-live' });
const exportStatus = h('span', { class: 'export-status', role: 'status' });

function button(label: string, iconName: string, onClick: () => void, attributes: Record<string, string> = {}): HTMLElement {
  const b = h('vscode-button', { icon: iconName, secondary: true, ...attributes }, label);
  b.addEventListener('click', onClick);
  return b;
}

const header = h(
  'header',
  { class: 'toolbar' },
  h('div', { class: 'title' }, h('h2', {}, 'Results'), folderLabel, liveLabel),
  h(
    'div',
    { class: 'actions' },
    exportStatus,
    button('Refresh', 'refresh', () => post({ type: 'refresh' }), {
      title: 'Read the output folder again',
      'data-testid': 'results-refresh',
    }),
    button('Export CSV', 'export', () => exportView('csv'), {
      title: 'Save every row of the current view (filter and sort applied) as CSV',
      'data-testid': 'export-csv',
    }),
    button('Export JSON', 'json', () => exportView('json'), {
      title: 'Save every row of the current view (filter and sort applied) as JSON',
      'data-testid': 'export-json',
    }),
  ),
);

const summaryBox = h('section', { class: 'summary', 'data-testid': 'results-summary', 'aria-label': 'Summary' });
const messagesBox = h('section', {
  class: 'messages',
  'data-testid': 'results-messages',
  'aria-label': 'Problems with output files',
  hidden: true,
});
const errorBox = h('div', { class: 'error-box', 'data-testid': 'results-error', role: 'alert', hidden: true });

const temperatureChart = new TemperatureChart((hidden) => {
  state.hiddenSensors = hidden;
  save();
});
const eventsChart = new EventsChart();
const charts = h('section', { class: 'charts', 'data-testid': 'results-charts' }, temperatureChart.element, eventsChart.element);

// Filter bar
const sensorSelect = h('vscode-multi-select', {
  combobox: true,
  class: 'sensor-select',
  'data-testid': 'filter-sensors',
  'aria-label': 'Sensors',
}) as VscodeMultiSelect;
const fromField = h('vscode-textfield', {
  placeholder: '2026-11-25 10:00',
  'data-testid': 'filter-from',
  'aria-label': 'From (UTC, inclusive)',
}) as VscodeTextfield;
const toField = h('vscode-textfield', {
  placeholder: '2026-11-25 11:00',
  'data-testid': 'filter-to',
  'aria-label': 'To (UTC, exclusive)',
}) as VscodeTextfield;
const searchField = h('vscode-textfield', {
  type: 'search',
  placeholder: 'Text in rows',
  'data-testid': 'filter-search',
  'aria-label': 'Search text',
}) as VscodeTextfield;
const filterBar = h(
  'section',
  { class: 'filters', 'data-testid': 'results-filter', 'aria-label': 'Filter' },
  h('label', { class: 'field' }, h('span', {}, 'Sensors'), sensorSelect),
  h('label', { class: 'field' }, h('span', {}, 'From (UTC)'), fromField),
  h('label', { class: 'field' }, h('span', {}, 'To (UTC)'), toField),
  h('label', { class: 'field' }, h('span', {}, 'Search'), searchField),
  h(
    'div',
    { class: 'field buttons' },
    button('Apply', 'filter', applyFilter, { 'data-testid': 'filter-apply' }),
    button('Clear', 'clear-all', clearFilter, { 'data-testid': 'filter-clear' }),
  ),
);
for (const field of [fromField, toField, searchField])
  field.addEventListener('keydown', (e) => (e as KeyboardEvent).key === 'Enter' && applyFilter());
sensorSelect.addEventListener('change', applyFilter);

// SQL box: a native textarea (monospace, Ctrl+Enter), styled with the editor's colours.
const sqlInput = h('textarea', {
  class: 'sql-input',
  'data-testid': 'sql-input',
  rows: 4,
  spellcheck: 'false',
  'aria-label': 'SQL query (read-only)',
  placeholder: 'SELECT * FROM aggregates WHERE anomaly_count > 0',
});
sqlInput.value = state.sql;
sqlInput.addEventListener('input', () => {
  state.sql = sqlInput.value;
  save();
});
sqlInput.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
    e.preventDefault();
    runQuery();
  }
});
const sqlBox = h(
  'section',
  { class: 'sql', 'aria-label': 'SQL' },
  sqlInput,
  h(
    'div',
    { class: 'sql-actions' },
    button('Run', 'play', runQuery, { 'data-testid': 'sql-run', title: 'Run the query (Ctrl+Enter)' }),
    h(
      'span',
      { class: 'hint' },
      'Read-only DuckDB SQL over aggregates, alerts, dead_letter (and aggregates_csv, aggregates_json). Ctrl+Enter runs it.',
    ),
  ),
);

// Tabs, with one table moved into the selected panel.
const table = new ResultsTable(onSort);
const pagerText = h('span', { class: 'pager-text', 'data-testid': 'results-pager' });
const pageSizeSelect = h('vscode-single-select', { class: 'page-size', 'aria-label': 'Rows per page' }) as VscodeSingleSelect;
for (const size of PAGE_SIZES)
  pageSizeSelect.append(h('vscode-option', { value: String(size), selected: size === state.pageSize }, `${size} rows`));
pageSizeSelect.addEventListener('change', () => {
  state.pageSize = Number(pageSizeSelect.value) || 100;
  state.offsets[state.tab] = 0;
  save();
  requestRows();
});
const pager = h(
  'div',
  { class: 'pager' },
  pagerText,
  button('', 'arrow-left', () => goPage('first'), { title: 'First page', 'aria-label': 'First page', 'data-testid': 'page-first' }),
  button('', 'chevron-left', () => goPage('previous'), {
    title: 'Previous page',
    'aria-label': 'Previous page',
    'data-testid': 'page-previous',
  }),
  button('', 'chevron-right', () => goPage('next'), { title: 'Next page', 'aria-label': 'Next page', 'data-testid': 'page-next' }),
  button('', 'arrow-right', () => goPage('last'), { title: 'Last page', 'aria-label': 'Last page', 'data-testid': 'page-last' }),
  pageSizeSelect,
);
const tableNote = h('div', { class: 'table-note', 'data-testid': 'results-table-note' });
const tableArea = h('div', { class: 'table-area' }, tableNote, table.element, pager);
const tabBadges = new Map<Tab, HTMLElement>();
const tabs = h('vscode-tabs', { class: 'tabs', 'data-testid': 'results-tabs' }) as VscodeTabs;
const panels = new Map<Tab, HTMLElement>();
for (const tab of TABS) {
  const badge = h('vscode-badge', { variant: 'counter' }, '0');
  tabBadges.set(tab, badge);
  tabs.append(
    h(
      'vscode-tab-header',
      { slot: 'header', 'data-tab': tab, 'data-testid': `tab-${tab}` },
      TAB_LABELS[tab],
      tab === 'query' ? null : badge,
    ),
  );
  const panel = h('vscode-tab-panel', { 'data-tab': tab });
  panels.set(tab, panel);
  tabs.append(panel);
}
tabs.addEventListener('vsc-tabs-select', (event) => {
  const index = (event as CustomEvent<{ selectedIndex: number }>).detail.selectedIndex;
  selectTab(TABS[index] ?? 'aggregates');
});
table.scroller.addEventListener('scroll', () => {
  state.scroll[state.tab] = table.scroller.scrollTop;
  save();
});

const app = h('main', { class: 'app' }, progress, header, summaryBox, messagesBox, charts, filterBar, sqlBox, errorBox, tabs);
document.body.append(app);

// ---- messaging ----

function post(message: WebviewToHost): void {
  vscode.postMessage(message);
}

function request(channel: RequestChannel, build: (requestId: number) => WebviewToHost): void {
  const requestId = ++requestSeq;
  latest[channel] = requestId;
  pending.add(requestId);
  sentAt.set(requestId, performance.now());
  updateBusy();
  post(build(requestId));
}

/**
 * Where the time of an answer went: DuckDB, the extension host (DuckDB plus waiting for the store), and the
 * whole round trip until the frame that shows it. Kept on the app element (the benchmark reads it) and in the
 * table note's tooltip. The first answer of each channel also marks the time since the view started loading.
 */
function timed(channel: RequestChannel, requestId: number, dbMs: number, hostMs: number | undefined): void {
  const sent = sentAt.get(requestId);
  sentAt.delete(requestId);
  if (sent === undefined) return;
  requestAnimationFrame(() => {
    const now = performance.now();
    const data = app.dataset;
    data[`${channel}Ms`] = String(Math.round(now - sent));
    data[`${channel}DbMs`] = String(Math.round(dbMs));
    if (hostMs !== undefined) data[`${channel}HostMs`] = String(Math.round(hostMs));
    data[`${channel}Seq`] = String(Number(data[`${channel}Seq`] ?? 0) + 1);
    if (data[`${channel}FirstAt`] === undefined) data[`${channel}FirstAt`] = String(Math.round(now));
    if (channel === 'page' || channel === 'query') {
      tableNote.title = `DuckDB ${Math.round(dbMs)} ms${hostMs === undefined ? '' : ` · extension host ${Math.round(hostMs)} ms`} · on screen after ${Math.round(now - sent)} ms`;
    }
  });
}

/** True when this answer is the newest for its channel (older ones are dropped: the user moved on). */
function accept(channel: RequestChannel, requestId: number): boolean {
  pending.delete(requestId);
  updateBusy();
  if (latest[channel] === requestId) return true;
  sentAt.delete(requestId);
  return false;
}

function updateBusy(): void {
  progress.hidden = pending.size === 0 && !hostBusy;
}

function showError(key: string, message: string | undefined): void {
  if (message) errors.set(key, message);
  else errors.delete(key);
  clear(errorBox);
  errorBox.hidden = errors.size === 0;
  for (const text of new Set(errors.values())) {
    errorBox.append(h('div', { class: 'error-line' }, icon('error'), h('span', { class: 'error-text' }, text)));
  }
  if (errors.size > 0) {
    const dismiss = h('button', { type: 'button', class: 'dismiss', title: 'Dismiss', 'aria-label': 'Dismiss' }, icon('close'));
    dismiss.addEventListener('click', () => {
      errors.clear();
      showError('', undefined);
    });
    errorBox.append(dismiss);
  }
}

window.addEventListener('message', (event: MessageEvent<HostToWebview>) => {
  const message = event.data;
  switch (message.type) {
    case 'init':
      requestAnimationFrame(() => (app.dataset.initAt ??= String(Math.round(performance.now()))));
      if (!state.pageSize) state.pageSize = message.pageSize;
      onSummary(message.summary);
      // The first page and chart were asked for with `ready`; a later init (another output folder) asks again.
      if (initialised) {
        selectTab(state.tab, true);
        requestChart();
      }
      initialised = true;
      break;
    case 'summary':
      onSummary(message.summary);
      // New files: the same page, sort and filter, fetched again; the scroll position stays.
      requestRows();
      requestChart();
      break;
    case 'busy':
      hostBusy = message.busy;
      updateBusy();
      break;
    case 'pageResult':
      if (accept('page', message.requestId)) {
        onRows(message.result);
        timed('page', message.requestId, message.result.elapsedMs, message.hostMs);
      }
      break;
    case 'queryResult':
      if (accept('query', message.requestId)) {
        onRows(message.result);
        timed('query', message.requestId, message.result.elapsedMs, message.hostMs);
      }
      break;
    case 'chartResult':
      if (accept('chart', message.requestId)) {
        showError('chart', undefined);
        drawCharts(message.result);
        timed('chart', message.requestId, message.result.elapsedMs, message.hostMs);
      }
      break;
    case 'exported':
      sentAt.delete(message.requestId);
      if (accept('export', message.requestId))
        exportStatus.textContent = message.file ? `Exported ${formatCount(message.rows)} rows to ${message.file}` : 'Export cancelled.';
      break;
    case 'error':
      if (message.requestId !== undefined && message.channel !== 'load' && !accept(message.channel, message.requestId)) break;
      if (message.requestId !== undefined) sentAt.delete(message.requestId);
      if (message.channel === 'export') exportStatus.textContent = '';
      showError(message.channel, message.message);
      if (message.channel === 'query' || message.channel === 'page') onRowsFailed();
      break;
  }
});

// ---- summary ----

function stat(key: string, label: string, value: string, options: { title?: string; warn?: boolean } = {}): HTMLElement {
  return h(
    'div',
    { class: options.warn ? 'stat warn' : 'stat', 'data-stat': key, title: options.title },
    h('span', { class: 'label' }, options.warn ? icon('warning') : null, label),
    h('span', { class: 'value', 'data-testid': `stat-${key}` }, value),
  );
}

function renderSummary(): void {
  if (!summary) return;
  const s = summary;
  folderLabel.textContent = s.outputFolder;
  folderLabel.title = s.outputFolder;
  const range = s.timeRange
    ? `${formatTime(s.timeRange.from)} → ${s.timeRange.from.slice(0, 10) === s.timeRange.to.slice(0, 10) ? formatTime(s.timeRange.to).slice(11) : formatTime(s.timeRange.to)}`
    : '—';
  const last = s.lastCommittedFile;
  summaryBox.replaceChildren(
    stat('files', 'Files', formatCount(s.files), {
      title: RESULT_TABLES.map((t) => `${TAB_LABELS[t]}: ${formatCount(s.tables[t].files)} files`).join('\n'),
    }),
    stat('rows', 'Aggregate rows', formatCount(s.aggregateRows), {
      title: s.tables.aggregates.source === 'json' ? 'Read from the JSON-lines files (no CSV files)' : 'Read from the CSV files',
    }),
    stat('events', 'Events', formatCount(s.eventCount), { title: 'sum(event_count) over the aggregate rows' }),
    stat('range', 'Time range (UTC)', range, { title: s.timeRange ? `${s.timeRange.from} to ${s.timeRange.to}` : 'No windows yet' }),
    stat('sensors', 'Sensors', formatCount(s.sensorCount)),
    stat('last-file', 'Last committed file', last ? `${formatTime(last.time).slice(11, 19)} · ${formatAgo(last.time)}` : '—', {
      title: last ? `${last.file}\n${last.time}` : 'No committed files yet',
    }),
    stat('alerts', 'Alerts', formatCount(s.alertRows)),
    stat('dead-letters', 'Dead letters', formatCount(s.deadLetterRows), {
      warn: s.deadLetterRows > 0,
      title: s.deadLetterRows > 0 ? 'Records the job could not parse or validate: see the Dead letters tab' : 'No record was rejected',
    }),
  );
  for (const tab of RESULT_TABLES) tabBadges.get(tab)!.textContent = formatCount(s.tables[tab].rows);
}

function renderMessages(): void {
  if (!summary) return;
  const messages = summary.messages;
  messagesBox.hidden = messages.length === 0;
  messagesBox.dataset.worst = messages.some((m) => m.level === 'error')
    ? 'error'
    : messages.some((m) => m.level === 'warning')
      ? 'warning'
      : 'info';
  clear(messagesBox);
  const list = h('ul', {});
  for (const m of messages) {
    const item = h(
      'li',
      { class: `message ${m.level}`, 'data-level': m.level },
      icon(m.level === 'error' ? 'error' : m.level === 'warning' ? 'warning' : 'info'),
    );
    if (m.file) {
      const link = h('button', { type: 'button', class: 'file-link', title: `Open ${m.file}` }, m.file);
      link.addEventListener('click', () => post({ type: 'openFile', file: m.file }));
      item.append(link, h('span', { class: 'sep' }, ': '));
    }
    item.append(h('span', { class: 'text' }, m.message));
    list.append(item);
  }
  if (summary.moreMessages > 0) list.append(h('li', { class: 'message info' }, `… and ${formatCount(summary.moreMessages)} more`));
  messagesBox.append(list);
}

function onSummary(next: ResultsSummary): void {
  summary = next;
  showError('load', undefined);
  renderSummary();
  renderMessages();
  // Keep the user's sensor selection; offer the sensors that exist now.
  const selected = new Set(state.filter.sensors ?? []);
  const names = [...new Set([...next.sensors, ...selected])].sort();
  const current = Array.from(sensorSelect.querySelectorAll('vscode-option'), (o) => o.getAttribute('value'));
  if (current.join('\n') !== names.join('\n')) {
    sensorSelect.replaceChildren(...names.map((name) => h('vscode-option', { value: name, selected: selected.has(name) }, name)));
  }
  liveLabel.textContent = next.outputExists ? 'live' : 'waiting for output';
  liveLabel.classList.toggle('waiting', !next.outputExists);
}

setInterval(renderSummary, 5000); // keeps "… s ago" current

// ---- rows ----

function currentSort(table: ResultTable): SortSpec {
  return state.sorts[table] ?? DEFAULT_SORT[table];
}

function requestRows(): void {
  const tab = state.tab;
  const offset = state.offsets[tab] ?? 0;
  if (tab === 'query') {
    if (!state.activeSql) {
      lastPage = undefined;
      tableNote.textContent = 'Run a query above: its result shows here, sortable and paged like the tables.';
      table.render([], [], undefined, 'Query result', 'No query yet.', 0);
      pagerText.textContent = '';
      return;
    }
    const sql = state.activeSql;
    request('query', (requestId) => ({ type: 'query', requestId, request: { sql, offset, limit: state.pageSize, sort: state.querySort } }));
  } else {
    const pageRequest: PageRequest = { table: tab, offset, limit: state.pageSize, sort: currentSort(tab), filter: state.filter };
    const ready = takeInitial('page');
    if (ready && pageRequestKey(ready.request) === pageRequestKey(pageRequest)) {
      onRows(ready.result);
      markInitial('page');
      return;
    }
    request('page', (requestId) => ({ type: 'page', requestId, request: pageRequest }));
  }
}

/** Points per line: a third of the chart's width in pixels, in steps of 60 (so a slightly wider panel asks the same). */
function chartPoints(): number {
  const width = charts.clientWidth || 800;
  return Math.max(60, Math.min(600, Math.floor(width / 180) * 60));
}

function requestChart(): void {
  const { sensors, from, to } = state.filter;
  const chartRequest: ChartRequest = { filter: { sensors, from, to }, maxPoints: chartPoints(), maxSensors: 12 };
  const ready = takeInitial('chart');
  if (ready && chartRequestKey(ready.request) === chartRequestKey(chartRequest)) {
    drawCharts(ready.result);
    markInitial('chart');
    return;
  }
  request('chart', (requestId) => ({ type: 'chart', requestId, request: chartRequest }));
}

function drawCharts(result: ChartResult): void {
  temperatureChart.update(result, state.hiddenSensors);
  eventsChart.update(result);
}

/** The first screen's answer of a channel, handed out once: later requests always go to the extension host. */
function takeInitial<K extends 'page' | 'chart'>(channel: K): InitialData[K] {
  const answer = initialData?.[channel];
  if (initialData) initialData[channel] = undefined;
  return answer;
}

/** Marks an answer taken from the page's first screen (no round trip), as `timed` marks the others. */
function markInitial(channel: 'init' | 'page' | 'chart'): void {
  requestAnimationFrame(() => {
    const data = app.dataset;
    const at = String(Math.round(performance.now()));
    data.initialData = [data.initialData, channel].filter(Boolean).join(',');
    if (channel === 'init') {
      data.initAt ??= at;
      return;
    }
    data[`${channel}FirstAt`] ??= at;
    data[`${channel}Ms`] = '0';
    data[`${channel}DbMs`] = '0';
    data[`${channel}HostMs`] = '0';
  });
}

function onRows(result: PageResult | QueryResult): void {
  showError('page', undefined);
  showError('query', undefined);
  lastPage = result;
  const isQuery = 'sql' in result;
  const tab = state.tab;
  if (isQuery !== (tab === 'query')) return; // the user switched tabs meanwhile
  state.offsets[tab] = result.offset;
  save();
  const columns: ColumnInfo[] = result.columns;
  const sort = result.sort;
  const first = result.total === 0 ? 0 : result.offset + 1;
  const last = result.offset + result.rows.length;
  let emptyText = 'No rows match the filter.';
  if (isQuery) {
    tableNote.textContent = `${result.truncated ? `First ${formatCount(result.rowCap)} rows kept (the statement returned more: add LIMIT or aggregate)` : `${formatCount(result.total)} row${result.total === 1 ? '' : 's'}`} · ${Math.round(result.elapsedMs)} ms`;
    emptyText = 'The query returned no rows.';
  } else {
    const info = summary?.tables[result.table];
    const filtered = hasFilter() ? ' (filtered)' : '';
    tableNote.textContent =
      info?.state !== 'ok' && info?.note
        ? info.note
        : `${formatCount(result.total)} row${result.total === 1 ? '' : 's'}${filtered} · ${Math.round(result.elapsedMs)} ms`;
    if (info?.state !== 'ok') emptyText = info?.note ?? 'No rows yet.';
    else if (!hasFilter()) emptyText = 'No rows in this table yet.';
  }
  table.render(columns, result.rows, sort, isQuery ? 'Query result' : TAB_LABELS[result.table], emptyText, result.offset);
  pagerText.textContent = result.total === 0 ? '0 rows' : `${formatCount(first)}–${formatCount(last)} of ${formatCount(result.total)}`;
}

function onRowsFailed(): void {
  pagerText.textContent = '';
}

function hasFilter(): boolean {
  const f = state.filter;
  return Boolean((f.sensors && f.sensors.length) || f.from || f.to || f.search);
}

function onSort(column: string): void {
  if (state.tab === 'query') {
    state.querySort =
      state.querySort?.column === column && state.querySort.direction === 'asc'
        ? { column, direction: 'desc' }
        : { column, direction: 'asc' };
  } else {
    const current = currentSort(state.tab);
    state.sorts[state.tab] =
      current.column === column ? { column, direction: current.direction === 'asc' ? 'desc' : 'asc' } : { column, direction: 'asc' };
  }
  state.offsets[state.tab] = 0;
  save();
  requestRows();
}

function goPage(where: 'first' | 'previous' | 'next' | 'last'): void {
  const total = lastPage?.total ?? 0;
  const size = state.pageSize;
  const offset = state.offsets[state.tab] ?? 0;
  const lastOffset = Math.max(0, Math.floor((total - 1) / size) * size);
  const next =
    where === 'first'
      ? 0
      : where === 'previous'
        ? Math.max(0, offset - size)
        : where === 'next'
          ? Math.min(lastOffset, offset + size)
          : lastOffset;
  if (next === offset) return;
  state.offsets[state.tab] = next;
  state.scroll[state.tab] = 0;
  table.scroller.scrollTop = 0;
  save();
  requestRows();
}

function selectTab(tab: Tab, initial = false): void {
  const changed = tab !== state.tab;
  state.tab = tab;
  save();
  const index = TABS.indexOf(tab);
  if (tabs.selectedIndex !== index) tabs.selectedIndex = index;
  panels.get(tab)?.append(tableArea);
  filterBar.classList.toggle('inactive', tab === 'query');
  if (changed || initial) {
    table.render([], [], undefined, TAB_LABELS[tab], 'Loading…', 0);
    requestAnimationFrame(() => (table.scroller.scrollTop = state.scroll[tab] ?? 0));
  }
  requestRows();
}

// ---- filter, query, export ----

function readFilter(): RowFilter {
  const sensors = (sensorSelect.value ?? []).filter(Boolean);
  const filter: RowFilter = {};
  if (sensors.length) filter.sensors = sensors;
  if (fromField.value.trim()) filter.from = fromField.value.trim();
  if (toField.value.trim()) filter.to = toField.value.trim();
  if (searchField.value.trim()) filter.search = searchField.value.trim();
  return filter;
}

function applyFilter(): void {
  const next = readFilter();
  if (JSON.stringify(next) === JSON.stringify(state.filter)) return;
  state.filter = next;
  for (const tab of RESULT_TABLES) state.offsets[tab] = 0;
  save();
  if (state.tab === 'query') selectTab('aggregates');
  else requestRows();
  requestChart();
}

function clearFilter(): void {
  sensorSelect.value = [];
  fromField.value = '';
  toField.value = '';
  searchField.value = '';
  applyFilter();
}

function runQuery(): void {
  const sql = sqlInput.value.trim();
  if (!sql) return;
  state.sql = sqlInput.value;
  state.activeSql = sql;
  state.querySort = undefined;
  state.offsets.query = 0;
  state.scroll.query = 0;
  save();
  if (state.tab !== 'query') selectTab('query');
  else requestRows();
}

function exportView(format: ExportFormat): void {
  exportStatus.textContent = 'Exporting…';
  if (state.tab === 'query') {
    if (!state.activeSql) {
      exportStatus.textContent = 'Run a query first.';
      return;
    }
    const sql = state.activeSql;
    request('export', (requestId) => ({ type: 'export', requestId, format, source: { kind: 'query', sql, sort: state.querySort } }));
  } else {
    const tab = state.tab;
    request('export', (requestId) => ({
      type: 'export',
      requestId,
      format,
      source: { kind: 'table', table: tab, sort: currentSort(tab), filter: state.filter },
    }));
  }
}

// ---- start ----

fromField.value = state.filter.from ?? '';
toField.value = state.filter.to ?? '';
searchField.value = state.filter.search ?? '';

let resizeFrame = 0;
new ResizeObserver(() => {
  cancelAnimationFrame(resizeFrame);
  resizeFrame = requestAnimationFrame(() => {
    temperatureChart.draw();
    eventsChart.draw();
  });
}).observe(charts);

updateBusy();
app.dataset.readyAt = String(Math.round(performance.now()));
post({ type: 'ready' });
if (initialData) {
  if (!state.pageSize) state.pageSize = initialData.pageSize;
  onSummary(initialData.summary);
  markInitial('init');
}
// Asked for at once, not after `init` (the extension host answers them as soon as the data is loaded), unless
// the page's first screen already holds exactly these answers.
selectTab(state.tab, true);
requestChart();
initialData = undefined;
