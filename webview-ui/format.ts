// How the results webview formats counts, numbers, times and cells for display.
import type { CellValue, ColumnKind } from '../src/results/resultsProtocol';

const integerFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const decimalFormat = new Intl.NumberFormat(undefined, { minimumFractionDigits: 0, maximumFractionDigits: 3 });

export function formatCount(n: number): string {
  return integerFormat.format(n);
}

export function formatNumber(n: number): string {
  return Number.isInteger(n) ? integerFormat.format(n) : decimalFormat.format(n);
}

/** `2026-11-25 10:00:10` (UTC), with milliseconds only when they are not zero. */
export function formatTime(value: string | number): string {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  const iso = date.toISOString();
  const text = iso.slice(0, 10) + ' ' + iso.slice(11, 19);
  return iso.slice(19, 23) === '.000' ? text : text + iso.slice(19, 23);
}

export function formatClock(ms: number, withDate: boolean): string {
  const iso = new Date(ms).toISOString();
  return withDate ? `${iso.slice(5, 10)} ${iso.slice(11, 16)}` : iso.slice(11, iso.endsWith(':00.000Z') ? 16 : 19);
}

export function formatAgo(iso: string, now = Date.now()): string {
  const seconds = Math.round((now - Date.parse(iso)) / 1000);
  if (!Number.isFinite(seconds)) return '';
  if (seconds < 2) return 'just now';
  if (seconds < 90) return `${seconds} s ago`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 90) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 36) return `${hours} h ago`;
  return `${Math.round(hours / 24)} d ago`;
}

/** The text of a cell and, when the display differs from the value, the exact value for the tooltip. */
export function formatCell(value: CellValue, kind: ColumnKind): { text: string; title?: string; className: string } {
  if (value === null) return { text: 'NULL', className: 'null' };
  switch (kind) {
    case 'integer':
    case 'number':
      return typeof value === 'number'
        ? { text: formatNumber(value), title: String(value), className: 'num' }
        : { text: String(value), className: 'num' };
    case 'time':
      return { text: formatTime(String(value)), title: `${String(value)} (UTC)`, className: 'time' };
    case 'epochMs':
      return typeof value === 'number'
        ? { text: formatTime(value), title: `${value} ms since 1970 (UTC)`, className: 'time' }
        : { text: String(value), className: 'time' };
    case 'boolean':
      return { text: String(value), className: 'bool' };
    default: {
      const text = String(value);
      return text.length > 200
        ? { text: text.slice(0, 200) + '…', title: text.slice(0, 4000), className: 'text' }
        : { text, title: text.length > 40 ? text : undefined, className: 'text' };
    }
  }
}
