// Rows as CSV text, for exports.

/** CSV as RFC 4180: every field quoted when it holds a comma, a quote or a line break; objects as JSON. */
export function toCsv(columns: string[], rows: unknown[][]): string {
  const field = (value: unknown) => {
    const text = value === null || value === undefined ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value);
    return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  return [columns, ...rows].map((r) => r.map(field).join(',')).join('\r\n') + '\r\n';
}
