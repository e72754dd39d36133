// The message browser's page: the start chooser, partitions, isolation and WHERE; progress with Cancel; the table with its gaps; the record; the time histogram; export. Every key, value and header goes in as text.
import type { ScanProgress, ScanRecord } from '../src/kafka/topicScanTypes';
import { gapText, isoTime, pageEndNote, prettyValue, preview, valuePreview } from '../src/views/messageBrowserModel';
import {
  formatUtcInput,
  START_CHOICES,
  WHERE_COLUMNS,
  WHERE_EXAMPLE,
  type BrowserForm,
  type BrowserRow,
  type BrowserToHost,
  type ErrorField,
  type HostToBrowser,
  type StartChoice,
} from '../src/views/messageBrowserProtocol';
import type { PartitionOffsets } from '../src/kafka/kafkaModels';
import { clear, h } from './dom';
import { formatCount } from './format';
import { TimeHistogramView } from './timeHistogram';
import './base.css';
import './panel.css';
import './messageBrowser.css';

interface VsCodeApi {
  postMessage(message: BrowserToHost): void;
}
declare function acquireVsCodeApi(): VsCodeApi;
const vscode = acquireVsCodeApi();
const post = (message: BrowserToHost) => vscode.postMessage(message);

const START_LABELS: Record<StartChoice, string> = {
  earliest: 'Earliest',
  newest: 'Newest − N',
  offsets: 'Offset per partition',
  timestamp: 'Date/time (UTC)',
  tail: 'Live tail',
};

