// The Flink view's commands: refresh, stop with a savepoint, cancel, restart from the latest checkpoint, the web UI
// at a job or an operator, an exception's stack trace.
import { mkdirSync } from 'node:fs';
import * as vscode from 'vscode';
import { requireWorkspace } from '../services/workspace';
import { UserError } from '../shared/errors';
import { flinkWebUiUrl, localRestPort } from '../flink/flinkJobs';
import { exceptionDocument, exceptionHeadline } from '../flink/flinkExceptions';
import { webUiUrl, type FlinkRow } from '../flink/flinkRows';
import { FlinkRestClient } from '../flink/flinkRest';
import { cancelJob, stopWithSavepoint } from '../flink/flinkJobControl';
import { savepointDirOf } from '../flink/flinkSavepoints';
import { validateTopicName } from '../config/validation';
import { jobRestUrl, settings } from '../services/settings';
import { registerCommandWithLogging, type Services } from './registration';

/** A row of the Flink view, when a command was run from one (menus pass the row; the palette passes nothing). */
const rowOf = (arg: unknown): FlinkRow | undefined =>
  typeof arg === 'object' && arg !== null && 'kind' in arg && 'id' in arg ? (arg as FlinkRow) : undefined;

/** The job's REST address, only an http(s) one (it is opened in the browser). */
function restUrl(): string {
  return flinkWebUiUrl(jobRestUrl());
}

/** The job a command acts on: the row's, else the one the REST API shows (running first). */
async function targetJob(s: Services, row: FlinkRow | undefined): Promise<{ jid: string; name: string; state: string }> {
  const known = s.flink.currentSnapshot?.jobs ?? [];
  if (row?.jobId) {
    const job = known.find((j) => j.jid === row.jobId);
    return { jid: row.jobId, name: job?.name ?? row.jobId, state: job?.state ?? 'RUNNING' };
  }
  const overview = await new FlinkRestClient(jobRestUrl()).overview();
  if (!overview.reachable)
    throw new UserError(`No Flink job to act on: ${overview.error ?? `the REST API at ${jobRestUrl()} does not answer`}`);
  if (!overview.current) throw new UserError(`No Flink job runs at ${jobRestUrl()}.`);
  return overview.current;
}

/** `sensor-pipeline[<topic>]` is how flink_job.py names its job: its savepoints go under that topic. */
function topicOfJob(name: string): string {
  const topic = /^sensor-pipeline\[(.+)\]$/.exec(name)?.[1];
  return topic && !validateTopicName(topic) ? topic : settings.topic.value;
}

async function refreshAll(s: Services): Promise<void> {
  await Promise.all([s.flink.refresh(), s.monitor.refresh()]);
}

