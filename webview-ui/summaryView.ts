// The results webview's summary of the output folder: its name and live state, the figures, the tab badges and the problems found in its files.
import { RESULT_TABLES, type ResultsSummary } from '../src/results/resultsProtocol';
import { clear, h, icon } from './dom';
import { formatAgo, formatCount, formatTime } from './format';
import { post, TAB_LABELS, type Tab } from './viewState';

function stat(key: string, label: string, value: string, options: { title?: string; warn?: boolean } = {}): HTMLElement {
  return h(
    'div',
    { class: options.warn ? 'stat warn' : 'stat', 'data-stat': key, title: options.title },
    h('span', { class: 'label' }, options.warn ? icon('warning') : null, label),
    h('span', { class: 'value', 'data-testid': `stat-${key}` }, value),
  );
}

export class SummaryView {
  readonly folderLabel = h('span', { class: 'folder', 'data-testid': 'results-folder' });
  readonly liveLabel = h('span', { class: 'live', 'data-testid': 'results-live' });
  readonly summaryBox = h('section', { class: 'summary', 'data-testid': 'results-summary', 'aria-label': 'Summary' });
  readonly messagesBox = h('section', {
    class: 'messages',
    'data-testid': 'results-messages',
    'aria-label': 'Problems with output files',
    hidden: true,
  });
  /** The summary shown, the latest the extension host sent. */
  current?: ResultsSummary;

  constructor(private readonly tabBadges: Map<Tab, HTMLElement>) {}

  show(next: ResultsSummary): void {
    this.current = next;
    this.render();
    this.renderMessages();
    this.liveLabel.textContent = next.outputExists ? 'live' : 'waiting for output';
    this.liveLabel.classList.toggle('waiting', !next.outputExists);
  }

  /** Draws the figures again (also to keep "… s ago" current). */
  render(): void {
    if (!this.current) return;
    const s = this.current;
    this.folderLabel.textContent = s.outputFolder;
    this.folderLabel.title = s.outputFolder;
    const range = s.timeRange
      ? `${formatTime(s.timeRange.from)} → ${s.timeRange.from.slice(0, 10) === s.timeRange.to.slice(0, 10) ? formatTime(s.timeRange.to).slice(11) : formatTime(s.timeRange.to)}`
      : '—';
    const last = s.lastCommittedFile;
    this.summaryBox.replaceChildren(
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
    for (const tab of RESULT_TABLES) this.tabBadges.get(tab)!.textContent = formatCount(s.tables[tab].rows);
  }

  private renderMessages(): void {
    if (!this.current) return;
    const summary = this.current;
    const messages = summary.messages;
    const box = this.messagesBox;
    box.hidden = messages.length === 0;
    box.dataset.worst = messages.some((m) => m.level === 'error')
      ? 'error'
      : messages.some((m) => m.level === 'warning')
        ? 'warning'
        : 'info';
    clear(box);
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
    box.append(list);
  }
}
