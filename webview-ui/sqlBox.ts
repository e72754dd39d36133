// The results webview's SQL box: a native textarea (monospace, Ctrl+Enter runs it), styled with the editor's colours.
import { button, h } from './dom';

export class SqlBox {
  private readonly input = h('textarea', {
    class: 'sql-input',
    'data-testid': 'sql-input',
    rows: 4,
    spellcheck: 'false',
    'aria-label': 'SQL query (read-only)',
    placeholder: 'SELECT * FROM aggregates WHERE anomaly_count > 0',
  });
  readonly element: HTMLElement;

  constructor(sql: string, onEdit: (sql: string) => void, onRun: () => void) {
    this.input.value = sql;
    this.input.addEventListener('input', () => onEdit(this.input.value));
    this.input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
        e.preventDefault();
        onRun();
      }
    });
    this.element = h(
      'section',
      { class: 'sql', 'aria-label': 'SQL' },
      this.input,
      h(
        'div',
        { class: 'sql-actions' },
        button('Run', 'play', onRun, { 'data-testid': 'sql-run', title: 'Run the query (Ctrl+Enter)' }),
        h(
          'span',
          { class: 'hint' },
          'Read-only DuckDB SQL over aggregates, alerts, dead_letter (and aggregates_csv, aggregates_json). Ctrl+Enter runs it.',
        ),
      ),
    );
  }

  get value(): string {
    return this.input.value;
  }
}