export function flinkCommands(s: Services): vscode.Disposable[] {
  return [
    registerCommandWithLogging('kafkaFlinkLab.flink.refresh', () => s.flink.refresh(), s.log),
    registerCommandWithLogging(
      'kafkaFlinkLab.flink.showException',
      async (arg?: unknown) => {
        const row = rowOf(arg);
        if (!row?.exception) throw new UserError('Choose an exception in the Flink view to open its stack trace.');
        const jobName = s.flink.currentSnapshot?.jobs.find((j) => j.jid === row.jobId)?.name ?? 'Flink job';
        await s.peeks.open(
          `${exceptionHeadline(row.exception).split(':')[0]} ${new Date(row.exception.timestamp).toISOString()}`,
          exceptionDocument(jobName, row.exception),
          'log',
        );
      },
      s.log,
    ),
    registerCommandWithLogging(
      'kafkaFlinkLab.job.openDashboard',
      async (arg?: unknown) => {
        const row = rowOf(arg);
        const base = restUrl();
        const job = row?.jobId
          ? await targetJob(s, row)
          : s.flink.currentSnapshot?.job
            ? { jid: s.flink.currentSnapshot.job.detail.jid, state: s.flink.currentSnapshot.job.detail.state }
            : undefined;
        const url = webUiUrl(base, job, row);
        s.log.info(`Opening the Flink web UI at ${url}`);
        await vscode.env.openExternal(vscode.Uri.parse(url, true));
      },
      s.log,
    ),
    registerCommandWithLogging(
      'kafkaFlinkLab.job.stopWithSavepoint',
      async (arg?: unknown) => {
        const workspace = requireWorkspace();
        const url = restUrl();
        const job = await targetJob(s, rowOf(arg));
        if (job.state !== 'RUNNING') throw new UserError(`Flink can take a savepoint only of a running job; ${job.name} is ${job.state}.`);
        const dir = savepointDirOf(workspace, topicOfJob(job.name));
        mkdirSync(dir, { recursive: true });
        s.log.info(`Stopping Flink job ${job.name} (${job.jid}) with a savepoint in ${dir}…`);
        const path = await vscode.window.withProgress(
          { location: vscode.ProgressLocation.Notification, title: `Stopping ${job.name} with a savepoint…` },
          () => stopWithSavepoint(url, job.jid, dir),
        );
        s.log.info(`Flink job ${job.name} stopped with savepoint ${path}.`);
        await refreshAll(s);
        void vscode.window
          .showInformationMessage(
            `${job.name} stopped with a savepoint (${path.replace(/^file:/, '')}). Its files are committed up to it; starting the job again continues from it.`,
            'Start the Flink job',
          )
          .then((choice) => choice && vscode.commands.executeCommand('kafkaFlinkLab.job.start', {}));
        return path;
      },
      s.log,
    ),
    registerCommandWithLogging(
      'kafkaFlinkLab.job.cancel',
      async (arg?: unknown) => {
        const url = restUrl();
        const job = await targetJob(s, rowOf(arg));
        const choice = await vscode.window.showWarningMessage(
          `Cancel ${job.name}?`,
          {
            modal: true,
            detail:
              'It stops at once, without a savepoint. Its last completed checkpoint is kept and a new start restores from it; what it wrote since is rolled back.',
          },
          'Cancel the job',
        );
        if (choice !== 'Cancel the job') return;
        await cancelJob(url, job.jid);
        s.log.info(`Cancelled Flink job ${job.name} (${job.jid}).`);
        await refreshAll(s);
      },
      s.log,
    ),
    registerCommandWithLogging(
      'kafkaFlinkLab.job.restart',
      async (arg?: unknown) => {
        requireWorkspace();
        // The embedded job restores from its newest checkpoint (or savepoint) when it starts: a restart is a stop
        // (which keeps its checkpoints) and a start. A job on another cluster was not started from here.
        if (localRestPort(settings.flinkRestUrl.value) === undefined) {
          throw new UserError(
            `The Flink REST URL ${settings.flinkRestUrl.value} is another machine's cluster: its jobs are not started from here; stop one with a savepoint and submit it again where it was submitted.`,
          );
        }
        const job = await targetJob(s, rowOf(arg)).catch(() => undefined);
        s.log.info(`Restarting the Flink job from its latest checkpoint${job ? ` (${job.name}, ${job.jid})` : ''}.`);
        await vscode.commands.executeCommand('kafkaFlinkLab.job.stop');
        await vscode.commands.executeCommand('kafkaFlinkLab.job.start', {});
        await refreshAll(s);
      },
      s.log,
    ),
    registerCommandWithLogging(
      'kafkaFlinkLab.job.setParallelism',
      async (arg?: unknown) => {
        requireWorkspace();
        const current = settings.jobParallelism.value;
        const parallelism =
          typeof arg === 'number' && Number.isInteger(arg) && arg >= 1 && arg <= 64
            ? arg
            : Number(
                (
                  await vscode.window.showQuickPick(
                    [1, 2, 3, 4].map((n) => ({
                      label: String(n),
                      description: `${n === current ? 'now · ' : ''}${n} source subtask${n === 1 ? ' reads every partition' : 's split the partitions'}`,
                    })),
                    { title: 'Flink job: parallelism (subtasks per operator; each needs a task slot)', ignoreFocusOut: true },
                  )
                )?.label ?? NaN,
              );
        if (!Number.isInteger(parallelism)) return;
        await vscode.workspace
          .getConfiguration('kafkaFlinkLab')
          .update('job.parallelism', parallelism, vscode.ConfigurationTarget.Workspace);
        // A running job takes the new parallelism at a restart (from its checkpoint; Flink rescales its state).
        const running = ['running', 'starting'].includes(s.monitor.snapshot.job.phase);
        await vscode.commands.executeCommand(running ? 'kafkaFlinkLab.job.restart' : 'kafkaFlinkLab.job.start', ...(running ? [] : [{}]));
        await vscode.commands.executeCommand('kafkaFlinkLab.flink.focus');
      },
      s.log,
    ),
  ];
}
