// The SQL behind the table view: filters and sorts, and one page of rows read from the nearer end or by the sort key's groups.
import {
  DEFAULT_SORT,
  parseFilterTime,
  TABLE_COLUMNS,
  type CellValue,
  type PageRequest,
  type PageResult,
  type ResultTable,
  type RowFilter,
  type SortSpec,
} from './resultsProtocol';
import { ResultsError } from './errors';
import { quoteIdent, quoteString, sqlList, toCell, toNumber, type RunSql } from './sql';

/** Columns searched by the filter's `search` text, the sensor column and the time column of each table. */
const FILTER_COLUMNS: Record<ResultTable, { text: string[]; sensor?: string; time?: { column: string; epochMs: boolean } }> = {
  aggregates: { text: ['sensor_id'], sensor: 'sensor_id', time: { column: 'window_start', epochMs: false } },
  alerts: { text: ['event_id', 'sensor_id', 'reason'], sensor: 'sensor_id', time: { column: 'ts', epochMs: true } },
  dead_letter: { text: ['raw', 'error'] },
};

/** Keyed paging reads at most this many distinct values, and a page from at most this many of them. */
const MAX_KEY_GROUPS = 10_000;
const MAX_KEY_SEGMENTS = 8;
export const DEFAULT_KEYED_PAGING_FROM = 5_000;

export interface KeyGroup {
  value: string | null;
  count: number;
}

function parseTime(value: string | undefined, label: string): number | undefined {
  try {
    return parseFilterTime(value, label);
  } catch (error) {
    throw new ResultsError(error instanceof Error ? error.message : String(error));
  }
}

/** The WHERE condition of a table's filter ('TRUE' without one). */
export function whereClause(table: ResultTable, filter: RowFilter | undefined): string {
  const parts: string[] = [];
  const spec = FILTER_COLUMNS[table];
  if (!filter) return 'TRUE';
  if (filter.sensors && filter.sensors.length > 0 && spec.sensor) {
    parts.push(`${quoteIdent(spec.sensor)} IN (SELECT unnest(${sqlList(filter.sensors)}))`);
  }
  if (spec.time) {
    const from = parseTime(filter.from, 'From');
    const to = parseTime(filter.to, 'To');
    const column = quoteIdent(spec.time.column);
    const bound = (ms: number) => (spec.time?.epochMs ? String(ms) : `epoch_ms(${ms})`);
    if (from !== undefined) parts.push(`${column} >= ${bound(from)}`);
    if (to !== undefined) parts.push(`${column} < ${bound(to)}`);
  }
  if (filter.search && filter.search.trim() !== '') {
    const needle = quoteString(filter.search.trim().toLowerCase());
    parts.push(`(${spec.text.map((c) => `contains(lower(${quoteIdent(c)}), ${needle})`).join(' OR ')})`);
  }
  return parts.length > 0 ? parts.join(' AND ') : 'TRUE';
}

/** The sort asked for, or the table's default; refused when the table has no such column. */
export function sortOf(table: ResultTable, sort: SortSpec | undefined): SortSpec {
  if (!sort) return DEFAULT_SORT[table];
  if (!TABLE_COLUMNS[table].some((c) => c.name === sort.column))
    throw new ResultsError(`The ${table} table has no column "${sort.column}".`);
  return sort;
}

/** Every row of a table view (filter and sort applied), in the view's order, for an export. */
export function tableExportSql(table: ResultTable, base: string, filter: RowFilter | undefined, requested: SortSpec | undefined): string {
  const sort = sortOf(table, requested);
  const where = whereClause(table, filter);
  const select = TABLE_COLUMNS[table].map((c) => quoteIdent(c.name)).join(', ');
  return `SELECT ${select} FROM ${base} WHERE ${where} ORDER BY ${quoteIdent(sort.column)} ${sort.direction === 'asc' ? 'ASC' : 'DESC'} NULLS LAST, rowid ASC`;
}

/** What a page is read with: the store's query function, its caches for this data version, and when to page by key. */
export interface PageContext {
  run: RunSql;
  countCache: Map<string, number>;
  /** Distinct values of a text sort column with their row counts, in sort order (null: too many to use). */
  keyCache: Map<string, KeyGroup[] | null>;
  keyedPagingFrom: number;
}

async function filteredCount(ctx: PageContext, base: string, where: string): Promise<number> {
  const key = `${base}|${where}`;
  const cached = ctx.countCache.get(key);
  if (cached !== undefined) return cached;
  const [[n]] = await ctx.run(`SELECT count(*) FROM ${base} WHERE ${where}`);
  const count = toNumber(n);
  ctx.countCache.set(key, count);
  return count;
}

/**
 * One page of a table, sorted and filtered. The sort runs over (sort column, rowid) only and the page's full
 * rows are fetched afterwards; a page past the middle is read from the other end with the order reversed, so
 * the sort keeps at most half the rows.
 */
