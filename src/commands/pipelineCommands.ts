// The pipeline's commands: start and stop the generator and the job, replay, start and stop everything, the actions menu.
import * as vscode from 'vscode';
import { requireWorkspace } from '../services/workspace';
import { join } from 'node:path';
import { cliGenerateArgs, cliJobReplayArgs, cliJobStartArgs, type CliJobOptions } from '../services/cliArgs';
import type { PipelineAccess } from '../services/connections';
import { errorMessage, UserError } from '../shared/errors';
import { runStamp } from '../shared/format';
import { LocalFlinkCluster } from '../local/flinkCluster';
import { localRestPort, type FlinkTarget } from '../flink/flinkJobs';
import { parseReplayStart } from '../kafka/offsetReset';
import { PipelineProcess } from '../local/pipelineProcesses';
import { MAX_SENSORS, validateNonNegativeNumber, validatePositiveInt } from '../config/validation';
import type { PipelineConfig, Resolved } from '../config/resolver';
import { extensionConfig, jobFlinkTarget, settings } from '../services/settings';
import { KafkaNode } from '../views/kafkaTreeNode';
import { registerCommandWithLogging, type Services } from './registration';
import { Cancelled, pickPreset, type Preset } from './prompts';
import { secretTargetDecision } from '../pipeline/secretTargets';
import { startLocalStack } from './stackCommands';

const GENERATOR_GRACE_MS = 5000;
/** The job finishes its last checkpoint on Ctrl-C; give it time before killing. */
const JOB_GRACE_MS = 30_000;

interface GeneratorArgs {
  rate?: number;
  sensors?: number;
  durationSeconds?: number;
  count?: number;
}

interface JobArgs {
  windowSeconds?: number;
}

const plain = <T>(v: unknown): T => (typeof v === 'object' && v !== null && !(v instanceof KafkaNode) ? (v as T) : ({} as T));

function presets(values: number[], preferred: number, unit: string): Preset<number>[] {
  const all = [...new Set([preferred, ...values])].sort((a, b) => a - b);
  return all.map((v) => ({ label: `${v} ${unit}`, description: v === preferred ? 'default (setting)' : undefined, value: v }));
}

/** Makes sure the pipeline's Kafka answers: offers to start the local one, or explains what to fix. */
async function ensureBroker(s: Services, ask: boolean): Promise<void> {
  await s.monitor.refresh();
  if (s.monitor.snapshot.broker.state === 'up') return;
  const primary = s.connections.primary();
  if (!primary.local) throw new UserError(`Kafka at ${primary.bootstrapServers} does not answer: start it or change ${primary.from}.`);
  if (ask) {
    const choice = await vscode.window.showWarningMessage(`Kafka at ${primary.bootstrapServers} is not running.`, 'Start local Kafka');
    if (choice !== 'Start local Kafka') throw new UserError(`Kafka at ${primary.bootstrapServers} is not running: start it first.`);
  }
  await startLocalStack(s, { quiet: !ask });
}

