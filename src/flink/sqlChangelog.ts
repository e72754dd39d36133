// A Flink SQL result's changelog folded into the table it describes, and that table as plain text.

export type RowKind = 'INSERT' | 'UPDATE_BEFORE' | 'UPDATE_AFTER' | 'DELETE';
export type ChangeOp = '+I' | '-U' | '+U' | '-D';

/** Flink's short names of the row kinds, as its SQL client prints them in a changelog. */
export const CHANGE_OP: Record<RowKind, ChangeOp> = { INSERT: '+I', UPDATE_BEFORE: '-U', UPDATE_AFTER: '+U', DELETE: '-D' };

/** One result row as the gateway returns it (rowFormat=JSON). */
export interface ChangeRow {
  kind: RowKind;
  fields: unknown[];
}

/** A row's identity for matching a retraction: deep equality through a canonical JSON (object keys sorted). */
function canonicalKey(fields: readonly unknown[]): string {
  return JSON.stringify(fields, (_key, value: unknown) => {
    if (typeof value === 'bigint') return `${value}n`;
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      return Object.fromEntries(Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    return value;
  });
}

interface Slot {
  fields: unknown[];
  key: string;
  live: boolean;
}

/** Slots freed by retractions are reclaimed in one pass once they outnumber the live rows (and there are this many). */
const COMPACT_AT = 1024;

/**
 * The current table of a changelog result. +I and +U add a row; -U and -D remove one row whose fields are equal — the
 * most recently added one, as Flink's SQL client does — and a retraction that matches no row is only counted in
 * `unmatched`. A +U that directly follows a -U takes the place of the row that -U removed, so an updated aggregate keeps
 * its line; other rows append. (Flink's SQL client table mode appends the +U at the end instead, which moves every
 * updated group to the bottom.)
 *
 * Streams are long, so each change costs O(1) on average: rows sit in slots, a map from row key to its slots finds a
 * match, and a removal only marks its slot until a compaction. With `maxRows`, a never-ending result keeps only the
 * newest rows: past it the oldest row (the top one) is dropped and counted in `dropped`; a later retraction of a
 * dropped row is then unmatched.
 */
export class ChangelogTable {
  readonly counts: Record<ChangeOp, number> = { '+I': 0, '-U': 0, '+U': 0, '-D': 0 };
  private unmatchedCount = 0;
  private droppedCount = 0;
  private slots: Slot[] = [];
  private readonly slotsByKey = new Map<string, number[]>();
  private deadSlots = 0;
  /** No live slot comes before this one: where the search for the oldest row starts. */
  private head = 0;
  /** The slot a -U just freed, for the +U that follows it. */
  private freedByUpdate: number | undefined;

  constructor(
    readonly columns: readonly string[],
    readonly maxRows = Number.POSITIVE_INFINITY,
  ) {}

  /** Rows dropped to keep the table at `maxRows`. */
  get dropped(): number {
    return this.droppedCount;
  }

  /** How many rows the table holds now. */
  get size(): number {
    return this.slots.length - this.deadSlots;
  }

  /** Retractions (-U/-D) that matched no current row: a result read from its middle, or a sink's own retractions. */
  get unmatched(): number {
    return this.unmatchedCount;
  }

  apply(row: ChangeRow): void {
    const op = CHANGE_OP[row.kind];
    if (!op) return;
    this.counts[op]++;
    const key = canonicalKey(row.fields);
    const freed = this.freedByUpdate;
    this.freedByUpdate = undefined;
    if (op === '+I' || op === '+U') {
      this.add(row.fields, key, op === '+U' ? freed : undefined);
      if (this.size > this.maxRows) this.dropOldest();
    } else this.retract(key, op);
    // Compaction renumbers the slots, so it waits while a -U's slot is held for its +U.
    if (this.freedByUpdate === undefined) this.compactIfSparse();
  }

  /** The current folded table, in order. */
  rows(): unknown[][] {
    return this.slots.filter((s) => s.live).map((s) => s.fields);
  }

  private add(fields: unknown[], key: string, freed: number | undefined): void {
    const slot = freed ?? this.slots.length;
    if (slot === this.slots.length) this.slots.push({ fields, key, live: true });
    else {
      this.slots[slot] = { fields, key, live: true };
      this.deadSlots--;
    }
    const list = this.slotsByKey.get(key);
    if (list) list.push(slot);
    else this.slotsByKey.set(key, [slot]);
  }

  private retract(key: string, op: ChangeOp): void {
    const list = this.slotsByKey.get(key);
    const slot = list?.pop();
    if (slot === undefined) {
      this.unmatchedCount++;
      return;
    }
    if (list?.length === 0) this.slotsByKey.delete(key);
    this.slots[slot].live = false;
    this.deadSlots++;
    if (op === '-U') this.freedByUpdate = slot;
  }

  private dropOldest(): void {
    while (this.head < this.slots.length && !this.slots[this.head].live) this.head++;
    const slot = this.head;
    const { key } = this.slots[slot];
    const list = this.slotsByKey.get(key)!;
    list.splice(list.indexOf(slot), 1);
    if (list.length === 0) this.slotsByKey.delete(key);
    this.slots[slot].live = false;
    this.deadSlots++;
    this.droppedCount++;
  }

  private compactIfSparse(): void {
    if (this.deadSlots < COMPACT_AT || this.deadSlots <= this.slots.length - this.deadSlots) return;
    // Each key's slots keep their order, so "the most recently added" still holds after the renumbering.
    const newIndex: number[] = [];
    let next = 0;
    this.slots.forEach((s, i) => {
      if (s.live) newIndex[i] = next++;
    });
    this.slots = this.slots.filter((s) => s.live);
    for (const list of this.slotsByKey.values()) list.forEach((slot, j) => (list[j] = newIndex[slot]));
    this.deadSlots = 0;
    this.head = 0;
  }
}

/** One change as it came, for the changelog view: its op and its fields. */
export interface Change {
  op: ChangeOp;
  fields: unknown[];
}

/**
 * The newest `capacity` changes of a result, in the order they came (a ring: a never-ending result never grows it);
 * `dropped` counts the older ones let go.
 */
export class ChangeLog {
  private readonly ring: Change[] = [];
  private start = 0;
  private droppedCount = 0;

  constructor(readonly capacity: number) {}

  get dropped(): number {
    return this.droppedCount;
  }

  get size(): number {
    return this.ring.length;
  }

  push(row: ChangeRow): void {
    const op = CHANGE_OP[row.kind];
    if (!op) return;
    const change = { op, fields: row.fields };
    if (this.ring.length < this.capacity) this.ring.push(change);
    else {
      this.ring[this.start] = change;
      this.start = (this.start + 1) % this.capacity;
      this.droppedCount++;
    }
  }

  /** `count` changes from `from` (0 is the oldest kept). */
  slice(from: number, count: number): Change[] {
    const out: Change[] = [];
    for (let i = Math.max(0, from); i < Math.min(this.ring.length, from + count); i++)
      out.push(this.ring[(this.start + i) % this.ring.length]);
    return out;
  }
}

function cellText(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  return text.replace(/\r\n|\r|\n/g, '↵').replace(/\t/g, ' ');
}

function cut(text: string, maxWidth: number): string {
  const chars = [...text];
  return chars.length <= maxWidth ? text : `${chars.slice(0, Math.max(0, maxWidth - 1)).join('')}…`;
}

const width = (text: string): number => [...text].length;
const isNumber = (value: unknown): boolean => typeof value === 'number' || typeof value === 'bigint';

/**
 * A plain-text table: the header, a rule line, the rows; columns two spaces apart and padded, lines without trailing
 * blanks. NULL for null, JSON for objects and arrays, line breaks shown as ↵, cells longer than `maxWidth` (default 40)
 * cut with '…'. Numbers are right-aligned, and so is the header of a column whose cells are all numbers or NULL.
 */
export function formatTable(columns: readonly string[], rows: readonly unknown[][], options?: { maxWidth?: number }): string[] {
  const maxWidth = Math.max(1, options?.maxWidth ?? 40);
  const header = columns.map((c) => cut(c, maxWidth));
  const cells = rows.map((row) => columns.map((_c, i) => cut(cellText(row[i]), maxWidth)));
  const widths = header.map((h, i) => Math.max(width(h), ...cells.map((r) => width(r[i]))));
  const numericColumn = columns.map((_c, i) => rows.some((r) => isNumber(r[i])) && rows.every((r) => r[i] == null || isNumber(r[i])));
  const pad = (text: string, i: number, right: boolean): string => {
    const fill = ' '.repeat(widths[i] - width(text));
    return right ? fill + text : text + fill;
  };
  const line = (parts: string[]): string => parts.join('  ').trimEnd();
  return [
    line(header.map((h, i) => pad(h, i, numericColumn[i]))),
    line(widths.map((w) => '-'.repeat(w))),
    ...cells.map((r, ri) => line(r.map((text, i) => pad(text, i, isNumber(rows[ri][i]) || (numericColumn[i] && rows[ri][i] == null))))),
  ];
}