export async function readPage(ctx: PageContext, request: PageRequest, base: string): Promise<PageResult> {
  const started = performance.now();
  const { table } = request;
  const sort = sortOf(table, request.sort);
  const where = whereClause(table, request.filter);
  const limit = Math.max(1, Math.min(request.limit, 500));
  const total = await filteredCount(ctx, base, where);
  let offset = Math.max(0, request.offset);
  if (offset >= total) offset = total === 0 ? 0 : Math.floor((total - 1) / limit) * limit;
  const columns = TABLE_COLUMNS[table].map((c) => ({ ...c }));
  const select = columns.map((c) => quoteIdent(c.name)).join(', ');
  let rows: CellValue[][] = [];
  if (total > 0) {
    const count = Math.min(limit, total - offset);
    const text = columns.find((c) => c.name === sort.column)?.kind === 'text';
    const deep = Math.min(offset, total - offset - count) >= ctx.keyedPagingFrom;
    const raw =
      (text && deep ? await keyedRows(ctx, base, where, sort, offset, count, total, select) : undefined) ??
      (await sortedRows(ctx.run, base, where, sort, offset, count, total, select));
    rows = raw.map((r) => r.map(toCell));
  }
  return { table, columns, rows, offset, total, sort, elapsedMs: performance.now() - started };
}

/** The rows of a page by one sort over (sort column, rowid), from the nearer end of the table. */
async function sortedRows(
  run: RunSql,
  base: string,
  where: string,
  sort: SortSpec,
  offset: number,
  count: number,
  total: number,
  select: string,
): Promise<unknown[][]> {
  const reverse = offset > total - offset - count;
  const dir = sort.direction === 'asc' ? 'ASC' : 'DESC';
  const flip = sort.direction === 'asc' ? 'DESC' : 'ASC';
  const order = reverse
    ? `${quoteIdent(sort.column)} ${flip} NULLS FIRST, rowid DESC`
    : `${quoteIdent(sort.column)} ${dir} NULLS LAST, rowid ASC`;
  const skip = reverse ? total - offset - count : offset;
  const raw = await run(
    `SELECT ${select} FROM ${base} WHERE rowid IN (SELECT rowid FROM ${base} WHERE ${where} ORDER BY ${order} LIMIT ${count} OFFSET ${skip}) ORDER BY ${order}`,
  );
  if (reverse) raw.reverse();
  return raw;
}

/**
 * The rows of a page deep inside a text-sorted table, without sorting every row: the column's distinct values
 * and their counts (one GROUP BY, kept for the data version) say which values the page covers and where in
 * them it starts, and each value's rows are read in rowid order — the same order as the full sort. Undefined
 * when the column has too many distinct values or the page spans too many of them; the caller sorts instead.
 */
async function keyedRows(
  ctx: PageContext,
  base: string,
  where: string,
  sort: SortSpec,
  offset: number,
  count: number,
  total: number,
  select: string,
): Promise<unknown[][] | undefined> {
  const column = quoteIdent(sort.column);
  const dir = sort.direction === 'asc' ? 'ASC' : 'DESC';
  const cacheKey = `${base}|${where}|${column}|${dir}`;
  let groups = ctx.keyCache.get(cacheKey);
  if (groups === undefined) {
    const rows = await ctx.run(
      `SELECT ${column}, count(*) FROM ${base} WHERE ${where} GROUP BY 1 ORDER BY 1 ${dir} NULLS LAST LIMIT ${MAX_KEY_GROUPS + 1}`,
    );
    groups =
      rows.length > MAX_KEY_GROUPS
        ? null
        : rows.map(([value, n]) => ({ value: value === null ? null : String(value), count: toNumber(n) }));
    if (groups && groups.reduce((sum, g) => sum + g.count, 0) !== total) groups = null;
    if (ctx.keyCache.size >= 16) ctx.keyCache.clear();
    ctx.keyCache.set(cacheKey, groups);
  }
  if (!groups) return undefined;
  // Which rows of which values: [group, first row in it, rows].
  const segments: [KeyGroup, number, number][] = [];
  let start = 0;
  for (const group of groups) {
    const end = start + group.count;
    if (end > offset) {
      const from = Math.max(offset, start) - start;
      const to = Math.min(offset + count, end) - start;
      segments.push([group, from, to - from]);
      if (segments.length > MAX_KEY_SEGMENTS) return undefined;
    }
    if (end >= offset + count) break;
    start = end;
  }
  const rows: unknown[][] = [];
  for (const [group, from, n] of segments) {
    const match = group.value === null ? `${column} IS NULL` : `${column} = ${quoteString(group.value)}`;
    // Past the middle of the value's rows, read them from the end.
    const reverse = from > group.count - from - n;
    const part = await ctx.run(
      `SELECT ${select} FROM ${base} WHERE (${where}) AND ${match} ORDER BY rowid ${reverse ? 'DESC' : 'ASC'} LIMIT ${n} OFFSET ${reverse ? group.count - from - n : from}`,
    );
    if (reverse) part.reverse();
    rows.push(...part);
  }
  return rows;
}
