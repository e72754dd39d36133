// Operator chains and plan descriptions → readable names: what a vertex reads, the window it computes, where it writes.
import { formatSpan } from '../shared/format';
import type { FlinkJobDetail } from './flinkRestTypes';

/** A vertex whose chain starts with a source operator (`Source: …`). */
export const isSourceVertex = (name: string) => /^Source[:_ ]/.test(name);

/** A vertex that holds a window operator (SQL window aggregates, joins, ranks, or a DataStream window). */
export const hasWindowOperator = (name: string) => /Window|TUMBLE|HOP|CUMULATE|SESSION/.test(name);

export interface ChainedOperator {
  /** As Flink names it, e.g. `alerts_jsonl[10]: Writer`. */
  raw: string;
  /** Without the plan id: `alerts_jsonl: Writer`. */
  name: string;
  kind: 'source' | 'sink' | 'window' | 'window-local' | 'transform' | 'other';
  /** The table (source/sink) or the operator's name. */
  subject: string;
}

/** Operators that only reshape records (filters, projections, exchanges): counted, not named. */
const TRANSFORMS =
  /^(Calc|Filter|Project|Expand|Exchange|ChangelogNormalize|WatermarkAssigner|DropUpdateBefore|ConstraintEnforcer|StreamRecordTimestampInserter|Correlate|Map|FlatMap|Timestamps\/Watermarks)$/;

/**
 * The operator names of a chain, in order: `A -> (B -> C, D -> E)` gives A, B, C, D, E. Parentheses at the start of
 * an item group branches; parentheses inside a name (`Window(TumblingEventTimeWindows(10000), …)`) stay in it.
 */
export function splitChain(chain: string): string[] {
  const names: string[] = [];
  let i = 0;
  while (i < chain.length) {
    const c = chain[i];
    if (c === ' ' || c === '(' || c === ')' || c === ',') {
      i++;
      continue;
    }
    if (chain.startsWith('->', i)) {
      i += 2;
      continue;
    }
    const start = i;
    let depth = 0;
    for (; i < chain.length; i++) {
      const ch = chain[i];
      if (ch === '(') depth++;
      else if (ch === ')') {
        if (depth === 0) break;
        depth--;
      } else if (depth === 0 && (ch === ',' || chain.startsWith(' ->', i))) break;
    }
    const name = chain.slice(start, i).trim();
    if (name) names.push(name);
  }
  return names;
}

/** The operators of a chain, each with what it is: a source, a sink, a window, a transformation. */
export function chainedOperators(chain: string): ChainedOperator[] {
  return splitChain(chain).map((raw) => {
    const name = raw.replace(/\[\d+\]/g, '').trim();
    const source = /^Source:\s*(.+)$/.exec(name);
    if (source) return { raw, name, kind: 'source', subject: source[1] };
    const sink = /^Sink:\s*(.+)$/.exec(name) ?? /^(.+?):\s*(?:Writer|Committer)$/.exec(name);
    if (sink) return { raw, name, kind: 'sink', subject: sink[1] };
    if (name === 'LocalWindowAggregate') return { raw, name, kind: 'window-local', subject: name };
    if (hasWindowOperator(name)) return { raw, name, kind: 'window', subject: name };
    if (TRANSFORMS.test(name)) return { raw, name, kind: 'transform', subject: name };
    return { raw, name, kind: 'other', subject: name };
  });
}

/** A window operator's shape from its SQL in the plan: `TUMBLE(… size=[10 s])`. */
export interface WindowShape {
  type: 'tumbling' | 'hopping' | 'cumulating' | 'session';
  sizeMs?: number;
  slideMs?: number;
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, min: 60_000, h: 3_600_000, d: 86_400_000 };

function durationMs(text: string | undefined): number | undefined {
  const m = text ? /^(\d+(?:\.\d+)?)\s*(ms|s|min|h|d)$/.exec(text.trim()) : null;
  return m ? Number(m[1]) * UNIT_MS[m[2]] : undefined;
}

