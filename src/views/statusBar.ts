// The status bar item: broker, ingest rate, Flink job and lag, drawn from one PipelineSnapshot.
import * as vscode from 'vscode';
import { Disposable } from '../services/lifecycle';
import type { PipelineMonitor } from '../services/pipelineMonitor';
import { renderStatus, type PipelineSnapshot } from '../pipeline/statusModel';

const BACKGROUND = {
  ok: undefined,
  warning: new vscode.ThemeColor('statusBarItem.warningBackground'),
  error: new vscode.ThemeColor('statusBarItem.errorBackground'),
} as const;

/** One status bar item that renders one `PipelineSnapshot`: broker, ingest rate, Flink job and lag. */
export class PipelineStatusBar extends Disposable {
  private readonly item: vscode.StatusBarItem;

  constructor(monitor: PipelineMonitor) {
    super();
    this.item = this._register(vscode.window.createStatusBarItem('kafkaFlinkLab.status', vscode.StatusBarAlignment.Left, 50));
    this.item.name = 'Kafka Flink Lab';
    this.item.command = 'kafkaFlinkLab.pipeline.showActions';
    this.render(monitor.snapshot);
    this.item.show();
    this._register(monitor.onDidChange((s) => this.render(s)));
  }

  private render(snapshot: PipelineSnapshot): void {
    const r = renderStatus(snapshot);
    this.item.text = r.text;
    this.item.backgroundColor = BACKGROUND[r.severity];
    const tooltip = new vscode.MarkdownString(r.tooltip, true);
    tooltip.isTrusted = {
      enabledCommands: ['kafkaFlinkLab.pipeline.showActions', 'kafkaFlinkLab.pipeline.refresh', 'kafkaFlinkLab.log.show'],
    };
    this.item.tooltip = tooltip;
    this.item.accessibilityInformation = { label: r.text.replace(/\$\([^)]+\)\s*/g, ''), role: 'button' };
  }
}