/** The pipeline's topic must exist before the generator writes or the job reads it. */
async function ensureTopic(s: Services): Promise<void> {
  const config = extensionConfig();
  const topic = config.topic().value;
  const partitions = config.partitions().value;
  const client = await s.connections.client();
  const deadline = Date.now() + 15_000;
  // `stack up` creates sensor-data right after the broker answers: give it a moment before creating it here.
  while (!(await client.listTopics()).some((t) => t.name === topic)) {
    if (Date.now() > deadline) {
      await client.createTopic({ name: topic, partitions });
      s.log.info(`Created topic ${topic} (${partitions} partitions) for the pipeline.`);
      return;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

async function startGenerator(s: Services, args: GeneratorArgs, prompt: boolean): Promise<void> {
  const workspace = requireWorkspace();
  const config = extensionConfig();
  const topic = config.topic().value;
  const preferredRate = config.generatorRate().value;
  const preferredSensors = config.generatorSensors().value;
  const rate =
    args.rate ??
    (prompt
      ? await pickPreset(
          'Sensor generator: events per second (over all sensors)',
          presets([10, 100, 1000, 5000], preferredRate, 'events/s'),
          {
            prompt: 'Events per second (0 = as fast as possible)',
            parse: (t) =>
              validateNonNegativeNumber(t, 'The rate') ? { error: validateNonNegativeNumber(t, 'The rate') } : { value: Number(t) },
          },
        )
      : preferredRate);
  const sensors =
    args.sensors ??
    (prompt
      ? await pickPreset('Sensor generator: how many sensors', presets([1, 5, 10, 50, 100], preferredSensors, 'sensors'), {
          prompt: 'Number of sensors',
          parse: (t) =>
            validatePositiveInt(t, 'The number of sensors', MAX_SENSORS)
              ? { error: validatePositiveInt(t, 'The number of sensors', MAX_SENSORS) }
              : { value: Number(t) },
        })
      : preferredSensors);
  const access = await s.connections.pipelineAccess();
  const argv = cliGenerateArgs({
    workspace,
    topic,
    bootstrapServers: access.bootstrapServers,
    rate,
    sensors,
    durationSeconds: args.durationSeconds,
    count: args.count,
    security: access.security,
  });
  if (prompt) await ensureBroker(s, true);
  if ((await s.terminals.start('generator', argv, { password: access.password })) === 'already-running')
    void vscode.window.showInformationMessage('The sensor generator is already running: stop it first to change its rate.');
  await s.monitor.refresh();
}

async function startJob(s: Services, args: JobArgs, prompt: boolean): Promise<void> {
  const workspace = requireWorkspace();
  const config = extensionConfig();
  const target = jobFlinkTarget(config);
  const windowSeconds =
    args.windowSeconds ??
    (prompt ? await pickWindowSeconds('Flink job: tumbling window size (event time)', config) : config.windowSeconds().value);
  const access = await s.connections.pipelineAccess();
  await confirmSecretTarget(s, access, target.value);
  const argv = cliJobStartArgs(jobCliOptions(workspace, config, target, access, windowSeconds, config.outputFolder().value));
  if (prompt) await ensureBroker(s, true);
  if ((await s.terminals.start('job', argv, { password: access.password })) === 'already-running')
    void vscode.window.showInformationMessage('The Flink job is already running in the "Flink job" terminal.');
  await s.monitor.refresh();
}

/** Where the user's agreements to send a cluster's password to a Flink target are kept (hashes, pipeline/secretTargets.ts). */
const AGREED_SECRET_TARGETS = 'kafkaFlinkLab.sasl.agreedFlinkTargets';

/**
 * Before the job carries the SASL password to its Flink target: refused over plain http to another machine; to
 * another machine over https once the user agrees, in a modal naming both, for this identity and this target.
 */
async function confirmSecretTarget(s: Services, access: PipelineAccess, target: FlinkTarget): Promise<void> {
  if (!access.password || !access.security) return;
  const agreed = s.context.globalState.get<string[]>(AGREED_SECRET_TARGETS, []);
  const decision = secretTargetDecision({ bootstrapServers: access.bootstrapServers, security: access.security }, target, agreed);
  if (decision.kind === 'send') return;
  if (decision.kind === 'refuse') throw new UserError(`${decision.message} (${settings.flinkTarget.fullKey})`);
  const send = 'Send the Password';
  const answer = await vscode.window.showWarningMessage(decision.message, { modal: true, detail: decision.detail }, send);
  if (answer !== send) throw new Cancelled();
  await s.context.globalState.update(AGREED_SECRET_TARGETS, [...agreed, decision.key]);
  s.log.info(`Agreed, remembered: ${decision.message.replace(/\?$/, '.')}`);
}

/** The window size, asked with the setting's value first among the presets; a dismissed prompt ends the command. */
function pickWindowSeconds(title: string, config: PipelineConfig): Promise<number> {
  return pickPreset(title, presets([5, 10, 30, 60], config.windowSeconds().value, 's'), {
    prompt: 'Window size in seconds',
    parse: (t) => {
      const error = validatePositiveInt(t, 'The window size', 86_400);
      return error ? { error } : { value: Number(t) };
    },
  });
}

/**
 * The job's command line options: the pipeline's cluster and topic, its group, and where it runs (the embedded
 * MiniCluster on the REST port of flinkRestUrl, or the cluster of flink.target).
 */
function jobCliOptions(
  workspace: string,
  config: PipelineConfig,
  { value: target }: Resolved<FlinkTarget>,
  access: PipelineAccess,
  windowSeconds: number,
  outputDir: string,
): CliJobOptions {
  const common = {
    workspace,
    topic: config.topic().value,
    bootstrapServers: access.bootstrapServers,
    security: access.security,
    outputDir,
    windowSeconds,
    groupId: config.groupId().value,
    parallelism: config.parallelism().value,
  };
  if (target.kind === 'embedded') return { ...common, flink: 'embedded', restPort: localRestPort(config.flinkRestUrl().value) };
  return { ...common, flink: target.kind === 'local-cluster' ? 'local-cluster' : target.url };
}

const REPLAY_STARTS: (vscode.QuickPickItem & { from?: string; ask?: 'time' | 'offsets' })[] = [
  { label: 'From the beginning of the topic', description: 'earliest offset of every partition', from: 'earliest' },
  { label: 'From a point in time…', description: 'the first offset at or after it, per partition', ask: 'time' },
  { label: 'From offsets…', description: 'one offset per partition, like 0:120,1:98,2:130', ask: 'offsets' },
];

/**
 * Re-runs the history: the job stops, its consumer group goes back, and it starts with fresh state into a new
 * folder under the output folder (output/runs/<time>), which the results view then shows.
 */
async function replay(s: Services): Promise<void> {
  const workspace = requireWorkspace();
  const config = extensionConfig();
  const target = jobFlinkTarget(config);
  const start = await vscode.window.showQuickPick(REPLAY_STARTS, {
    title: 'Replay the pipeline: from where?',
    placeHolder: 'The job re-reads the topic from here, into a new output folder',
  });
  if (!start) return;
  let from = start.from;
  if (start.ask) {
    from = await vscode.window.showInputBox({
      title: start.ask === 'time' ? 'Replay from this time (ISO-8601, UTC)' : 'Replay from these offsets',
      value: start.ask === 'time' ? new Date(Date.now() - 3_600_000).toISOString().slice(0, 19) + 'Z' : '0:0,1:0,2:0',
      validateInput: (v) => {
        try {
          parseReplayStart(v);
          return undefined;
        } catch (error) {
          return errorMessage(error);
        }
      },
    });
    if (!from) return;
  }
  const windowSeconds = await pickWindowSeconds('Replay: tumbling window size (event time)', config);
  const outputDir = join(config.outputFolder().value, 'runs', runStamp());
  await ensureBroker(s, true);
  const access = await s.connections.pipelineAccess();
  await confirmSecretTarget(s, access, target.value);
  const argv = cliJobReplayArgs({ ...jobCliOptions(workspace, config, target, access, windowSeconds, outputDir), from: from! });
  await stopProcess(s, 'job', JOB_GRACE_MS);
  await s.terminals.start('job', argv, { password: access.password });
  await s.monitor.refresh();
  await vscode.commands.executeCommand('kafkaFlinkLab.results.chooseRun', outputDir);
}

/**
 * Ctrl-C in the process's terminal (the CLI passes it on to Python), then — after the grace period — the CLI's own
 * stop of the tracked Python process group and a kill of the terminal. A process started outside this window
 * (from a shell, or before a reload) is stopped through the same tracked record.
 */
async function stopProcess(s: Services, role: 'generator' | 'job', graceMs: number): Promise<boolean> {
  const workspace = requireWorkspace();
  const tracked = new PipelineProcess(workspace, role);
  const how = await s.terminals.stop(role, graceMs, () => tracked.stop(5000));
  let stopped = how !== 'not-running';
  if (tracked.running()) {
    const result = await tracked.stop(graceMs);
    s.log.info(`${role === 'job' ? 'Flink job' : 'Generator'} (tracked process) ${result}.`);
    stopped ||= result !== 'not-running';
  }
  await s.monitor.refresh();
  return stopped;
}

async function stopJob(s: Services): Promise<void> {
  if (!(await stopProcess(s, 'job', JOB_GRACE_MS))) void vscode.window.showInformationMessage('The Flink job is not running.');
}

async function stopGenerator(s: Services): Promise<void> {
  if (!(await stopProcess(s, 'generator', GENERATOR_GRACE_MS)))
    void vscode.window.showInformationMessage('The sensor generator is not running.');
}

/** Whether the job's target is the local session cluster; a target setting that does not parse is not that one. */
function onLocalCluster(): boolean {
  try {
    return jobFlinkTarget().value.kind === 'local-cluster';
  } catch {
    return false;
  }
}

export function pipelineCommands(s: Services): vscode.Disposable[] {
  return [
    registerCommandWithLogging(
      'kafkaFlinkLab.generator.start',
      (args?: unknown) =>
        startGenerator(s, plain<GeneratorArgs>(args), !(typeof args === 'object' && args !== null && !(args instanceof KafkaNode))),
      s.log,
    ),
    registerCommandWithLogging('kafkaFlinkLab.generator.stop', () => stopGenerator(s), s.log),
    registerCommandWithLogging(
      'kafkaFlinkLab.generator.showTerminal',
      () =>
        s.terminals.show('generator') ||
        void vscode.window.showInformationMessage('The sensor generator has not been started in this window.'),
      s.log,
    ),
    registerCommandWithLogging(
      'kafkaFlinkLab.job.start',
      (args?: unknown) => startJob(s, plain<JobArgs>(args), !(typeof args === 'object' && args !== null && !(args instanceof KafkaNode))),
      s.log,
    ),
    registerCommandWithLogging('kafkaFlinkLab.job.stop', () => stopJob(s), s.log),
    registerCommandWithLogging('kafkaFlinkLab.job.replay', () => replay(s), s.log),
    registerCommandWithLogging(
      'kafkaFlinkLab.job.showTerminal',
      () => s.terminals.show('job') || void vscode.window.showInformationMessage('The Flink job has not been started in this window.'),
      s.log,
    ),
    registerCommandWithLogging(
      'kafkaFlinkLab.pipeline.startAll',
      async () => {
        await ensureBroker(s, false);
        await ensureTopic(s);
        await startJob(s, {}, false);
        await startGenerator(s, {}, false);
        void vscode.window.showInformationMessage(
          `The pipeline is starting: Kafka at ${s.connections.primary().bootstrapServers}, the Flink job and the sensor generator (${settings.generatorRate.value} events/s).`,
        );
      },
      s.log,
    ),
    registerCommandWithLogging(
      'kafkaFlinkLab.pipeline.stopAll',
      async () => {
        await Promise.all([stopGenerator(s), stopJob(s)]);
        if (onLocalCluster()) {
          const stopped = await new LocalFlinkCluster(requireWorkspace()).down((message) => s.log.info(message));
          if (stopped.length) s.log.info(`Stopped the local Flink cluster (${stopped.join(', ')}).`);
        }
        if (s.connections.primary().local) await vscode.commands.executeCommand('kafkaFlinkLab.stack.stop');
      },
      s.log,
    ),
    registerCommandWithLogging(
      'kafkaFlinkLab.pipeline.refresh',
      async () => {
        s.explorer.refresh();
        await s.monitor.refresh();
      },
      s.log,
    ),
    registerCommandWithLogging(
      'kafkaFlinkLab.pipeline.showActions',
      async () => {
        const snap = s.monitor.snapshot;
        const brokerUp = snap.broker.state === 'up';
        const generatorRunning = snap.generator === 'running';
        const jobRunning = snap.job.phase === 'running' || snap.job.phase === 'starting';
        const available = new Set(await vscode.commands.getCommands(true));
        const actions: (vscode.QuickPickItem & { command?: string })[] = [
          {
            label: '$(run-all) Start everything',
            description: 'Kafka, the Flink job and the sensor generator',
            command: 'kafkaFlinkLab.pipeline.startAll',
          },
          { label: '$(stop-circle) Stop everything', command: 'kafkaFlinkLab.pipeline.stopAll' },
          { label: '', kind: vscode.QuickPickItemKind.Separator },
          brokerUp
            ? { label: '$(debug-stop) Stop local Kafka', command: 'kafkaFlinkLab.stack.stop' }
            : { label: '$(play) Start local Kafka', command: 'kafkaFlinkLab.stack.start' },
          generatorRunning
            ? { label: '$(debug-stop) Stop the sensor generator', command: 'kafkaFlinkLab.generator.stop' }
            : { label: '$(play) Start the sensor generator…', command: 'kafkaFlinkLab.generator.start' },
          jobRunning
            ? { label: '$(debug-stop) Stop the Flink job', command: 'kafkaFlinkLab.job.stop' }
            : { label: '$(play) Start the Flink job…', command: 'kafkaFlinkLab.job.start' },
          {
            label: '$(history) Replay the pipeline…',
            description: 'from the beginning, a time or offsets, into a new output folder',
            command: 'kafkaFlinkLab.job.replay',
          },
          { label: '', kind: vscode.QuickPickItemKind.Separator },
          { label: '$(eye) Peek messages…', command: 'kafkaFlinkLab.messages.peek' },
          {
            label: '$(link-external) Open the Flink web UI',
            description: snap.job.restAddress,
            command: 'kafkaFlinkLab.job.openDashboard',
          },
          ...(available.has('kafkaFlinkLab.results.open')
            ? [{ label: '$(table) Open the results', command: 'kafkaFlinkLab.results.open' }]
            : []),
          { label: '$(refresh) Refresh', command: 'kafkaFlinkLab.pipeline.refresh' },
          { label: '$(output) Show the log', command: 'kafkaFlinkLab.log.show' },
          { label: '$(book) Walkthrough: Kafka and Flink step by step', command: 'kafkaFlinkLab.help.walkthrough' },
        ];
        const picked = await vscode.window.showQuickPick(actions, { title: 'Kafka Flink Lab', placeHolder: 'Pipeline actions' });
        if (picked?.command) await vscode.commands.executeCommand(picked.command);
      },
      s.log,
    ),
  ];
}