/** The window shape in one plan description (the first window of it), if any. */
export function windowShape(description: string): WindowShape | undefined {
  const m = /\b(TUMBLE|HOP|CUMULATE|SESSION)\(([^)]*)\)/.exec(description);
  if (!m) return undefined;
  const arg = (key: string) => new RegExp(`\\b${key}=\\[([^\\]]+)\\]`).exec(m[2])?.[1];
  const type = ({ TUMBLE: 'tumbling', HOP: 'hopping', CUMULATE: 'cumulating', SESSION: 'session' } as const)[m[1] as 'TUMBLE'];
  return { type, sizeMs: durationMs(arg('size') ?? arg('max_size') ?? arg('gap')), slideMs: durationMs(arg('slide') ?? arg('step')) };
}

/** The watermark delay of a source table, from its SQL: `watermark=[-(rowtime, 5000:INTERVAL …)]`. */
export function watermarkDelayMs(description: string): number | undefined {
  const m = /watermark=\[-\(.*?,\s*(\d+):INTERVAL/.exec(description);
  return m ? Number(m[1]) : undefined;
}

export function shapeWords(shape: WindowShape | undefined): string {
  if (!shape) return 'window';
  const size = shape.sizeMs !== undefined ? ` ${formatSpan(shape.sizeMs)}` : '';
  if (shape.type === 'hopping') return `hopping window${size}${shape.slideMs ? ` every ${formatSpan(shape.slideMs)}` : ''}`;
  return `${shape.type} window${size}`;
}

/**
 * A vertex's name as a learner reads it: what it reads, the window it computes, where it writes. From
 * `Source: kafka_src[1] -> (Calc[2] -> LocalWindowAggregate[3], Calc[9] -> (alerts_jsonl[10]: Writer -> …` to
 * `Source kafka_src → window pre-aggregate → 3 sinks: alerts_jsonl, alerts_kafka, dead_letter_jsonl`.
 */
export function readableVertexName(chain: string, planDescription = ''): string {
  const ops = chainedOperators(chain);
  const unique = (xs: string[]) => [...new Set(xs)];
  const sources = unique(ops.filter((o) => o.kind === 'source').map((o) => o.subject));
  const sinks = unique(ops.filter((o) => o.kind === 'sink').map((o) => o.subject));
  const shape = windowShape(planDescription);
  const steps: string[] = [];
  if (sources.length) steps.push(`Source ${sources.join(', ')}`);
  for (const o of ops) {
    if (o.kind === 'window-local') steps.push('window pre-aggregate');
    else if (o.kind === 'window') steps.push(/Window(Join|Rank|Deduplicate|TableFunction)/.test(o.name) ? o.name : shapeWords(shape));
    else if (o.kind === 'other') steps.push(o.name);
  }
  const uniqueSteps = unique(steps);
  if (ops.length === 1 && ops[0].kind === 'sink') {
    const role = /:\s*(Writer|Committer)$/.exec(ops[0].name)?.[1];
    return `Sink ${ops[0].subject}${role ? ` (${role.toLowerCase()})` : ''}`;
  }
  if (uniqueSteps.length === 0 && sinks.length === 0) {
    const only = ops[0];
    if (!only) return chain;
    if (only.name === 'Calc') return `${/where=\[/.test(planDescription) ? 'Filter and compute columns' : 'Compute columns'} (${only.raw})`;
    return only.name;
  }
  const sinkText = sinks.length === 0 ? '' : sinks.length === 1 ? `sink ${sinks[0]}` : `${sinks.length} sinks: ${sinks.join(', ')}`;
  const text = [...uniqueSteps, sinkText].filter(Boolean).join(' → ');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Each vertex's plan description (what its operators do, as Flink's plan spells it), by vertex id. */
export const planOf = (detail: FlinkJobDetail) => new Map((detail.plan ?? []).map((p) => [p.id, p.description]));

/** Titles that repeat (a job with several sources, chaining off) get the plan id of their first operator: `Source kafka_src [1]`. */
export function disambiguate<T>(
  items: T[],
  title: (t: T) => string,
  setTitle: (t: T, title: string) => void,
  chain: (t: T) => string,
): T[] {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(title(item), (counts.get(title(item)) ?? 0) + 1);
  for (const item of items) {
    if ((counts.get(title(item)) ?? 0) < 2) continue;
    const id = /\[(\d+)\]/.exec(chain(item))?.[1];
    if (id && !title(item).includes(`[${id}]`)) setTitle(item, `${title(item)} [${id}]`);
  }
  return items;
}
