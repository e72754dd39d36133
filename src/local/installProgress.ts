// What Maven, pip and uv say while they download, summed up into one progress line: files, bytes, rate, the current package.
import { UserError } from '../shared/errors';

const UNITS: Record<string, number> = { B: 1, kB: 1e3, KB: 1e3, MB: 1e6, GB: 1e9, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 };

/** "1.2 MB", "830 kB": Maven and pip print sizes in decimal units. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(2)} GB`;
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  if (bytes >= 1e3) return `${Math.round(bytes / 1e3)} kB`;
  return `${Math.round(bytes)} B`;
}

function sizeOf(amount: string, unit: string): number {
  return Math.round(Number(amount) * (UNITS[unit] ?? 1));
}

/** Output arrives in chunks that split lines; this hands over whole lines only. */
function lineSplitter(onLine: (line: string) => void): (chunk: string) => void {
  let rest = '';
  return (chunk) => {
    const lines = (rest + chunk).split(/\r?\n/);
    rest = lines.pop() ?? '';
    for (const line of lines) onLine(line);
  };
}

export interface DownloadTally {
  /** Feed it the tool's output as it comes. */
  add(chunk: string): void;
  files: number;
  bytes: number;
  /** What it is busy with now ("apache_flink_libraries-2.2.1 (236.1 MB)", "installing"), if it said. */
  current?: string;
  /** "12 files, 45.3 MB (9.1 MB/s)": the line shown every few seconds and at the end. */
  summary(elapsedMs: number): string;
}

function tally(onLine: (line: string, t: DownloadTally) => void): DownloadTally {
  const t: DownloadTally = {
    files: 0,
    bytes: 0,
    add: (chunk) => split(chunk),
    summary(elapsedMs) {
      const rate = elapsedMs > 0 ? ` (${formatBytes((t.bytes / elapsedMs) * 1000)}/s)` : '';
      return `${t.files} file${t.files === 1 ? '' : 's'}, ${formatBytes(t.bytes)}${rate}`;
    },
  };
  const split = lineSplitter((line) => onLine(line, t));
  return t;
}

/** Maven in batch mode: "Downloaded from central: https://…/kafka_2.13-4.4.0.jar (6.9 MB at 5.1 MB/s)". */
export function mavenTally(): DownloadTally {
  return tally((line, t) => {
    const done = /^\s*(?:\[INFO\] )?Downloaded from [^:]+: (\S+) \(([\d.]+) (B|kB|KB|MB|GB)/.exec(line);
    if (done) {
      t.files++;
      t.bytes += sizeOf(done[2], done[3]);
      t.current = done[1].split('/').pop();
    }
  });
}

/**
 * pip with `--progress-bar off`: "  Downloading apache_flink_libraries-2.2.1-py3-none-any.whl (236.1 MB)" as each
 * download starts (so the bytes counted include the one under way), then "Installing collected packages: …".
 */
export function pipTally(): DownloadTally {
  return tally((line, t) => {
    const download = /^\s*Downloading (\S+) \(([\d.]+) (B|kB|KB|MB|GB)\)/.exec(line);
    if (download) {
      t.files++;
      t.bytes += sizeOf(download[2], download[3]);
      t.current = `${download[1].replace(/-py\d.*|-cp\d.*|\.tar\.gz$/, '')} (${download[2]} ${download[3]})`;
    } else if (/^Installing collected packages/.test(line)) {
      t.current = 'installing the downloaded packages';
    }
  });
}

/**
 * uv: "Downloading pyarrow (38.9MiB)" as each large download starts (smaller ones are not named), then one line
 * per phase: "Resolved 59 packages in 3.00s", "Prepared …", "Installed …", "Bytecode compiled …".
 */
export function uvTally(): DownloadTally {
  return tally((line, t) => {
    const download = /^\s*Downloading (\S+) \(([\d.]+) ?(B|KiB|MiB|GiB)\)/.exec(line);
    if (download) {
      t.files++;
      t.bytes += sizeOf(download[2], download[3]);
      t.current = `${download[1]} (${download[2]} ${download[3]})`;
    } else if (/^(Resolved|Prepared|Installed|Bytecode compiled) /.test(line.trim())) {
      t.current = line.trim();
    }
  });
}

/** Says the tally of a download every few seconds while it runs. */
export function tallyProgress(
  label: string,
  tally: DownloadTally,
  progress: (message: string) => void,
  started: number,
  everyMs = 5000,
): (chunk: string) => void {
  let lastLine = Date.now();
  return (chunk) => {
    tally.add(chunk);
    if (Date.now() - lastLine < everyMs) return;
    // Nothing to say until something was downloaded or the tool said what it is doing.
    const said = [tally.files > 0 ? tally.summary(Date.now() - started) : '', tally.current ?? ''].filter(Boolean).join('; ');
    if (!said) return;
    lastLine = Date.now();
    progress(`  ${label}: ${said}`);
  };
}

export const seconds = (started: number) => `${((Date.now() - started) / 1000).toFixed(1)} s`;

export function interrupted(what: string): UserError {
  return new UserError(`Interrupted while preparing ${what}; nothing half-done was kept. Run the command again to finish.`);
}