function actionButton(label: string, id: string, onClick: () => void): HTMLButtonElement {
  const b = h('button', { type: 'button', 'data-testid': id }, label);
  b.addEventListener('click', onClick);
  return b;
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

// ---- the form ----

const title = h('h2', { 'data-testid': 'mb-title' }, 'Messages');
const linkNote = h('div', { class: 'note', 'data-testid': 'mb-note', hidden: true });

const startInputs = new Map<StartChoice, HTMLInputElement>();
const newestCount = h('input', { type: 'number', min: 1, value: 100, 'aria-label': 'N', 'data-testid': 'mb-newest-count', class: 'small' });
const timeInput = h('input', { type: 'datetime-local', step: 1, 'aria-label': 'Date and time, UTC', 'data-testid': 'mb-time' });
const offsetsBox = h('span', { class: 'offsets', 'data-testid': 'mb-offsets' });
const offsetInputs = new Map<number, HTMLInputElement>();
const startBox = h('fieldset', { class: 'start' }, h('legend', {}, 'Start'));
for (const choice of START_CHOICES) {
  const input = h('input', { type: 'radio', name: 'start', value: choice, 'data-testid': `mb-start-${choice}` });
  startInputs.set(choice, input);
  const extra =
    choice === 'newest'
      ? newestCount
      : choice === 'timestamp'
        ? h('span', {}, timeInput, h('span', { class: 'hint' }, ' UTC'))
        : choice === 'offsets'
          ? offsetsBox
          : choice === 'tail'
            ? h('span', { class: 'hint' }, 'only what arrives from now on')
            : h('span', { class: 'hint' }, 'the oldest record still stored');
  startBox.append(h('label', { class: 'choice' }, input, ` ${START_LABELS[choice]} `, extra));
}
const startError = h('div', { class: 'problem', role: 'alert', 'data-testid': 'mb-start-error' });
startBox.append(startError);

const partitionsBox = h('span', { class: 'partitions', 'data-testid': 'mb-partitions' });
const partitionInputs = new Map<number, HTMLInputElement>();
const partitionsError = h('div', { class: 'problem', role: 'alert' });
const allPartitions = actionButton('All', 'mb-partitions-all', () => partitionInputs.forEach((i) => (i.checked = true)));
const partitionsField = h('fieldset', {}, h('legend', {}, 'Partitions'), partitionsBox, allPartitions, partitionsError);

const limitInput = h('input', { type: 'number', min: 1, max: 10000, value: 200, 'data-testid': 'mb-limit', class: 'small' });
const limitError = h('div', { class: 'problem', role: 'alert' });
const isolationSelect = h(
  'select',
  { 'data-testid': 'mb-isolation', 'aria-label': 'Isolation' },
  h('option', { value: 'committed' }, 'committed (read_committed)'),
  h('option', { value: 'uncommitted' }, 'uncommitted (read_uncommitted)'),
);
const optionsField = h(
  'fieldset',
  {},
  h('legend', {}, 'Options'),
  h('label', {}, 'Maximum results ', limitInput),
  limitError,
  h('label', {}, 'Isolation ', isolationSelect),
  h(
    'div',
    { class: 'hint' },
    'Exactly-once writes through transactions: committed hides the records of aborted and still-open transactions; uncommitted shows them. Each commit or abort also leaves a marker that takes an offset and is never delivered — shown below as a gap.',
  ),
);

const whereInput = h('textarea', {
  class: 'where',
  rows: 2,
  spellcheck: 'false',
  placeholder: WHERE_EXAMPLE,
  'aria-label': 'WHERE (DuckDB SQL)',
  'data-testid': 'mb-where',
});
const whereError = h('div', { class: 'problem', role: 'alert', 'data-testid': 'mb-where-error' });
const columnsList = h('ul', { class: 'columns' }, ...WHERE_COLUMNS.map((c) => h('li', {}, h('code', {}, c.name), ` ${c.about}`)));
const whereField = h(
  'fieldset',
  { class: 'where-field' },
  h('legend', {}, 'WHERE (DuckDB SQL, as in the results view; Ctrl+Enter runs)'),
  whereInput,
  whereError,
  columnsList,
);

const rangeText = h('span', { 'data-testid': 'mb-range' });
const clearRange = actionButton('Clear the time range', 'mb-range-clear', () => {
  range = {};
  showRange();
  run();
});
const rangeBox = h('div', { class: 'range', hidden: true }, rangeText, clearRange);

const runButton = actionButton('Run', 'mb-run', () => run());
const cancelButton = actionButton('Cancel', 'mb-cancel', () => {
  following = false;
  cancelAsked = true;
  setRunning(running);
  post({ type: 'cancel' });
});
const nextButton = actionButton('Next page', 'mb-next', () => nextPage());
const exportJsonl = actionButton('Export JSON lines', 'mb-export-jsonl', () => exportAs('jsonl'));
const exportCsv = actionButton('Export CSV', 'mb-export-csv', () => exportAs('csv'));
const exportStatus = h('span', { class: 'hint', role: 'status', 'data-testid': 'mb-export-status' });
const state = h('span', { class: 'state', role: 'status', 'data-testid': 'mb-state' });
const scanError = h('div', { class: 'problem', role: 'alert', 'data-testid': 'mb-scan-error' });
const positions = h('div', { class: 'positions hint', 'data-testid': 'mb-positions' });

// Dragging across it scans that time range only (not while a scan runs).
const histogramView = new TimeHistogramView({
  canDrag: () => !running,
  onRange: (sinceMs, untilMs) => {
    range = { sinceMs, untilMs };
    showRange();
    run();
  },
});
const histogram = histogramView.element;
const histogramNote = h(
  'div',
  { class: 'hint' },
  'Scanned (light) and matching (dark) records over time, for every page of this scan. Drag across it to scan that time range only.',
);

const head = h(
  'thead',
  {},
  h('tr', {}, ...['partition', 'offset', 'time (UTC)', 'key', 'value', 'headers'].map((c) => h('th', { scope: 'col' }, c))),
);
const body = h('tbody');
const table = h('table', { class: 'grid', 'data-testid': 'mb-table' }, head, body);
const endNote = h('div', { class: 'note', 'data-testid': 'mb-end' });

const detail = h('section', { class: 'detail', 'data-testid': 'mb-detail', hidden: true, 'aria-label': 'The record' });

document.body.append(
  h(
    'div',
    { class: 'app' },
    h('header', {}, title, linkNote),
    h('form', { class: 'form', 'aria-label': 'Scan' }, startBox, partitionsField, optionsField, whereField),
    rangeBox,
    h('div', { class: 'toolbar' }, runButton, cancelButton, nextButton, state, exportJsonl, exportCsv, exportStatus),
    scanError,
    positions,
    h('div', { class: 'histogram-box' }, histogram, histogramNote),
    h('div', { class: 'results' }, h('div', { class: 'grid-scroll', tabindex: '0' }, table, endNote), detail),
  ),
);
document.querySelector('form')!.addEventListener('submit', (e) => e.preventDefault());
whereInput.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
    e.preventDefault();
    run();
  }
});

