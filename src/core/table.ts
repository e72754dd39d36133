/** A plain-text table for the terminal: numbers right-aligned, everything else left-aligned. */
export function formatTable(columns: string[], rows: unknown[][]): string {
  const text = rows.map((row) => row.map((value) => (value === null || value === undefined ? '' : String(value))));
  const numeric = columns.map((_, i) => rows.length > 0 && rows.every((row) => row[i] === null || typeof row[i] === 'number' || typeof row[i] === 'bigint'));
  const widths = columns.map((c, i) => Math.max(c.length, ...text.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((cell, i) => (numeric[i] ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(columns), widths.map((w) => '-'.repeat(w)).join('  '), ...text.map(line)].join('\n');
}
