// The Flink view's exception rows: each failure's headline, the task it happened in, its stack trace document.
import { escapeMarkdown, formatDuration, isoUtc } from '../shared/format';
import { planOf, readableVertexName } from './flinkChains';
import type { FlinkException, FlinkJobSnapshot } from './flinkRestTypes';
import type { FlinkRow } from './flinkRows';

/** The newest exception's first line: `org.apache.kafka…TimeoutException: Timeout expired…` → class simple name + message. */
export function exceptionHeadline(e: Pick<FlinkException, 'exceptionName' | 'stacktrace'>): string {
  // Flink 2 names only the class in exceptionName; the message is the stack trace's first line.
  const stackFirst = e.stacktrace.split('\n')[0] ?? '';
  const name = e.exceptionName.split('\n')[0];
  let first = (name && stackFirst.startsWith(name) ? stackFirst : name || stackFirst || 'unknown exception').trim();
  // "JobException: Recovery is suppressed by NoRestartBackoffTimeStrategy" only says that the job gave up: the
  // failure itself is the exception it wraps.
  const cause = /^Caused by:\s*(.+)$/m.exec(e.stacktrace)?.[1];
  if (cause && /JobException|Recovery is suppressed/.test(first)) first = cause.trim();
  const m = /^([\w$.]+?)(?::\s*(.*))?$/.exec(first);
  if (!m) return first.slice(0, 200);
  const simple = m[1].split('.').pop()!;
  return (m[2] ? `${simple}: ${m[2]}` : simple).slice(0, 200);
}

/** The readable name of the task an exception happened in: its vertex's, when the task name starts with one. */
function taskTitler(job: FlinkJobSnapshot): (taskName: string | undefined) => string | undefined {
  const plan = planOf(job.detail);
  const longestFirst = [...job.detail.vertices].sort((a, b) => b.name.length - a.name.length);
  return (taskName) => {
    if (!taskName) return undefined;
    const vertex = longestFirst.find((v) => taskName.startsWith(v.name));
    const subtask = /\((\d+\/\d+)\)(?:#\d+)?$/.exec(taskName)?.[1];
    return vertex
      ? `${readableVertexName(vertex.name, plan.get(vertex.id) ?? '')}${subtask ? ` (${subtask})` : ''}`
      : taskName.slice(0, 80);
  };
}

export function exceptionsRow(job: FlinkJobSnapshot, now: number): FlinkRow {
  const jid = job.detail.jid;
  const entries = job.exceptions ?? [];
  const taskTitle = taskTitler(job);
  return {
    id: `flink/job/${jid}/exceptions`,
    kind: 'exceptions',
    label: 'Exceptions',
    description: entries.length ? `${entries.length}, newest ${formatDuration(now - entries[0].timestamp)} ago` : 'none',
    icon: ['bug', entries.length ? 'errorForeground' : undefined],
    expanded: entries.length > 0,
    jobId: jid,
    tooltip: 'The failures that made Flink restart (or fail) the job, newest first. Click one to read its stack trace.',
    children: entries.map((e, i): FlinkRow => ({
      id: `flink/job/${jid}/exception/${e.timestamp}-${i}`,
      kind: 'exception',
      label: exceptionHeadline(e),
      description: [`${formatDuration(now - e.timestamp)} ago`, taskTitle(e.taskName)].filter(Boolean).join(' · '),
      icon: ['error', 'errorForeground'],
      exception: e,
      jobId: jid,
      tooltip: `**${escapeMarkdown(exceptionHeadline(e))}**\n\n${escapeMarkdown(isoUtc(e.timestamp))}${e.taskName ? ` in ${escapeMarkdown(e.taskName)}` : ''}${e.location ? ` on ${escapeMarkdown(e.location)}` : ''}${e.concurrent ? ` (+${e.concurrent} at the same time)` : ''}\n\nClick to open the stack trace.`,
    })),
  };
}

/** The stack trace document of one exception. */
export function exceptionDocument(jobName: string, e: FlinkException): string {
  return [
    `// ${jobName}: ${exceptionHeadline(e)}`,
    `// at ${isoUtc(e.timestamp)}${e.taskName ? ` in ${e.taskName}` : ''}${e.location ? ` on ${e.location}` : ''}`,
    '',
    e.stacktrace || e.exceptionName,
    '',
  ].join('\n');
}
