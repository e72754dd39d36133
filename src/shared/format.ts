// Small formatters of the Flink view and the status bar: times, durations, sizes, Markdown-safe text.

/** Text from outside (Flink's REST API: job names, exception messages) made inert in Markdown: no links, no HTML, no emphasis. */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>~&$:]/g, (c) => `\\${c}`).replace(/\r?\n/g, '  \n');
}

/** `12:00:16.8` (UTC, as the job writes its output files), or with whole seconds `12:00:10`. */
export function formatUtcTime(ms: number, fraction: 'auto' | 'always' = 'auto'): string {
  const d = new Date(ms);
  const hms = d.toISOString().slice(11, 19);
  const tenths = Math.floor((ms % 1000) / 100);
  if (fraction === 'auto' && ms % 1000 === 0) return hms;
  return `${hms}.${tenths}`;
}

/** The same instant as the output files spell it: `2026-12-04T12:00:10.000Z`. */
export const isoUtc = (ms: number) => new Date(ms).toISOString();

/** `0.4 s`, `12 s`, `3 min 12 s`, `2 h 5 min`, `3 d 4 h`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '–';
  const negative = ms < 0;
  const abs = Math.abs(ms);
  let text: string;
  if (abs < 10_000) text = `${(abs / 1000).toFixed(1)} s`;
  else if (abs < 60_000) text = `${Math.round(abs / 1000)} s`;
  else if (abs < 3_600_000) text = `${Math.floor(abs / 60_000)} min ${Math.floor((abs % 60_000) / 1000)} s`;
  else if (abs < 86_400_000) text = `${Math.floor(abs / 3_600_000)} h ${Math.floor((abs % 3_600_000) / 60_000)} min`;
  else text = `${Math.floor(abs / 86_400_000)} d ${Math.floor((abs % 86_400_000) / 3_600_000)} h`;
  return negative ? `−${text}` : text;
}

/** A configured span in its own unit: `10 s`, `1 min`, `2 h`, `500 ms` (window sizes, intervals, delays). */
export function formatSpan(ms: number): string {
  for (const [size, unit] of [
    [86_400_000, 'd'],
    [3_600_000, 'h'],
    [60_000, 'min'],
    [1000, 's'],
  ] as const)
    if (ms >= size && ms % size === 0) return `${ms / size} ${unit}`;
  return ms >= 1000 ? `${ms / 1000} s` : `${ms} ms`;
}

/** A checkpoint's duration: milliseconds below a second. */
export const formatMillis = (ms: number) => (ms < 1000 ? `${Math.round(ms)} ms` : formatDuration(ms));

export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '–';
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value >= 100 ? value.toFixed(0) : value.toFixed(1)} ${units[unit]}`;
}

export const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** A rate's number: `12k`, `1.2k`, `100`, `0.5` (whole numbers from 10 up, thousands as k). */
export function rateNumber(rate: number): string {
  if (rate >= 10_000) return `${(rate / 1000).toFixed(0)}k`;
  if (rate >= 1000) return `${(rate / 1000).toFixed(1)}k`;
  if (rate >= 10 || rate === 0) return `${Math.round(rate)}`;
  return rate.toFixed(1);
}

/** A rate of records: `100/s`, `1.2k/s`, `0.5/s`. */
export function formatPerSecond(rate: number | undefined): string {
  return `${rate === undefined || !Number.isFinite(rate) ? '–' : rateNumber(rate)}/s`;
}

const BARS = '▁▂▃▄▅▆▇█';

/**
 * A sparkline of values (undefined: a gap, drawn as a space), scaled from 0 to the largest value, or to `floor` when
 * all are below it (so 40 ms of lag does not draw as a full bar).
 */
export function sparkline(values: (number | undefined)[], floor = 0): string {
  const known = values.filter((v): v is number => v !== undefined && Number.isFinite(v));
  const max = Math.max(floor, ...known);
  return values
    .map((v) => {
      if (v === undefined || !Number.isFinite(v)) return ' ';
      if (max === 0) return BARS[0];
      return BARS[Math.min(BARS.length - 1, Math.round((Math.max(0, v) / max) * (BARS.length - 1)))];
    })
    .join('');
}

/** `20261125T104501` (UTC): names a run's topic and output folder, for the CLI and the extension alike. */
export function runStamp(date = new Date()): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '');
}
