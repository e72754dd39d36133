// The results table: a sticky header, one page of rows in the DOM, sort by a header click.
import type { CellValue, ColumnInfo, SortSpec } from '../src/results/resultsProtocol';
import { h, icon } from './dom';
import { formatCell } from './format';

/**
 * The results table: a plain <table> with a sticky header inside a scrolling box. Only the rows of the current
 * page exist in the DOM. Rows are replaced in place, so the scroll position survives a live update.
 */
export class ResultsTable {
  readonly element: HTMLElement;
  readonly scroller: HTMLElement;
  private readonly table: HTMLTableElement;
  private readonly caption: HTMLTableCaptionElement;
  private readonly head: HTMLTableSectionElement;
  private readonly body: HTMLTableSectionElement;
  private headerKey = '';
  /** A button at the end of a row (a dead letter's "Show the Record"), or none. */
  rowAction?: (columns: ColumnInfo[], values: CellValue[]) => { label: string; title: string; run: () => void } | undefined;

  constructor(private readonly onSort: (column: string) => void) {
    this.caption = h('caption', { class: 'visually-hidden' });
    this.head = h('thead');
    this.body = h('tbody');
    this.table = h('table', { class: 'results-table', 'data-testid': 'results-table' }, this.caption, this.head, this.body);
    this.scroller = h('div', { class: 'table-scroll', tabindex: '0' }, this.table);
    this.element = this.scroller;
  }

  render(
    columns: ColumnInfo[],
    rows: CellValue[][],
    sort: SortSpec | undefined,
    caption: string,
    emptyText: string,
    rowOffset: number,
  ): void {
    this.caption.textContent = caption;
    this.table.setAttribute('aria-rowcount', String(rows.length));
    const actions = rows.map((values) => this.rowAction?.(columns, values));
    const withActions = actions.some(Boolean);
    const key = JSON.stringify([columns, sort, withActions]);
    if (key !== this.headerKey) {
      this.headerKey = key;
      const row = h('tr', {}, h('th', { scope: 'col', class: 'rownum', 'aria-label': 'Row number' }, '#'));
      for (const column of columns) {
        const sorted = sort?.column === column.name ? sort.direction : undefined;
        const numeric = column.kind === 'integer' || column.kind === 'number';
        const button = h(
          'button',
          {
            type: 'button',
            class: 'sort',
            title: `Sort by ${column.name}${sorted === 'asc' ? ' (descending next)' : sorted === 'desc' ? ' (ascending next)' : ''}`,
            'data-column': column.name,
          },
          h('span', { class: 'name' }, column.name),
          sorted ? icon(sorted === 'asc' ? 'arrow-up' : 'arrow-down') : h('span', { class: 'sort-placeholder', 'aria-hidden': 'true' }),
        );
        button.addEventListener('click', () => this.onSort(column.name));
        row.append(
          h(
            'th',
            {
              scope: 'col',
              class: numeric ? 'num' : undefined,
              'aria-sort': sorted === 'asc' ? 'ascending' : sorted === 'desc' ? 'descending' : 'none',
            },
            button,
          ),
        );
      }
      if (withActions) row.append(h('th', { scope: 'col', 'aria-label': 'Actions' }));
      this.head.replaceChildren(row);
    }
    const fragment = document.createDocumentFragment();
    if (rows.length === 0) {
      fragment.append(h('tr', { class: 'empty-row' }, h('td', { colspan: columns.length + 1 }, emptyText)));
    }
    rows.forEach((values, i) => {
      const tr = h('tr', { 'data-testid': 'results-row' }, h('td', { class: 'rownum' }, String(rowOffset + i + 1)));
      values.forEach((value, c) => {
        const cell = formatCell(value, columns[c]?.kind ?? 'text');
        tr.append(h('td', { class: cell.className, title: cell.title }, cell.text));
      });
      const action = actions[i];
      if (action) {
        const b = h(
          'button',
          { type: 'button', class: 'row-action', title: action.title, 'data-testid': 'results-row-action' },
          action.label,
        );
        b.addEventListener('click', action.run);
        tr.append(h('td', {}, b));
      } else if (withActions) tr.append(h('td'));
      fragment.append(tr);
    });
    this.body.replaceChildren(fragment);
  }
}