// ---- state ----

let topic = '';
let range: { sinceMs?: number; untilMs?: number } = {};
let running = false;
let hasNext = false;
let tail = false;
/** The live tail keeps asking for the next page until Cancel. */
let following = false;
/** Cancel was pressed in this run: a tail page that ended on its own just before the host heard it does not go on. */
let cancelAsked = false;
let shownRows: BrowserRow[] = [];
let limit = 200;

function chosenStart(): StartChoice {
  return START_CHOICES.find((c) => startInputs.get(c)!.checked) ?? 'earliest';
}

function readForm(): BrowserForm {
  const offsets: Record<string, number> = {};
  for (const [p, input] of offsetInputs) if (input.value.trim() !== '') offsets[String(p)] = Number(input.value);
  return {
    start: chosenStart(),
    newestCount: Number(newestCount.value),
    offsets,
    time: timeInput.value,
    partitions: [...partitionInputs].filter(([, i]) => i.checked).map(([p]) => p),
    limit: Number(limitInput.value),
    isolation: isolationSelect.value === 'uncommitted' ? 'uncommitted' : 'committed',
    where: whereInput.value,
    sinceMs: range.sinceMs,
    untilMs: range.untilMs,
  };
}

function fillForm(form: BrowserForm, partitions: PartitionOffsets[]): void {
  clear(partitionsBox);
  clear(offsetsBox);
  partitionInputs.clear();
  offsetInputs.clear();
  for (const p of partitions) {
    const box = h('input', { type: 'checkbox', 'data-testid': `mb-partition-${p.partition}` });
    box.checked = form.partitions.includes(p.partition);
    partitionInputs.set(p.partition, box);
    partitionsBox.append(h('label', { class: 'choice', title: `offsets ${p.low}–${p.high}` }, box, ` ${p.partition} `));
    const offset = h('input', {
      type: 'number',
      min: 0,
      class: 'small',
      placeholder: String(p.low),
      title: `partition ${p.partition}: offsets ${p.low}–${p.high}`,
      'aria-label': `offset of partition ${p.partition}`,
      'data-testid': `mb-offset-${p.partition}`,
    });
    const given = form.offsets[String(p.partition)];
    offset.value = given === undefined ? '' : String(given);
    offset.addEventListener('focus', () => (startInputs.get('offsets')!.checked = true));
    offsetInputs.set(p.partition, offset);
    offsetsBox.append(h('label', {}, `${p.partition}: `, offset));
  }
  startInputs.get(form.start)!.checked = true;
  newestCount.value = String(form.newestCount);
  timeInput.value = form.time;
  limitInput.value = String(form.limit);
  isolationSelect.value = form.isolation;
  whereInput.value = form.where;
  range = { sinceMs: form.sinceMs, untilMs: form.untilMs };
  showRange();
}
newestCount.addEventListener('focus', () => (startInputs.get('newest')!.checked = true));
timeInput.addEventListener('focus', () => (startInputs.get('timestamp')!.checked = true));

function showRange(): void {
  const { sinceMs, untilMs } = range;
  rangeBox.hidden = sinceMs === undefined && untilMs === undefined;
  rangeText.textContent = `Time range: ${sinceMs !== undefined ? isoTime(sinceMs) : 'any'} to ${untilMs !== undefined ? isoTime(untilMs) : 'any'} `;
}

