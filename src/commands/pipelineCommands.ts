import * as vscode from 'vscode';
import { resolveOutputFolder, requireWorkspace } from '../common/workspace';
import { cliGenerateArgs, cliJobStartArgs } from '../core/cliArgs';
import { UserError } from '../core/errors';
import { localRestPort } from '../core/flinkJobs';
import { PipelineProcess } from '../core/pipelineProcesses';
import { validateNonNegativeNumber, validatePositiveInt } from '../core/validation';
import { settings } from '../settings';
import { KafkaNode } from '../views/kafkaNodes';
import { registerCommandWithLogging, type Services } from './registration';
import { pickPreset, type Preset } from './prompts';
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
  if (!primary.local) throw new UserError(`Kafka at ${primary.bootstrapServers} does not answer: start it or change the setting ${settings.bootstrapServers.fullKey}.`);
  if (ask) {
    const choice = await vscode.window.showWarningMessage(`Kafka at ${primary.bootstrapServers} is not running.`, 'Start local Kafka');
    if (choice !== 'Start local Kafka') throw new UserError(`Kafka at ${primary.bootstrapServers} is not running: start it first.`);
  }
  await startLocalStack(s, { quiet: !ask });
}

/** The pipeline's topic must exist before the generator writes or the job reads it. */
async function ensureTopic(s: Services): Promise<void> {
  const topic = settings.topic.value;
  const client = await s.connections.client();
  const deadline = Date.now() + 15_000;
  // `stack up` creates sensor-data right after the broker answers: give it a moment before creating it here.
  while (!(await client.listTopics()).some((t) => t.name === topic)) {
    if (Date.now() > deadline) {
      await client.createTopic({ name: topic, partitions: settings.partitions.value });
      s.log.info(`Created topic ${topic} (${settings.partitions.value} partitions) for the pipeline.`);
      return;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

async function startGenerator(s: Services, args: GeneratorArgs, prompt: boolean): Promise<void> {
  const workspace = requireWorkspace();
  const rate =
    args.rate ??
    (prompt
      ? await pickPreset('Sensor generator: events per second (over all sensors)', presets([10, 100, 1000, 5000], settings.generatorRate.value, 'events/s'), {
          prompt: 'Events per second (0 = as fast as possible)',
          parse: (t) => (validateNonNegativeNumber(t, 'The rate') ? { error: validateNonNegativeNumber(t, 'The rate') } : { value: Number(t) }),
        })
      : settings.generatorRate.value);
  const sensors =
    args.sensors ??
    (prompt
      ? await pickPreset('Sensor generator: how many sensors', presets([1, 5, 10, 50, 100], settings.generatorSensors.value, 'sensors'), {
          prompt: 'Number of sensors',
          parse: (t) => (validatePositiveInt(t, 'The number of sensors', 100_000) ? { error: validatePositiveInt(t, 'The number of sensors', 100_000) } : { value: Number(t) }),
        })
      : settings.generatorSensors.value);
  const argv = cliGenerateArgs({ workspace, topic: settings.topic.value, bootstrapServers: s.connections.primary().bootstrapServers, rate, sensors, durationSeconds: args.durationSeconds, count: args.count });
  if (prompt) await ensureBroker(s, true);
  if ((await s.terminals.start('generator', argv)) === 'already-running') void vscode.window.showInformationMessage('The sensor generator is already running: stop it first to change its rate.');
  await s.monitor.refresh();
}

async function startJob(s: Services, args: JobArgs, prompt: boolean): Promise<void> {
  const workspace = requireWorkspace();
  const windowSeconds =
    args.windowSeconds ??
    (prompt
      ? await pickPreset('Flink job: tumbling window size (event time)', presets([5, 10, 30, 60], settings.windowSeconds.value, 's'), {
          prompt: 'Window size in seconds',
          parse: (t) => (validatePositiveInt(t, 'The window size', 86_400) ? { error: validatePositiveInt(t, 'The window size', 86_400) } : { value: Number(t) }),
        })
      : settings.windowSeconds.value);
  const argv = cliJobStartArgs({ workspace, topic: settings.topic.value, outputDir: resolveOutputFolder(), windowSeconds, groupId: settings.jobGroupId.value, restPort: localRestPort(settings.flinkRestUrl.value) });
  if (prompt) await ensureBroker(s, true);
  if ((await s.terminals.start('job', argv)) === 'already-running') void vscode.window.showInformationMessage('The Flink job is already running in the "Flink job" terminal.');
  await s.monitor.refresh();
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
  if (!(await stopProcess(s, 'generator', GENERATOR_GRACE_MS))) void vscode.window.showInformationMessage('The sensor generator is not running.');
}

export function pipelineCommands(s: Services): vscode.Disposable[] {
  return [
    registerCommandWithLogging('kafkaFlinkLab.generator.start', (args?: unknown) => startGenerator(s, plain<GeneratorArgs>(args), !(typeof args === 'object' && args !== null && !(args instanceof KafkaNode))), s.log),
    registerCommandWithLogging('kafkaFlinkLab.generator.stop', () => stopGenerator(s), s.log),
    registerCommandWithLogging('kafkaFlinkLab.generator.showTerminal', () => s.terminals.show('generator') || void vscode.window.showInformationMessage('The sensor generator has not been started in this window.'), s.log),
    registerCommandWithLogging('kafkaFlinkLab.job.start', (args?: unknown) => startJob(s, plain<JobArgs>(args), !(typeof args === 'object' && args !== null && !(args instanceof KafkaNode))), s.log),
    registerCommandWithLogging('kafkaFlinkLab.job.stop', () => stopJob(s), s.log),
    registerCommandWithLogging('kafkaFlinkLab.job.showTerminal', () => s.terminals.show('job') || void vscode.window.showInformationMessage('The Flink job has not been started in this window.'), s.log),
    registerCommandWithLogging(
      'kafkaFlinkLab.pipeline.startAll',
      async () => {
        await ensureBroker(s, false);
        await ensureTopic(s);
        await startJob(s, {}, false);
        await startGenerator(s, {}, false);
        void vscode.window.showInformationMessage(`The pipeline is starting: Kafka at ${s.connections.primary().bootstrapServers}, the Flink job and the sensor generator (${settings.generatorRate.value} events/s).`);
      },
      s.log,
    ),
    registerCommandWithLogging(
      'kafkaFlinkLab.pipeline.stopAll',
      async () => {
        await Promise.all([stopGenerator(s), stopJob(s)]);
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
          { label: '$(run-all) Start everything', description: 'Kafka, the Flink job and the sensor generator', command: 'kafkaFlinkLab.pipeline.startAll' },
          { label: '$(stop-circle) Stop everything', command: 'kafkaFlinkLab.pipeline.stopAll' },
          { label: '', kind: vscode.QuickPickItemKind.Separator },
          brokerUp ? { label: '$(debug-stop) Stop local Kafka', command: 'kafkaFlinkLab.stack.stop' } : { label: '$(play) Start local Kafka', command: 'kafkaFlinkLab.stack.start' },
          generatorRunning ? { label: '$(debug-stop) Stop the sensor generator', command: 'kafkaFlinkLab.generator.stop' } : { label: '$(play) Start the sensor generator…', command: 'kafkaFlinkLab.generator.start' },
          jobRunning ? { label: '$(debug-stop) Stop the Flink job', command: 'kafkaFlinkLab.job.stop' } : { label: '$(play) Start the Flink job…', command: 'kafkaFlinkLab.job.start' },
          { label: '', kind: vscode.QuickPickItemKind.Separator },
          { label: '$(eye) Peek messages…', command: 'kafkaFlinkLab.messages.peek' },
          { label: '$(link-external) Open the Flink web UI', description: snap.job.restAddress, command: 'kafkaFlinkLab.job.openDashboard' },
          ...(available.has('kafkaFlinkLab.results.open') ? [{ label: '$(table) Open the results', command: 'kafkaFlinkLab.results.open' }] : []),
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
