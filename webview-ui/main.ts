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
import {
  chartRequestKey,
  pageRequestKey,
  RESULT_TABLES,
  type ChartRequest,
  type CellValue,
  type ChartResult,
  type ColumnInfo,
  type ExportFormat,
  type HostToWebview,
  type PageRequest,
  type PageResult,
  type QueryResult,
  type ResultsSummary,
  type ResultTable,
} from '../src/results/resultsProtocol';
import { EventsChart, TemperatureChart } from './chart';
import { button, clear, h, icon } from './dom';
import { FilterBar } from './filterBar';
import { formatCount } from './format';
import { dropInitialScreen, initialScreen, markInitial, takeInitial } from './initialData';
import { Requests } from './requests';
import './base.css';
import './results.css';
import { SqlBox } from './sqlBox';
import { SummaryView } from './summaryView';
import { ResultsTable } from './table';
import { Pager, ResultTabs, type PageMove } from './tabs';
import { currentSort, hasFilter, post, save, state, TAB_LABELS, type Tab } from './viewState';

let lastPage: PageResult | QueryResult | undefined;
const errors = new Map<string, string>();
let initialised = false;

// ---- layout ----

const app = h('main', { class: 'app' });
const tableNote = h('div', { class: 'table-note', 'data-testid': 'results-table-note' });
const requests = new Requests(app, (title) => (tableNote.title = title));
const exportStatus = h('span', { class: 'export-status', role: 'status' });
const tabs = new ResultTabs(selectTab);
const summaryView = new SummaryView(tabs.badges);

const header = h(
  'header',
  { class: 'toolbar' },
  h('div', { class: 'title' }, h('h2', {}, 'Results'), summaryView.folderLabel, summaryView.liveLabel),
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

const errorBox = h('div', { class: 'error-box', 'data-testid': 'results-error', role: 'alert', hidden: true });

const temperatureChart = new TemperatureChart((hidden) => {
  state.hiddenSensors = hidden;
  save();
});
const eventsChart = new EventsChart();
const charts = h('section', { class: 'charts', 'data-testid': 'results-charts' }, temperatureChart.element, eventsChart.element);

const filterBar = new FilterBar(applyFilter);
const sqlBox = new SqlBox(
  state.sql,
  (sql) => {
    state.sql = sql;
    save();
  },
  runQuery,
);

// One table, moved into the selected tab's panel.
const table = new ResultsTable(onSort);
const pager = new Pager(state.pageSize, goPage, (size) => {
  state.pageSize = size;
  state.offsets[state.tab] = 0;
  save();
  requestRows();
});
const tableArea = h('div', { class: 'table-area' }, tableNote, table.element, pager.element);
table.scroller.addEventListener('scroll', () => {
  state.scroll[state.tab] = table.scroller.scrollTop;
  save();
});

app.append(
  requests.progress,
  header,
  summaryView.summaryBox,
  summaryView.messagesBox,
  charts,
  filterBar.element,
  sqlBox.element,
  errorBox,
  tabs.element,
);
document.body.append(app);

// ---- messaging ----

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
      requests.setHostBusy(message.busy);
      break;
    case 'pageResult':
      if (requests.accept('page', message.requestId)) {
        onRows(message.result);
        requests.timed('page', message.requestId, message.result.elapsedMs, message.hostMs);
      }
      break;
    case 'queryResult':
      if (requests.accept('query', message.requestId)) {
        onRows(message.result);
        requests.timed('query', message.requestId, message.result.elapsedMs, message.hostMs);
      }
      break;
    case 'chartResult':
      if (requests.accept('chart', message.requestId)) {
        showError('chart', undefined);
        drawCharts(message.result);
        requests.timed('chart', message.requestId, message.result.elapsedMs, message.hostMs);
      }
      break;
    case 'exported':
      requests.forget(message.requestId);
      if (requests.accept('export', message.requestId))
        exportStatus.textContent = message.file ? `Exported ${formatCount(message.rows)} rows to ${message.file}` : 'Export cancelled.';
      break;
    case 'error':
      if (message.requestId !== undefined && message.channel !== 'load' && !requests.accept(message.channel, message.requestId)) break;
      if (message.requestId !== undefined) requests.forget(message.requestId);
      if (message.channel === 'export') exportStatus.textContent = '';
      showError(message.channel, message.message);
      if (message.channel === 'query' || message.channel === 'page') onRowsFailed();
      break;
  }
});

function onSummary(next: ResultsSummary): void {
  showError('load', undefined);
  summaryView.show(next);
  filterBar.offerSensors(next.sensors, state.filter.sensors ?? []);
  filterBar.showRange(next.timeRange);
}

setInterval(() => summaryView.render(), 5000); // keeps "… s ago" current

// ---- rows ----