function showErrors(field?: ErrorField, message?: string): void {
  const boxes: Record<ErrorField, HTMLElement> = {
    where: whereError,
    start: startError,
    partitions: partitionsError,
    limit: limitError,
    scan: scanError,
  };
  for (const [name, box] of Object.entries(boxes)) box.textContent = name === field ? (message ?? '') : '';
}

function setRunning(value: boolean): void {
  running = value;
  runButton.disabled = value;
  cancelButton.disabled = !value && !following;
  nextButton.disabled = value || !hasNext || tail;
}

function run(): void {
  showErrors();
  following = false;
  const form = readForm();
  limit = form.limit;
  tail = form.start === 'tail';
  shownRows = [];
  detail.hidden = true;
  cancelAsked = false;
  // At once, so the line never shows the last scan's page as if it were this one's.
  state.textContent = 'Starting the scan…';
  post({ type: 'run', form });
}

function nextPage(): void {
  if (running || !hasNext) return;
  showErrors();
  post({ type: 'next' });
}

function exportAs(format: 'jsonl' | 'csv'): void {
  exportStatus.textContent = 'Exporting…';
  post({ type: 'export', format });
}

// ---- progress and pages ----

function showProgress(p: ScanProgress): void {
  state.textContent = `Scanning: ${formatCount(p.scannedMessages)} messages, ${formatBytes(p.scannedBytes)} scanned, ${formatCount(p.matched)} matching`;
  positions.textContent = p.positions
    .map((x) => `partition ${x.partition}: ${formatCount(x.position)} / ${formatCount(x.end)}`)
    .join(' · ');
}

function headersText(headers: Record<string, string | null>): string {
  return Object.entries(headers)
    .map(([k, v]) => `${k}=${v ?? 'NULL'}`)
    .join(', ');
}

function drawRows(rows: BrowserRow[]): void {
  const fragment = document.createDocumentFragment();
  if (rows.length === 0) fragment.append(h('tr', { class: 'empty' }, h('td', { colspan: 6 }, 'No matching records in what was scanned.')));
  for (const row of rows) {
    if (row.kind === 'gap') {
      fragment.append(
        h(
          'tr',
          { class: 'gap', 'data-testid': 'mb-gap', 'data-partition': row.partition },
          h('td', { colspan: 6 }, `partition ${row.partition}, ${gapText(row)}`),
        ),
      );
      continue;
    }
    const r = row.record;
    const tr = h(
      'tr',
      { class: 'record', tabindex: 0, 'data-testid': 'mb-row', 'data-partition': r.partition, 'data-offset': r.offset },
      h('td', { class: 'num' }, String(r.partition)),
      h('td', { class: 'num' }, String(r.offset)),
      h('td', {}, isoTime(r.timestamp)),
      h('td', { class: 'key', 'data-testid': 'mb-key' }, preview(r.key, 60)),
      h('td', { class: 'value', 'data-testid': 'mb-value', title: (r.value ?? '').slice(0, 4000) }, valuePreview(r)),
      h('td', { class: 'headers' }, preview(headersText(r.headers), 60)),
    );
    tr.addEventListener('click', () => openRecord(r, tr));
    tr.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') openRecord(r, tr);
    });
    fragment.append(tr);
  }
  body.replaceChildren(fragment);
}

