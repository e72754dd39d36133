// The session's tables and their columns as the gateway reports them (SHOW TABLES, DESCRIBE), for the editor's completion.
import { ChangelogTable } from './sqlChangelog';
import type { ReadMode } from './labTables';
import type { LabSqlSession } from './sqlSession';

export interface CatalogColumn {
  name: string;
  type: string;
}

/** Table (or view) name → its columns, in the order DESCRIBE gives them. */
export type Catalog = Map<string, CatalogColumn[]>;

/** Runs one catalog statement and returns its folded rows (they are plain inserts). */
async function rowsOf(session: Pick<LabSqlSession, 'run'>, statement: string, mode: ReadMode): Promise<unknown[][]> {
  const table = new ChangelogTable([]);
  const outcome = await session.run(
    statement,
    mode,
    { onRows: (rows) => rows.forEach((r) => table.apply(r)) },
    new AbortController().signal,
  );
  if (outcome.end === 'error') throw new Error(`${statement}: ${outcome.errors?.[0] ?? 'failed'}`);
  return table.rows();
}

/**
 * What the session knows: `SHOW TABLES` (which lists the session's temporary tables and views too), then `DESCRIBE`
 * of each, skipping the lab's hidden `_…` sources. A table that cannot be described is listed without columns.
 */
export async function loadCatalog(session: Pick<LabSqlSession, 'run'>, mode: ReadMode): Promise<Catalog> {
  const names = (await rowsOf(session, 'SHOW TABLES', mode)).map((r) => String(r[0])).filter((n) => !n.startsWith('_'));
  const catalog: Catalog = new Map();
  for (const name of names) {
    const rows = await rowsOf(session, `DESCRIBE \`${name.replace(/`/g, '``')}\``, mode).catch(() => []);
    catalog.set(
      name,
      rows.map((r) => ({ name: String(r[0]), type: String(r[1]) })),
    );
  }
  return catalog;
}

/** The tables a statement names after FROM or JOIN (plain or backtick-quoted names), in order, each once. */
export function tablesIn(statement: string, catalog: Catalog): string[] {
  const known = new Map([...catalog.keys()].map((k) => [k.toLowerCase(), k]));
  const found: string[] = [];
  for (const m of statement.matchAll(/\b(?:FROM|JOIN|TABLE)\s+(`(?:[^`]|``)+`|[A-Za-z_][A-Za-z0-9_]*)/gi)) {
    const raw = m[1].startsWith('`') ? m[1].slice(1, -1).replace(/``/g, '`') : m[1];
    const name = known.get(raw.toLowerCase());
    if (name && !found.includes(name)) found.push(name);
  }
  return found;
}

export interface Suggestion {
  label: string;
  kind: 'table' | 'column';
  detail: string;
}

/**
 * What to offer at the cursor: after FROM, JOIN or TABLE the tables; elsewhere the columns of the tables the statement
 * reads (all tables' columns when it names none yet), then the tables.
 */
export function suggestions(statementBeforeCursor: string, wholeStatement: string, catalog: Catalog): Suggestion[] {
  const tables = [...catalog].map(([name, columns]) => ({
    label: name,
    kind: 'table' as const,
    detail: columns.length ? `table: ${columns.map((c) => c.name).join(', ')}` : 'table',
  }));
  if (/\b(?:FROM|JOIN|TABLE)\s+[`A-Za-z0-9_]*$/i.test(statementBeforeCursor)) return tables;
  const named = tablesIn(wholeStatement, catalog);
  const from = named.length ? named : [...catalog.keys()];
  const seen = new Set<string>();
  const columns: Suggestion[] = [];
  for (const table of from)
    for (const c of catalog.get(table) ?? []) {
      if (seen.has(c.name)) continue;
      seen.add(c.name);
      columns.push({ label: c.name, kind: 'column', detail: `${c.type} · ${table}` });
    }
  return [...columns, ...tables];
}