function requestRows(): void {
  const tab = state.tab;
  const offset = state.offsets[tab] ?? 0;
  if (tab === 'query') {
    if (!state.activeSql) {
      lastPage = undefined;
      tableNote.textContent = 'Run a query above: its result shows here, sortable and paged like the tables.';
      table.render([], [], undefined, 'Query result', 'No query yet.', 0);
      pager.text.textContent = '';
      return;
    }
    const sql = state.activeSql;
    requests.send('query', (requestId) => ({
      type: 'query',
      requestId,
      request: { sql, offset, limit: state.pageSize, sort: state.querySort },
    }));
  } else {
    const pageRequest: PageRequest = { table: tab, offset, limit: state.pageSize, sort: currentSort(tab), filter: state.filter };
    const ready = takeInitial('page');
    if (ready && pageRequestKey(ready.request) === pageRequestKey(pageRequest)) {
      onRows(ready.result);
      markInitial(app, 'page');
      return;
    }
    requests.send('page', (requestId) => ({ type: 'page', requestId, request: pageRequest }));
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
    markInitial(app, 'chart');
    return;
  }
  requests.send('chart', (requestId) => ({ type: 'chart', requestId, request: chartRequest }));
}

function drawCharts(result: ChartResult): void {
  temperatureChart.update(result, state.hiddenSensors);
  eventsChart.update(result);
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
    const info = summaryView.current?.tables[result.table];
    const filtered = hasFilter() ? ' (filtered)' : '';
    tableNote.textContent =
      info?.state !== 'ok' && info?.note
        ? info.note
        : `${formatCount(result.total)} row${result.total === 1 ? '' : 's'}${filtered} · ${Math.round(result.elapsedMs)} ms`;
    if (info?.state !== 'ok') emptyText = info?.note ?? 'No rows yet.';
    else if (!hasFilter()) emptyText = 'No rows in this table yet.';
  }
  table.rowAction = recordLink(isQuery ? undefined : result.table);
  table.render(columns, result.rows, sort, isQuery ? 'Query result' : TAB_LABELS[result.table], emptyText, result.offset);
  pager.text.textContent = result.total === 0 ? '0 rows' : `${formatCount(first)}–${formatCount(last)} of ${formatCount(result.total)}`;
}

/** A dead letter opens its record in the message browser; an alert, its source event. */
function recordLink(shown: ResultTable | undefined): ResultsTable['rowAction'] {
  const at = (columns: ColumnInfo[], values: CellValue[], name: string) => values[columns.findIndex((c) => c.name === name)];
  if (shown === 'dead_letter')
    return (columns, values) => {
      const partition = at(columns, values, 'partition');
      const offset = at(columns, values, 'offset');
      if (typeof partition !== 'number' || typeof offset !== 'number') return undefined;
      return {
        label: 'Show the Record',
        title: `Open the message browser at partition ${partition}, offset ${offset}`,
        run: () => post({ type: 'showRecord', partition, offset }),
      };
    };
  if (shown === 'alerts')
    return (columns, values) => {
      const eventId = at(columns, values, 'event_id');
      const sensorId = at(columns, values, 'sensor_id');
      const ts = at(columns, values, 'ts');
      if (typeof eventId !== 'string' || typeof sensorId !== 'string' || typeof ts !== 'number') return undefined;
      return {
        label: 'Show the Source Event',
        title: 'Find the record this alert came from in the message browser',
        run: () => post({ type: 'showAlertSource', eventId, sensorId, ts }),
      };
    };
  return undefined;
}

function onRowsFailed(): void {
  pager.text.textContent = '';
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

function goPage(where: PageMove): void {
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
  tabs.show(tab, tableArea);
  filterBar.element.classList.toggle('inactive', tab === 'query');
  if (changed || initial) {
    table.render([], [], undefined, TAB_LABELS[tab], 'Loading…', 0);
    requestAnimationFrame(() => (table.scroller.scrollTop = state.scroll[tab] ?? 0));
  }
  requestRows();
}

// ---- filter, query, export ----

function applyFilter(): void {
  const next = filterBar.read();
  if (JSON.stringify(next) === JSON.stringify(state.filter)) return;
  state.filter = next;
  for (const tab of RESULT_TABLES) state.offsets[tab] = 0;
  save();
  if (state.tab === 'query') selectTab('aggregates');
  else requestRows();
  requestChart();
}

function runQuery(): void {
  const sql = sqlBox.value.trim();
  if (!sql) return;
  state.sql = sqlBox.value;
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
    requests.send('export', (requestId) => ({ type: 'export', requestId, format, source: { kind: 'query', sql, sort: state.querySort } }));
  } else {
    const tab = state.tab;
    requests.send('export', (requestId) => ({
      type: 'export',
      requestId,
      format,
      source: { kind: 'table', table: tab, sort: currentSort(tab), filter: state.filter },
    }));
  }
}

// ---- start ----

filterBar.fill(state.filter);

let resizeFrame = 0;
new ResizeObserver(() => {
  cancelAnimationFrame(resizeFrame);
  resizeFrame = requestAnimationFrame(() => {
    temperatureChart.draw();
    eventsChart.draw();
  });
}).observe(charts);

requests.updateBusy();
app.dataset.readyAt = String(Math.round(performance.now()));
post({ type: 'ready' });
const initial = initialScreen();
if (initial) {
  if (!state.pageSize) state.pageSize = initial.pageSize;
  onSummary(initial.summary);
  markInitial(app, 'init');
}
// Asked for at once, not after `init` (the extension host answers them as soon as the data is loaded), unless
// the page's first screen already holds exactly these answers.
selectTab(state.tab, true);
requestChart();
dropInitialScreen();