function openRecord(r: ScanRecord, tr: HTMLElement): void {
  body.querySelectorAll('tr.selected').forEach((e) => e.classList.remove('selected'));
  tr.classList.add('selected');
  const value = prettyValue(r);
  const headerRows = Object.entries(r.headers).map(([k, v]) =>
    h('tr', { 'data-testid': 'mb-detail-header' }, h('th', { scope: 'row' }, k), h('td', {}, v ?? 'NULL')),
  );
  const close = actionButton('Close', 'mb-detail-close', () => {
    detail.hidden = true;
    tr.classList.remove('selected');
  });
  detail.replaceChildren(
    h('div', { class: 'detail-head' }, h('h3', {}, `Partition ${r.partition}, offset ${r.offset}`), close),
    h(
      'div',
      { 'data-testid': 'mb-detail-meta' },
      `${isoTime(r.timestamp)} · key ${formatBytes(r.keySize)} · value ${formatBytes(r.valueSize)} · record ${formatBytes(r.size)}`,
    ),
    h('h4', {}, 'Key'),
    h('pre', { 'data-testid': 'mb-detail-key' }, r.key ?? 'NULL'),
    h('h4', {}, `Headers (${headerRows.length})`),
    headerRows.length
      ? h('table', { class: 'headers-table', 'data-testid': 'mb-detail-headers' }, h('tbody', {}, ...headerRows))
      : h('div', { class: 'hint' }, 'none'),
    h('h4', {}, value.json ? 'Value (JSON, indented)' : r.valueEncoding === 'base64' ? 'Value (not UTF-8: base64)' : 'Value'),
    h('pre', { 'data-testid': 'mb-detail-value', 'data-json': value.json ? 'true' : 'false' }, value.text),
  );
  detail.hidden = false;
}

function onPage(page: Extract<HostToBrowser, { type: 'page' }>): void {
  const message = { ...page, cancelled: page.cancelled || (page.tail && cancelAsked) };
  hasNext = message.hasNext;
  tail = message.tail;
  if (tail) {
    // A live tail adds each page under the last and keeps the newest `limit` records.
    shownRows = [...shownRows, ...message.rows];
    let records = shownRows.filter((r) => r.kind === 'record').length;
    while (records > limit && shownRows.length) if (shownRows.shift()!.kind === 'record') records--;
  } else shownRows = message.rows;
  drawRows(shownRows);
  // A record opened during a live tail stays open as records arrive under it.
  if (!tail) detail.hidden = true;
  const p = message.progress;
  const matches = message.rows.filter((r) => r.kind === 'record').length;
  state.textContent = `${message.cancelled ? 'Cancelled' : tail ? 'Live tail' : `Page ${message.pageNumber}`}: ${formatCount(matches)} matching of ${formatCount(p.scannedMessages)} messages (${formatBytes(p.scannedBytes)}) scanned in ${(message.elapsedMs / 1000).toFixed(1)} s`;
  positions.textContent = p.positions
    .map((x) => `partition ${x.partition}: ${formatCount(x.position)} / ${formatCount(x.end)}`)
    .join(' · ');
  endNote.textContent = pageEndNote(message);
  endNote.dataset.end = String(!message.hasNext && !tail);
  histogramView.show(message.histogram);
  following = tail && !message.cancelled && message.hasNext;
  setRunning(false);
  if (following) post({ type: 'next' });
}

// ---- messages ----

window.addEventListener('message', (event: MessageEvent<HostToBrowser>) => {
  const message = event.data;
  switch (message?.type) {
    case 'init':
      topic = message.topic;
      title.textContent = `Messages: ${topic}`;
      linkNote.textContent = message.note ?? '';
      linkNote.hidden = !message.note;
      fillForm(message.form, message.partitions);
      if (message.run) run();
      break;
    case 'scanning':
      setRunning(true);
      showErrors();
      if (!following) state.textContent = `Scanning page ${message.pageNumber}…`;
      break;
    case 'progress':
      if (!tail) showProgress(message.progress);
      break;
    case 'page':
      onPage(message);
      break;
    case 'failed':
      following = false;
      setRunning(false);
      // A refused field (a bad WHERE, a bad offset) scanned nothing: the rows on screen are still the last scan's.
      state.textContent =
        message.field !== 'scan'
          ? 'Not scanned: see the message under the field. The rows below are from the last scan.'
          : message.message === 'Cancelled.'
            ? 'Cancelled.'
            : 'The scan failed.';
      if (message.message !== 'Cancelled.') showErrors(message.field, message.message);
      break;
    case 'exportStatus':
      exportStatus.textContent = message.text;
      break;
  }
});

timeInput.value = formatUtcInput(Date.now() - 10 * 60_000);
setRunning(false);
histogramView.show(undefined);
post({ type: 'ready' });
