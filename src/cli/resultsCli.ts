// `pipeline verify` and `pipeline query`: the output files through the results store, printed as text.
import type { CellValue, ColumnInfo } from '../results/resultsProtocol';
import { UserError } from '../shared/errors';
import { QueryRefusedError, ResultsError, ResultsStore, type VerifyReport } from '../results';
import { configOf, numberFlag, workspaceOption, type CliCommand, type CliContext } from './context';

const outputOption = { output: { type: 'string' as const, short: 'o' } };

async function openStore(ctx: CliContext): Promise<ResultsStore> {
  return ResultsStore.open(configOf(ctx).outputFolder().value);
}

const fmt = (n: number) => n.toLocaleString('en-US');

/** Control characters (newlines, terminal escape sequences) from file data are shown, not sent to the terminal. */
function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) =>
    c === '\n' ? '\\n' : c === '\t' ? '\\t' : c === '\r' ? '\\r' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

function cellText(value: CellValue): string {
  if (value === null) return 'NULL';
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(12)));
  return printable(String(value));
}

/** A plain-text table: numbers right-aligned, long cells cut at 60 characters. */
export function formatResultTable(columns: ColumnInfo[], rows: CellValue[][]): string[] {
  const cut = (text: string) => (text.length > 60 ? `${text.slice(0, 59)}…` : text);
  const cells = rows.map((row) => row.map((v) => cut(cellText(v))));
  const widths = columns.map((c, i) => Math.max(cut(printable(c.name)).length, ...cells.map((r) => r[i].length)));
  const right = columns.map((c) => c.kind === 'integer' || c.kind === 'number' || c.kind === 'epochMs');
  const line = (values: string[]) =>
    values
      .map((v, i) => (right[i] ? v.padStart(widths[i]) : v.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => cut(printable(c.name)))), widths.map((w) => '─'.repeat(w)).join('  '), ...cells.map(line)];
}

export function formatVerifyReport(report: VerifyReport): string[] {
  const check = (good: boolean) => (good ? '✓' : '✗');
  const lines = [`Output folder: ${report.outputFolder}`];
  const files = (n: number, what: string) => `${fmt(n)} ${what} file${n === 1 ? '' : 's'}`;
  lines.push(
    `  aggregates    ${fmt(report.aggregateRows)} rows · ${files(report.csvFiles, 'CSV')} (${fmt(report.csvRows)} rows) · ${files(report.jsonFiles, 'JSON')} (${fmt(report.jsonRows)} rows)`,
  );
  lines.push(`  alerts        ${fmt(report.alertRows)} rows`);
  lines.push(`  dead letters  ${fmt(report.deadLetterRows)} rows`);
  if (report.expected !== undefined) {
    const want = report.expected - report.deadLetterRows;
    lines.push(
      `  events        sum(event_count) = ${fmt(report.eventCountSum)}; expected ${fmt(report.expected)} − ${fmt(report.deadLetterRows)} dead letters = ${fmt(want)}  ${check(report.eventCountSum === want)}`,
    );
  } else {
    lines.push(`  events        sum(event_count) = ${fmt(report.eventCountSum)} (pass --expected N to check it)`);
  }
  lines.push(
    report.duplicateWindowCount === 0
      ? `  duplicates    none  ${check(true)}`
      : `  duplicates    ${fmt(report.duplicateWindowCount)} (sensor_id, window_start) pair${report.duplicateWindowCount === 1 ? '' : 's'} written more than once  ${check(false)}`,
  );
  for (const d of report.duplicateWindows.slice(0, 5))
    lines.push(`                ${printable(d.sensor_id)} ${d.window_start} × ${d.copies}`);
  const bothFormats = report.csvFiles > 0 && report.jsonFiles > 0;
  lines.push(
    bothFormats && report.csvJsonMismatch === 0
      ? `  CSV vs JSON   same rows  ${check(true)}`
      : `  CSV vs JSON   ${bothFormats ? `${fmt(report.csvJsonMismatch)} rows differ` : 'one format is missing'}  ${check(false)}`,
  );
  if (report.warnings.length > 0) {
    lines.push('Warnings:');
    for (const w of report.warnings.slice(0, 20)) lines.push(`  ${printable(w)}`);
    if (report.warnings.length > 20) lines.push(`  … and ${report.warnings.length - 20} more`);
  }
  if (report.ok)
    lines.push(
      report.expected !== undefined
        ? 'VERIFY OK: every event is accounted for exactly once.'
        : 'VERIFY OK: no duplicate windows, CSV and JSON agree.',
    );
  else {
    lines.push('VERIFY FAILED:');
    for (const p of report.problems) lines.push(`  - ${printable(p)}`);
  }
  return lines;
}

