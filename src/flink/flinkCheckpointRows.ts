// The Flink view's checkpoint rows, each with the output files it committed (checkpoint ↔ committed files).
import { escapeMarkdown, formatBytes, formatDuration, formatMillis, formatSpan, isoUtc, plural } from '../shared/format';
import { mdCode, mdFence } from '../shared/markdown';
import type { FlinkCheckpoint, FlinkJobSnapshot } from './flinkRestTypes';
import type { FlinkRow } from './flinkRows';

/** A committed (visible) output file and when it became visible: its inode change time, set by the commit's rename. */
export interface CommittedFile {
  path: string;
  /** `aggregates`, `alerts`, `dead-letter`. */
  folder: string;
  name: string;
  changedAtMs: number;
  bytes?: number;
}

/**
 * The files each checkpoint committed. Flink's file sink renames a part file to its visible name when the checkpoint
 * that covers it completes (right after its last acknowledgement), so a file belongs to the newest completed
 * checkpoint acknowledged before it appeared. Files from before the oldest checkpoint in the history are left out.
 */
export function filesByCheckpoint(history: FlinkCheckpoint[], files: CommittedFile[]): Map<number, CommittedFile[]> {
  const completed = history
    .filter((c) => c.status === 'COMPLETED' && c.latestAckTimestamp !== undefined)
    .sort((a, b) => a.latestAckTimestamp! - b.latestAckTimestamp!);
  const result = new Map<number, CommittedFile[]>(completed.map((c) => [c.id, []]));
  if (completed.length === 0) return result;
  for (const f of files) {
    let owner: FlinkCheckpoint | undefined;
    for (const c of completed) if (c.latestAckTimestamp! <= f.changedAtMs) owner = c;
    if (owner) result.get(owner.id)!.push(f);
  }
  for (const list of result.values()) list.sort((a, b) => a.folder.localeCompare(b.folder) || a.name.localeCompare(b.name));
  return result;
}

export function checkpointsRow(job: FlinkJobSnapshot, files: CommittedFile[] | undefined): FlinkRow {
  const jid = job.detail.jid;
  const c = job.checkpoints;
  const now = job.detail.now ?? Date.now();
  const children: FlinkRow[] = [];
  const byCheckpoint = c && files ? filesByCheckpoint(c.history, files) : undefined;
  if (c) {
    for (const cp of c.history.slice(0, 6))
      children.push(checkpointRow(jid, cp, now, byCheckpoint?.get(cp.id), cp.id === c.latestCompleted?.id));
    if (c.latestFailed && !c.history.some((h) => h.id === c.latestFailed!.id))
      children.push(checkpointRow(jid, c.latestFailed, now, undefined, false));
    if (c.latestRestored) {
      children.push({
        id: `flink/job/${jid}/restored`,
        kind: 'note',
        label: `restored from ${c.latestRestored.isSavepoint ? 'savepoint' : 'checkpoint'} ${c.latestRestored.id}`,
        description: c.latestRestored.restoreTimestamp ? `${formatDuration(now - c.latestRestored.restoreTimestamp)} ago` : undefined,
        icon: ['history'],
        tooltip: `The job started from the state of ${c.latestRestored.isSavepoint ? 'savepoint' : 'checkpoint'} ${c.latestRestored.id}${c.latestRestored.externalPath ? ` (${mdCode(c.latestRestored.externalPath)})` : ''}: its Kafka offsets, its open windows, its pending files. Records after that point are read again; nothing is counted twice, because what they produced after the checkpoint was never committed.`,
      });
    }
  }
  if (children.length === 0)
    children.push({
      id: `flink/job/${jid}/checkpoints/none`,
      kind: 'note',
      label: c ? 'no checkpoint completed yet' : 'checkpoints could not be read',
      icon: ['info'],
    });
  const interval = job.checkpointIntervalMs;
  const last = c?.latestCompleted;
  return {
    id: `flink/job/${jid}/checkpoints`,
    kind: 'checkpoints',
    label: 'Checkpoints',
    description: c
      ? [
          `${c.completed} completed`,
          `${c.failed} failed`,
          c.inProgress ? `${c.inProgress} in progress` : undefined,
          last?.latestAckTimestamp ? `last ${formatDuration(now - last.latestAckTimestamp)} ago` : undefined,
        ]
          .filter(Boolean)
          .join(' · ')
      : 'unknown',
    icon: ['save-all'],
    expanded: true,
    jobId: jid,
    tooltip: [
      `**Checkpoints**${interval ? ` every ${formatSpan(interval)}` : ''}: Flink writes a consistent copy of the job's state — the Kafka offsets it has read up to, the open windows, the files being written — to ${mdCode(last?.externalPath?.replace(/\/chk-\d+$/, '') ?? 'the checkpoint folder')}.`,
      '',
      "**How exactly-once works here**: output files are written hidden (in progress) and become visible only when the checkpoint that covers them completes — the files listed under each checkpoint. Alerts go to Kafka in a transaction committed at the same moment, and the consumer group's offsets are committed then too. After a crash the job restarts from the last completed checkpoint: whatever it had written after it was never committed, so every event is counted once.",
    ].join('\n'),
    children,
  };
}

