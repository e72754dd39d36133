// The Pipeline view's tree provider: the three processes with start and stop, and the numbers that tie them together.
import * as vscode from 'vscode';
import { Disposable } from '../services/lifecycle';
import type { PipelineMonitor } from '../services/pipelineMonitor';
import { mdCode, mdText } from '../shared/markdown';
import { formatBehind, lagSawNote, lagSparkline, lagWords } from '../pipeline/lagTrend';
import { formatRate } from '../kafka/rates';
import { jobWord, lagTrendLines, type PipelineSnapshot, type ProcessPhase } from '../pipeline/statusModel';
import { contextValueOf } from '../kafka/treeModel';

export const PIPELINE_VIEW_ID = 'kafkaFlinkLab.pipeline';

export type PipelineRowKind = 'broker' | 'generator' | 'job' | 'ingest' | 'lag' | 'dashboard' | 'results';

export interface PipelineRow {
  kind: PipelineRowKind;
}

const phaseIcon: Record<ProcessPhase, [string, string | undefined]> = {
  running: ['pass-filled', 'testing.iconPassed'],
  starting: ['loading~spin', undefined],
  stopping: ['loading~spin', undefined],
  stopped: ['circle-large-outline', undefined],
  failed: ['error', 'errorForeground'],
};

const icon = ([id, color]: [string, string | undefined]) => new vscode.ThemeIcon(id, color ? new vscode.ThemeColor(color) : undefined);

/** Running-ish phases get the stop action, the others the start action (`contextValue` ends in -running/-stopped). */
const runState = (phase: ProcessPhase) => (phase === 'running' || phase === 'starting' || phase === 'stopping' ? 'running' : 'stopped');

/** The Pipeline view: the three processes with their state and inline start/stop, plus the numbers that tie them. */
export class PipelineView extends Disposable implements vscode.TreeDataProvider<PipelineRow> {
  private readonly _onDidChangeTreeData = this._register(new vscode.EventEmitter<undefined>());
  readonly onDidChangeTreeData = this._onDidChangeTreeData.event;
  private readonly rows: PipelineRow[] = (['broker', 'generator', 'job', 'ingest', 'lag', 'dashboard', 'results'] as PipelineRowKind[]).map(
    (kind) => ({ kind }),
  );

  constructor(private readonly monitor: PipelineMonitor) {
    super();
    this._register(vscode.window.createTreeView(PIPELINE_VIEW_ID, { treeDataProvider: this }));
    this._register(monitor.onDidChange(() => this._onDidChangeTreeData.fire(undefined)));
  }

  getChildren(row?: PipelineRow): PipelineRow[] {
    return row ? [] : this.rows;
  }

  getTreeItem(row: PipelineRow): vscode.TreeItem {
    return renderRow(row.kind, this.monitor.snapshot);
  }
}