export const resultsCli: Record<string, CliCommand> = {
  verify: {
    usage: 'pipeline verify [--output DIR] [--expected N] [--json]',
    summary: 'exactly-once check over the output files: sum(event_count) = N − dead letters, no duplicate windows, CSV = JSON',
    options: { ...workspaceOption, ...outputOption, expected: { type: 'string' }, json: { type: 'boolean' } },
    async run(ctx) {
      const expected = numberFlag(ctx, 'expected');
      if (expected !== undefined && (!Number.isSafeInteger(expected) || expected < 0))
        throw new UserError(`--expected must be a whole number of events ≥ 0 (got ${String(ctx.values.expected)}).`);
      const store = await openStore(ctx);
      try {
        const report = await store.verify(expected);
        if (ctx.values.json) ctx.print(JSON.stringify(report, null, 2));
        else for (const line of formatVerifyReport(report)) ctx.print(line);
        return report.ok ? 0 : 1;
      } finally {
        store.close();
      }
    },
  },
  query: {
    usage: 'pipeline query "SQL" [--output DIR] [--json] [--max-rows N]',
    summary: 'read-only DuckDB SQL over the output files: tables aggregates, alerts, dead_letter (also aggregates_csv, aggregates_json)',
    options: { ...workspaceOption, ...outputOption, json: { type: 'boolean' }, 'max-rows': { type: 'string' } },
    positionals: 1,
    async run(ctx) {
      const sql = ctx.positionals[0];
      if (!sql || sql.trim() === '')
        throw new UserError(
          'give the SQL as one quoted argument, e.g. pipeline query "SELECT sensor_id, sum(event_count) FROM aggregates GROUP BY 1".',
        );
      const maxRows = numberFlag(ctx, 'max-rows', 1000) ?? 1000;
      if (!Number.isSafeInteger(maxRows) || maxRows < 1)
        throw new UserError(`--max-rows must be a whole number ≥ 1 (got ${String(ctx.values['max-rows'])}).`);
      const store = await openStore(ctx);
      try {
        const result = await store.query({ sql, offset: 0, limit: maxRows });
        if (ctx.values.json) {
          ctx.print(
            JSON.stringify(
              {
                columns: result.columns,
                rows: result.rows,
                total: result.total,
                truncated: result.truncated || result.total > result.rows.length,
              },
              null,
              2,
            ),
          );
          return 0;
        }
        for (const line of formatResultTable(result.columns, result.rows)) ctx.print(line);
        const shown = result.rows.length;
        if (result.truncated)
          ctx.print(`(${fmt(shown)} rows shown; the result has more than ${fmt(result.rowCap)} rows: add LIMIT or aggregate)`);
        else if (shown < result.total) ctx.print(`(${fmt(shown)} of ${fmt(result.total)} rows shown; --max-rows raises the limit)`);
        else ctx.print(`(${fmt(shown)} row${shown === 1 ? '' : 's'}, ${Math.round(result.elapsedMs)} ms)`);
        return 0;
      } catch (error) {
        if (error instanceof QueryRefusedError || error instanceof ResultsError) throw new UserError(error.message.replace(/\n/g, ' '));
        throw error;
      } finally {
        store.close();
      }
    },
  },
};
