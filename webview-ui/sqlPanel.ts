// The Flink SQL results panel: the folded table or the changelog of one statement, its counts and rate, Stop and export. Every value goes in as text.
import type { PanelRequest, PanelUpdate } from '../src/flink/sqlPanelProtocol';
import { h } from './dom';
import { formatCount, formatNumber } from './format';
import './base.css';
import './panel.css';
import './sqlPanel.css';

interface VsCodeApi {
  postMessage(message: PanelRequest): void;
}
declare function acquireVsCodeApi(): VsCodeApi;
const vscode = acquireVsCodeApi();
const post = (message: PanelRequest) => vscode.postMessage(message);

const OP_TEXT: Record<string, string> = { '+I': 'insert', '-U': 'update: old row', '+U': 'update: new row', '-D': 'delete' };

function actionButton(label: string, id: string, onClick: () => void): HTMLButtonElement {
  const b = h('button', { type: 'button', id, 'data-testid': id }, label);
  b.addEventListener('click', onClick);
  return b;
}

const statement = h('pre', { class: 'statement', 'data-testid': 'sql-statement' });
const state = h('span', { class: 'state', 'data-testid': 'sql-state', role: 'status' });
const counts = h('span', { class: 'counts', 'data-testid': 'sql-counts' });
const stop = actionButton('Stop', 'sql-stop', () => post({ type: 'stop' }));
const tableTab = h('button', { type: 'button', role: 'tab', 'data-testid': 'sql-view-table' }, 'Table');
const changelogTab = h('button', { type: 'button', role: 'tab', 'data-testid': 'sql-view-changelog' }, 'Changelog');
tableTab.addEventListener('click', () => post({ type: 'view', view: 'table' }));
changelogTab.addEventListener('click', () => post({ type: 'view', view: 'changelog' }));
const exportCsv = actionButton('Export CSV', 'sql-export-csv', () => post({ type: 'export', format: 'csv' }));
const exportJson = actionButton('Export JSON', 'sql-export-json', () => post({ type: 'export', format: 'json' }));
const note = h('div', { class: 'note', 'data-testid': 'sql-note' });
const problem = h('div', { class: 'problem', 'data-testid': 'sql-problem', role: 'alert' });
const details = actionButton('Show the whole error', 'sql-details', () => post({ type: 'details' }));
const flinkLink = actionButton('Show it in the Flink view', 'sql-flink-view', () => post({ type: 'flinkView' }));
const head = h('thead');
const body = h('tbody');
const table = h('table', { class: 'grid', 'data-testid': 'sql-grid' }, head, body);

document.body.append(
  h(
    'div',
    { class: 'app' },
    statement,
    h(
      'div',
      { class: 'toolbar' },
      state,
      counts,
      stop,
      h('span', { class: 'tabs', role: 'tablist' }, tableTab, changelogTab),
      exportCsv,
      exportJson,
    ),
    note,
    h('div', { class: 'problem-box' }, problem, details),
    flinkLink,
    h('div', { class: 'grid-scroll', tabindex: '0' }, table),
  ),
);

function cellText(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'number') return formatNumber(value);
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

let headerKey = '';

function render(update: PanelUpdate): void {
  const s = update.snapshot;
  statement.textContent = update.statement;
  const ended = s.state === 'finished' || s.state === 'stopped' || s.state === 'failed';
  const waited = s.waitedSeconds !== undefined ? ` for the first result: ${Math.round(s.waitedSeconds)} s` : '';
  state.textContent =
    s.state === 'waiting'
      ? `Waiting${waited}${s.jobId ? ` (Flink job ${s.jobId})` : ''}`
      : s.state === 'running'
        ? `Running${s.jobId ? ` (Flink job ${s.jobId})` : ''}`
        : s.state === 'finished'
          ? 'Finished: end of results'
          : s.state === 'stopped'
            ? 'Stopped'
            : 'Failed';
  state.dataset.state = s.state;
  counts.textContent = `${formatCount(s.tableRows)} rows · ${formatCount(s.changes)} changes${ended ? '' : ` · ${formatNumber(Math.round(s.rate))} changes/s`} · ${s.seconds.toFixed(1)} s`;
  stop.disabled = ended;
  tableTab.setAttribute('aria-selected', String(update.view === 'table'));
  changelogTab.setAttribute('aria-selected', String(update.view === 'changelog'));

  const notes: string[] = [];
  if (s.ok) notes.push('OK: the statement applies to this session.');
  if (s.waitReason) notes.push(s.waitReason);
  if (s.kind === 'insert' && s.jobId)
    notes.push(
      `A Flink job was started: ${s.jobId}. It runs on, beside the pipeline job, until you stop it in the Flink SQL Statements view; the Flink view shows it under Other jobs.`,
    );
  if (update.view === 'changelog')
    notes.push(
      'Each change as Flink sent it: +I insert, -U the old row of an update, +U its new row, -D delete. An aggregate over a stream takes its old row back (-U) before it gives the new one (+U).',
    );
  if (s.droppedRows > 0 || s.droppedChanges > 0)
    notes.push(
      `Kept: the newest ${formatCount(update.view === 'table' ? s.tableRows : Math.min(s.changes, update.limit))}; ${formatCount(update.view === 'table' ? s.droppedRows : s.droppedChanges)} older ${update.view === 'table' ? 'rows' : 'changes'} were dropped to keep memory bounded.`,
    );
  if (s.unmatched > 0) notes.push(`${formatCount(s.unmatched)} retractions matched no kept row.`);
  const shown = update.view === 'table' ? s.tableRows : s.rows.length;
  if (s.rows.length < shown)
    notes.push(`Showing the first ${formatCount(s.rows.length)} of ${formatCount(shown)} rows; an export has them all.`);
  note.textContent = notes.join(' ');
  note.hidden = notes.length === 0;
  problem.textContent = s.problem
    ? `${s.problem.line !== undefined ? `${s.problem.line}:${s.problem.column}: ` : ''}${s.problem.message}`
    : '';
  problem.parentElement!.hidden = !s.problem;
  flinkLink.hidden = !(s.kind === 'insert' && s.jobId);

  const columns = update.view === 'changelog' ? ['op', ...s.columns] : s.columns;
  const key = JSON.stringify(columns);
  if (key !== headerKey) {
    headerKey = key;
    head.replaceChildren(h('tr', {}, h('th', { class: 'rownum' }, '#'), ...columns.map((c) => h('th', { scope: 'col' }, c))));
  }
  const fragment = document.createDocumentFragment();
  s.rows.forEach((fields, i) => {
    const op = s.ops?.[i];
    const tr = h(
      'tr',
      {
        'data-testid': 'sql-row',
        class: op ? `op op-${op === '+I' ? 'insert' : op === '-U' ? 'before' : op === '+U' ? 'after' : 'delete'}` : undefined,
      },
      h('td', { class: 'rownum' }, String(i + 1)),
    );
    if (op) tr.append(h('td', { class: 'op-cell', title: OP_TEXT[op] }, op));
    for (const value of fields) tr.append(h('td', { class: typeof value === 'number' ? 'num' : undefined }, cellText(value)));
    fragment.append(tr);
  });
  body.replaceChildren(fragment);
}

window.addEventListener('message', (event: MessageEvent<PanelUpdate>) => {
  if (event.data?.type === 'update') render(event.data);
});
post({ type: 'ready' });
