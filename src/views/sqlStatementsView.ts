// The Flink SQL Statements view: what this window's SQL session runs, newest first, with Stop on what still runs.
import * as vscode from 'vscode';
import { statementRows, type ListedStatement, type StatementRow } from '../flink/sqlStatementList';
import { Disposable } from '../services/lifecycle';

export const SQL_STATEMENTS_VIEW_ID = 'kafkaFlinkLab.sqlStatements';
const REFRESH_MS = 500;

export class SqlStatementsView extends Disposable implements vscode.TreeDataProvider<StatementRow> {
  private readonly changed = this._register(new vscode.EventEmitter<void>());
  readonly onDidChangeTreeData = this.changed.event;
  private pending: NodeJS.Timeout | undefined;

  constructor(private readonly statements: () => readonly ListedStatement[]) {
    super();
    this._register(vscode.window.createTreeView(SQL_STATEMENTS_VIEW_ID, { treeDataProvider: this }));
    this._register({ dispose: () => clearTimeout(this.pending) });
  }

  /** At most two redraws a second, however often the runs change. */
  refresh(): void {
    if (this.pending || this.isDisposed) return;
    this.pending = setTimeout(() => {
      this.pending = undefined;
      this.changed.fire();
    }, REFRESH_MS);
  }

  getChildren(row?: StatementRow): StatementRow[] {
    return row ? [] : statementRows(this.statements());
  }

  getTreeItem(row: StatementRow): vscode.TreeItem {
    const item = new vscode.TreeItem(row.label, vscode.TreeItemCollapsibleState.None);
    item.id = `sql-statement/${row.id}`;
    item.description = row.description;
    item.tooltip = row.tooltip;
    // Read aloud (and seen by the e2e run) as the row shows it, not as its long tooltip.
    item.accessibilityInformation = { label: `${row.label} ${row.description}` };
    item.iconPath = new vscode.ThemeIcon(row.icon);
    item.contextValue = row.stop ? 'sqlStatement.stoppable' : 'sqlStatement';
    item.command = { command: 'kafkaFlinkLab.sql.showStatement', title: 'Show the Results', arguments: [row.id] };
    return item;
  }
}