function renderRow(kind: PipelineRowKind, s: PipelineSnapshot): vscode.TreeItem {
  const item = new vscode.TreeItem('', vscode.TreeItemCollapsibleState.None);
  item.id = `pipeline/${kind}`;
  switch (kind) {
    case 'broker': {
      const phase: ProcessPhase = s.broker.state === 'up' ? 'running' : s.broker.state === 'degraded' ? 'failed' : 'stopped';
      item.label = 'Kafka broker';
      item.description = `${s.broker.state === 'unknown' ? '…' : s.broker.state} · ${s.broker.address}`;
      item.iconPath = icon(s.broker.state === 'unknown' ? ['loading~spin', undefined] : phaseIcon[phase]);
      item.contextValue = contextValueOf('process', 'broker', runState(phase), s.broker.local && 'local');
      item.tooltip = new vscode.MarkdownString(
        `**Kafka broker** at ${mdCode(s.broker.address)}: ${s.broker.state}${s.broker.detail ? `\n\n${mdText(s.broker.detail)}` : ''}\n\n${s.broker.local ? 'The local stack: Apache Kafka in KRaft mode (no ZooKeeper), started from its jars; data in `.pipeline/kafka`.' : 'A cluster from the bootstrap servers setting.'}`,
      );
      item.command = { command: 'kafkaFlinkLab.kafka.focus', title: 'Show in the Kafka view' };
      return item;
    }
    case 'generator':
      item.label = 'Sensor generator';
      item.description = `${s.generator} · → ${s.topic}`;
      item.iconPath = icon(phaseIcon[s.generator]);
      item.contextValue = contextValueOf('process', 'generator', runState(s.generator));
      item.tooltip = new vscode.MarkdownString(
        `**Sensor generator** (\`flink-jobs/data_generator.py\`): simulated IoT sensors writing JSON events to ${mdCode(s.topic)}, keyed by sensor id so each sensor's events stay in order in one partition. State: ${s.generator}.`,
      );
      item.command = { command: 'kafkaFlinkLab.generator.showTerminal', title: 'Show terminal' };
      return item;
    case 'job': {
      item.label = 'Flink job';
      item.description = [
        jobWord(s.job),
        s.job.restarting && s.job.restarts ? `${s.job.restarts} restarts` : undefined,
        s.job.lag !== undefined ? `lag ${s.job.lag}` : undefined,
      ]
        .filter(Boolean)
        .join(' · ');
      item.iconPath = icon(s.job.restarting && s.job.phase !== 'failed' ? ['warning', 'list.warningForeground'] : phaseIcon[s.job.phase]);
      item.contextValue = contextValueOf('process', 'job', runState(s.job.phase));
      item.tooltip = new vscode.MarkdownString(
        `**Flink job**${s.job.name ? ` ${mdCode(s.job.name)}` : ''} (PyFlink, \`flink-jobs/flink_job.py\`): reads ${mdCode(s.topic)}, windows events by event time, writes aggregates, alerts and dead letters. State: ${mdText(jobWord(s.job))}${s.job.restReachable ? '' : ` — REST API at ${mdCode(s.job.restAddress)} not reachable`}.${s.job.exception && (s.job.restarting || s.job.phase === 'failed') ? `\n\n$(error) ${s.job.restarts ?? 0} restarts; newest exception: ${mdText(s.job.exception.headline)}` : ''}\n\nThe **Flink** view shows its operators, watermarks, checkpoints and exceptions.`,
        true,
      );
      item.command = { command: 'kafkaFlinkLab.job.showTerminal', title: 'Show terminal' };
      return item;
    }
    case 'ingest':
      item.label = 'Ingest';
      item.description = `${formatRate(s.ingestRate)} into ${s.topic}`;
      item.iconPath = new vscode.ThemeIcon('graph-line');
      item.contextValue = contextValueOf('metric', 'ingest');
      item.tooltip = new vscode.MarkdownString(
        `Records per second written to ${mdCode(s.topic)}: the growth of the sum of its partitions' end offsets between two refreshes${s.endOffsetTotal !== undefined ? ` (now ${s.endOffsetTotal})` : ''}.`,
      );
      return item;
    case 'lag': {
      item.label = 'Consumer lag';
      const trend = lagSparkline(s.lagTrend ?? [], 'records');
      const now = lagWords(s.job.lag, s.job.behindMs);
      const trendLines = lagTrendLines(s);
      item.description = [now || s.job.lagNote || 'unknown', trend?.line, `group ${s.job.groupId}`].filter(Boolean).join(' · ');
      item.iconPath = new vscode.ThemeIcon('dashboard');
      item.contextValue = contextValueOf('metric', 'lag');
      item.tooltip = new vscode.MarkdownString(
        [
          `Records in ${mdCode(s.topic)} that the Flink job has not committed yet: end offset − committed offset of group ${mdCode(s.job.groupId)}, summed over partitions${s.job.lag !== undefined ? ` — now **${s.job.lag}**` : ''}.`,
          s.job.behindMs !== undefined
            ? `\nIn time: the records the job's Kafka source emits now were written **${formatBehind(s.job.behindMs)}** before (Flink's \`currentEmitEventTimeLag\`) — how far behind it reads.`
            : '',
          '',
          ...(trendLines.length ? trendLines : [`- ${lagSawNote(s.job.checkpointIntervalMs)}`]),
        ].join('\n'),
      );
      return item;
    }
    case 'dashboard':
      item.label = 'Flink web UI';
      item.description = s.job.restReachable ? s.job.restAddress : `${s.job.restAddress} (not running)`;
      item.iconPath = new vscode.ThemeIcon('link-external');
      item.contextValue = contextValueOf('metric', 'dashboard');
      item.command = { command: 'kafkaFlinkLab.job.openDashboard', title: 'Open Flink web UI' };
      return item;
    case 'results':
      item.label = 'Results';
      item.description = 'aggregates · alerts · dead letters';
      item.iconPath = new vscode.ThemeIcon('table');
      item.contextValue = contextValueOf('metric', 'results');
      item.tooltip = new vscode.MarkdownString(
        'What the Flink job has committed to the output folder, read with DuckDB: only files Flink has finished (renamed on a completed checkpoint) count, so a row appears once and only once — that is the *exactly-once* part you can see.',
      );
      item.command = { command: 'kafkaFlinkLab.results.open', title: 'Open Results' };
      return item;
  }
}