function checkpointRow(jid: string, cp: FlinkCheckpoint, now: number, files: CommittedFile[] | undefined, latest: boolean): FlinkRow {
  const kind = cp.isSavepoint ? 'savepoint' : 'chk';
  if (cp.status === 'FAILED') {
    const message = cp.failureMessage ?? 'failed';
    return {
      id: `flink/job/${jid}/checkpoint/${cp.id}`,
      kind: 'checkpoint',
      label: `${kind}-${cp.id} failed`,
      description: `${message.split('\n')[0].slice(0, 120)}${cp.failureTimestamp ? ` · ${formatDuration(now - cp.failureTimestamp)} ago` : ''}`,
      icon: ['error', 'errorForeground'],
      flags: ['failed'],
      tooltip: `**${cp.isSavepoint ? 'Savepoint' : 'Checkpoint'} ${cp.id} failed**${cp.failureTimestamp ? ` at ${escapeMarkdown(isoUtc(cp.failureTimestamp))}` : ''}:\n\n${mdFence(message)}\n\nNothing was committed for it: its files stay in progress and are committed by the next checkpoint that completes.`,
    };
  }
  if (cp.status !== 'COMPLETED') {
    return {
      id: `flink/job/${jid}/checkpoint/${cp.id}`,
      kind: 'checkpoint',
      label: `${kind}-${cp.id}`,
      description: `${cp.status.toLowerCase().replace('_', ' ')} · started ${formatDuration(now - cp.triggerTimestamp)} ago`,
      icon: ['loading~spin'],
      flags: ['in-progress'],
    };
  }
  const fileRows = (files ?? []).slice(0, 50).map((f): FlinkRow => ({
    id: `flink/job/${jid}/checkpoint/${cp.id}/file/${f.folder}/${f.name}`,
    kind: 'file',
    label: f.name,
    description: `${f.folder}${f.bytes !== undefined ? ` · ${formatBytes(f.bytes)}` : ''}`,
    icon: ['file'],
    filePath: f.path,
    tooltip: `${mdCode(f.path)}\n\nCommitted (made visible) ${formatDuration(f.changedAtMs - (cp.latestAckTimestamp ?? f.changedAtMs))} after checkpoint ${cp.id} was acknowledged.`,
  }));
  if (files && files.length > 50)
    fileRows.push({
      id: `flink/job/${jid}/checkpoint/${cp.id}/more`,
      kind: 'note',
      label: `… and ${files.length - 50} more files`,
      icon: ['ellipsis'],
    });
  const ack = cp.latestAckTimestamp;
  const description = [
    latest ? 'latest' : undefined,
    cp.endToEndDurationMs !== undefined ? formatMillis(cp.endToEndDurationMs) : undefined,
    cp.checkpointedSize !== undefined ? formatBytes(cp.checkpointedSize) : undefined,
    ack ? `${formatDuration(now - ack)} ago` : undefined,
    files ? plural(files.length, 'file') + ' committed' : undefined,
  ]
    .filter(Boolean)
    .join(' · ');
  return {
    id: `flink/job/${jid}/checkpoint/${cp.id}`,
    kind: 'checkpoint',
    label: `${kind}-${cp.id}`,
    description,
    icon: cp.isSavepoint ? ['save-as'] : ['pass', 'testing.iconPassed'],
    flags: ['completed', latest ? 'latest' : undefined].filter((f): f is string => Boolean(f)),
    expanded: latest && fileRows.length > 0 && fileRows.length <= 8,
    jobId: jid,
    children: files
      ? fileRows.length
        ? fileRows
        : [
            {
              id: `flink/job/${jid}/checkpoint/${cp.id}/nofiles`,
              kind: 'note',
              label: 'no file committed (no new rows since the one before)',
              icon: ['info'],
            },
          ]
      : undefined,
    tooltip: [
      `**${cp.isSavepoint ? 'Savepoint' : 'Checkpoint'} ${cp.id}** completed${ack ? ` at ${escapeMarkdown(isoUtc(ack))}` : ''}`,
      '',
      cp.endToEndDurationMs !== undefined
        ? `- took **${formatMillis(cp.endToEndDurationMs)}** from trigger to the last acknowledgement`
        : '',
      cp.checkpointedSize !== undefined
        ? `- wrote **${formatBytes(cp.checkpointedSize)}**${cp.stateSize !== undefined ? ` (state ${formatBytes(cp.stateSize)})` : ''}`
        : '',
      cp.externalPath ? `- in ${mdCode(cp.externalPath)}` : '',
      files ? `- committed **${plural(files.length, 'output file')}**: they became visible when it completed` : '',
    ]
      .filter((l) => l !== '')
      .join('\n'),
  };
}
