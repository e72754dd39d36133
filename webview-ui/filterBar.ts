// The results webview's filter bar: sensors, a time range and a text search over the tables.
import type { VscodeMultiSelect } from '@vscode-elements/elements/dist/vscode-multi-select/vscode-multi-select.js';
import type { VscodeTextfield } from '@vscode-elements/elements/dist/vscode-textfield/vscode-textfield.js';
import { FILTER_TIME_HINT, filterPlaceholders, type ResultsSummary, type RowFilter } from '../src/results/resultsProtocol';
import { button, h } from './dom';

export class FilterBar {
  private readonly sensorSelect = h('vscode-multi-select', {
    combobox: true,
    class: 'sensor-select',
    'data-testid': 'filter-sensors',
    'aria-label': 'Sensors',
  }) as VscodeMultiSelect;
  private readonly fromField = h('vscode-textfield', {
    placeholder: FILTER_TIME_HINT,
    'data-testid': 'filter-from',
    'aria-label': 'From (UTC, inclusive)',
  }) as VscodeTextfield;
  private readonly toField = h('vscode-textfield', {
    placeholder: FILTER_TIME_HINT,
    'data-testid': 'filter-to',
    'aria-label': 'To (UTC, exclusive)',
  }) as VscodeTextfield;
  private readonly searchField = h('vscode-textfield', {
    type: 'search',
    placeholder: 'Text in rows',
    'data-testid': 'filter-search',
    'aria-label': 'Search text',
  }) as VscodeTextfield;
  readonly element: HTMLElement;

  /** `onApply` runs when the user applies the filter (Apply, Enter, a sensor picked) or clears it. */
  constructor(onApply: () => void) {
    this.element = h(
      'section',
      { class: 'filters', 'data-testid': 'results-filter', 'aria-label': 'Filter' },
      h('label', { class: 'field' }, h('span', {}, 'Sensors'), this.sensorSelect),
      h('label', { class: 'field' }, h('span', {}, 'From (UTC)'), this.fromField),
      h('label', { class: 'field' }, h('span', {}, 'To (UTC)'), this.toField),
      h('label', { class: 'field' }, h('span', {}, 'Search'), this.searchField),
      h(
        'div',
        { class: 'field buttons' },
        button('Apply', 'filter', onApply, { 'data-testid': 'filter-apply' }),
        button(
          'Clear',
          'clear-all',
          () => {
            this.sensorSelect.value = [];
            this.fromField.value = '';
            this.toField.value = '';
            this.searchField.value = '';
            onApply();
          },
          { 'data-testid': 'filter-clear' },
        ),
      ),
    );
    for (const field of [this.fromField, this.toField, this.searchField])
      field.addEventListener('keydown', (e) => (e as KeyboardEvent).key === 'Enter' && onApply());
    this.sensorSelect.addEventListener('change', onApply);
  }

  /** The filter the fields hold now. */
  read(): RowFilter {
    const sensors = (this.sensorSelect.value ?? []).filter(Boolean);
    const filter: RowFilter = {};
    if (sensors.length) filter.sensors = sensors;
    if (this.fromField.value.trim()) filter.from = this.fromField.value.trim();
    if (this.toField.value.trim()) filter.to = this.toField.value.trim();
    if (this.searchField.value.trim()) filter.search = this.searchField.value.trim();
    return filter;
  }

  /** Fills the text fields from a remembered filter (the sensors come with the first summary). */
  fill(filter: RowFilter): void {
    this.fromField.value = filter.from ?? '';
    this.toField.value = filter.to ?? '';
    this.searchField.value = filter.search ?? '';
  }

  /** Hints the data's own time range in the From/To boxes (the format alone while there are no windows). */
  showRange(range: ResultsSummary['timeRange']): void {
    const hint = filterPlaceholders(range);
    this.fromField.placeholder = hint.from;
    this.toField.placeholder = hint.to;
  }

  /** Keeps the user's sensor selection; offers the sensors that exist now. */
  offerSensors(existing: string[], selectedNames: string[]): void {
    const selected = new Set(selectedNames);
    const names = [...new Set([...existing, ...selected])].sort();
    const current = Array.from(this.sensorSelect.querySelectorAll('vscode-option'), (o) => o.getAttribute('value'));
    if (current.join('\n') !== names.join('\n')) {
      this.sensorSelect.replaceChildren(...names.map((name) => h('vscode-option', { value: name, selected: selected.has(name) }, name)));
    }
  }
}
