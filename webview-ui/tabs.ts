// The results webview's tab strip (one panel per table and the query result, each with a row-count badge) and the pager under the table.
import type { VscodeSingleSelect } from '@vscode-elements/elements/dist/vscode-single-select/vscode-single-select.js';
import type { VscodeTabs } from '@vscode-elements/elements/dist/vscode-tabs/vscode-tabs.js';
import { button, h } from './dom';
import { TAB_LABELS, TABS, type Tab } from './viewState';

const PAGE_SIZES = [50, 100, 200, 500];

export type PageMove = 'first' | 'previous' | 'next' | 'last';

export class ResultTabs {
  readonly element = h('vscode-tabs', { class: 'tabs', 'data-testid': 'results-tabs' }) as VscodeTabs;
  readonly badges = new Map<Tab, HTMLElement>();
  private readonly panels = new Map<Tab, HTMLElement>();

  constructor(onSelect: (tab: Tab) => void) {
    for (const tab of TABS) {
      const badge = h('vscode-badge', { variant: 'counter' }, '0');
      this.badges.set(tab, badge);
      this.element.append(
        h(
          'vscode-tab-header',
          { slot: 'header', 'data-tab': tab, 'data-testid': `tab-${tab}` },
          TAB_LABELS[tab],
          tab === 'query' ? null : badge,
        ),
      );
      const panel = h('vscode-tab-panel', { 'data-tab': tab });
      this.panels.set(tab, panel);
      this.element.append(panel);
    }
    this.element.addEventListener('vsc-tabs-select', (event) => {
      const index = (event as CustomEvent<{ selectedIndex: number }>).detail.selectedIndex;
      onSelect(TABS[index] ?? 'aggregates');
    });
  }

  /** Selects `tab` (unless it is selected) and moves `content`, the one table area, into its panel. */
  show(tab: Tab, content: HTMLElement): void {
    const index = TABS.indexOf(tab);
    if (this.element.selectedIndex !== index) this.element.selectedIndex = index;
    this.panels.get(tab)?.append(content);
  }
}

export class Pager {
  readonly text = h('span', { class: 'pager-text', 'data-testid': 'results-pager' });
  readonly element: HTMLElement;

  constructor(pageSize: number, onMove: (where: PageMove) => void, onPageSize: (size: number) => void) {
    const sizeSelect = h('vscode-single-select', { class: 'page-size', 'aria-label': 'Rows per page' }) as VscodeSingleSelect;
    for (const size of PAGE_SIZES)
      sizeSelect.append(h('vscode-option', { value: String(size), selected: size === pageSize }, `${size} rows`));
    sizeSelect.addEventListener('change', () => onPageSize(Number(sizeSelect.value) || 100));
    this.element = h(
      'div',
      { class: 'pager' },
      this.text,
      button('', 'arrow-left', () => onMove('first'), { title: 'First page', 'aria-label': 'First page', 'data-testid': 'page-first' }),
      button('', 'chevron-left', () => onMove('previous'), {
        title: 'Previous page',
        'aria-label': 'Previous page',
        'data-testid': 'page-previous',
      }),
      button('', 'chevron-right', () => onMove('next'), { title: 'Next page', 'aria-label': 'Next page', 'data-testid': 'page-next' }),
      button('', 'arrow-right', () => onMove('last'), { title: 'Last page', 'aria-label': 'Last page', 'data-testid': 'page-last' }),
      sizeSelect,
    );
  }
}
