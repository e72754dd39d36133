// The pipeline monitor: polls Kafka, Flink and the processes every refresh interval and publishes one PipelineSnapshot.
import * as vscode from 'vscode';
import { FlinkRestClient } from '../flink/flinkRest';
import { flinkReaderFor, type FlinkJobHealth } from '../flink/flinkSnapshot';
import { LagTrend } from '../pipeline/lagTrend';
import { RateMeter } from '../kafka/rates';
import { PipelineProcess } from '../local/pipelineProcesses';
import { LocalStack } from '../local/stack';
import { buildSnapshot, type KafkaReadings } from '../pipeline/pipelineSnapshot';
import { emptySnapshot, type PipelineSnapshot, type ProcessPhase } from '../pipeline/statusModel';
import { affectsAny, jobRestUrl, settings } from './settings';
import type { KafkaConnections } from './connections';
import { ContextKey, setContextKey } from './contextKeys';
import { Disposable, intervalDisposable, joiningRuns } from './lifecycle';
import type { Log } from './log';
import type { PipelineTerminals } from './terminals';
import { workspaceFolder } from './workspace';

/**
 * Samples the pipeline every refresh interval — broker reachability, the topic's end offsets (ingest rate), the
 * Flink job's state over REST and its group's lag — into one `PipelineSnapshot` for the status bar and the
 * Pipeline view. Polls never overlap, and each request has its own timeout.
 */
export class PipelineMonitor extends Disposable {
  private current: PipelineSnapshot;
  private readonly rate = new RateMeter();
  private readonly lagTrend = new LagTrend();
  private readonly joinedPoll = joiningRuns(
    () => this.poll(),
    (error) => this.log.error('Pipeline status', error),
  );
  private timer: vscode.Disposable | undefined;
  private readonly _onDidChange = this._register(new vscode.EventEmitter<PipelineSnapshot>());
  readonly onDidChange = this._onDidChange.event;
  /** Fires when the primary broker goes from answering to not answering or back. */
  private readonly _onDidChangeBrokerState = this._register(new vscode.EventEmitter<PipelineSnapshot['broker']['state']>());
  readonly onDidChangeBrokerState = this._onDidChangeBrokerState.event;

  constructor(
    private readonly connections: KafkaConnections,
    private readonly terminals: PipelineTerminals,
    private readonly log: Log,
  ) {
    super();
    this.current = emptySnapshot(connections.primary().bootstrapServers, settings.topic.value, jobRestUrl(), settings.jobGroupId.value);
    this.schedule();
    this._register(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (settings.refreshIntervalSeconds.affects(e)) this.schedule();
        if (affectsAny(e, settings.topic, settings.flinkRestUrl, settings.flinkTarget, settings.jobGroupId, settings.bootstrapServers)) {
          this.rate.reset();
          this.lagTrend.reset();
          void this.refresh();
        }
      }),
    );
    this._register(connections.onDidChange(() => void this.refresh()));
    this._register(terminals.onDidChange(() => void this.refresh()));
    this._register({ dispose: () => this.timer?.dispose() });
  }

  get snapshot(): PipelineSnapshot {
    return this.current;
  }

  private schedule(): void {
    this.timer?.dispose();
    this.timer = undefined;
    const seconds = settings.refreshIntervalSeconds.value;
    if (seconds > 0) this.timer = intervalDisposable(() => void this.refresh(), Math.max(1, seconds) * 1000);
  }

  /** One poll now (joins the one in flight). Never rejects. */
  refresh(): Promise<void> {
    return this.joinedPoll();
  }

  private async poll(): Promise<void> {
    const primary = this.connections.primary();
    const topic = settings.topic.value;
    const groupId = settings.jobGroupId.value;
    const restAddress = jobRestUrl();
    const folder = workspaceFolder();
    const localRunning = folder ? new LocalStack(folder).runningMode() !== undefined : false;

    const kafkaTask = (async (): Promise<KafkaReadings> => {
      try {
        const client = await this.connections.client(primary);
        const cluster = await client.describeCluster();
        const [offsets, lag] = await Promise.allSettled([client.fetchPartitionOffsets(topic), client.describeGroupLag(groupId, [topic])]);
        return { reachable: true, brokers: cluster.brokers.length, offsets, lag, readAt: Date.now() };
      } catch (error) {
        return { reachable: false, error };
      }
    })();
    // The job's restarts, exceptions and source position, through the reader the Flink view shares (it caches per job).
    const reader = flinkReaderFor(restAddress);
    const flinkTask = (async () => {
      const overview = await new FlinkRestClient(restAddress).overview(
        folder ? new PipelineProcess(folder, 'job').flinkJobId() : undefined,
      );
      // Two more requests while a job is known: its restarts and where its source reads (the status bar's lag in time).
      const health: FlinkJobHealth =
        overview.reachable && overview.current
          ? await reader.readHealth(overview.current.jid, overview.current.state).catch(() => ({}))
          : {};
      return { ...overview, health };
    })();
    const [kafka, flink] = await Promise.all([kafkaTask, flinkTask]);

    const previousBroker = this.current.broker.state;
    this.current = buildSnapshot(
      {
        primary,
        topic,
        groupId,
        restAddress,
        localRunning,
        kafka,
        flink,
        generator: this.processPhase('generator', folder),
        jobProcess: this.processPhase('job', folder),
        now: Date.now(),
      },
      { rate: this.rate, lagTrend: this.lagTrend },
    );
    const { broker, generator, job } = this.current;
    await Promise.all([
      setContextKey(ContextKey.BrokerUp, broker.state === 'up'),
      setContextKey(ContextKey.LocalStackRunning, localRunning),
      setContextKey(ContextKey.PrimaryIsLocal, primary.local),
      setContextKey(ContextKey.GeneratorRunning, generator === 'running' || generator === 'starting'),
      setContextKey(ContextKey.JobRunning, job.phase === 'running' || job.phase === 'starting'),
    ]);
    this._onDidChange.fire(this.current);
    if (previousBroker !== broker.state) {
      this.log.info(`Kafka at ${primary.bootstrapServers}: ${broker.state}${broker.detail ? ` (${broker.detail})` : ''}.`);
      this._onDidChangeBrokerState.fire(broker.state);
    }
  }

  /**
   * A generator or job runs when its Python process (tracked by the CLI in `.pipeline/`) lives — wherever it was
   * started; while only its terminal runs, the CLI is still preparing it (`starting`).
   */
  private processPhase(role: 'generator' | 'job', folder: string | undefined): ProcessPhase {
    const terminal = this.terminals.phase(role);
    const tracked = folder ? new PipelineProcess(folder, role).running() : false;
    if (terminal === 'stopping') return 'stopping';
    if (tracked) return 'running';
    return terminal === 'running' ? 'starting' : terminal;
  }

  /** Polls until `done(snapshot)` holds or `timeoutMs` passes; resolves whether it held. */
  async waitFor(done: (s: PipelineSnapshot) => boolean, timeoutMs: number, token?: vscode.CancellationToken): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await this.refresh();
      if (done(this.current)) return true;
      if (Date.now() > deadline || token?.isCancellationRequested) return false;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}
