// The SQL gateway's error answer (a Java stack trace) as one sentence placed at a line and column of the SQL source.

/** A failed statement's cause; the position (1-based, end inclusive as Calcite gives it) is in the source, not the statement. */
export interface SqlProblem {
  message: string;
  line?: number;
  column?: number;
  endLine?: number;
  endColumn?: number;
}

/** Wrappers the gateway puts around every failure; they say nothing about this one. */
const GENERIC = [
  /^Internal server error\.?$/i,
  /^Failed to fetchResults\.?$/i,
  /^Failed to execute the operation [\w-]+\.?$/i,
  /^Could not execute SQL statement\.?$/i,
  /^<?Exception on server side:?$/i,
  /^End of exception on server side>?$/i,
];

/** A Java class name before a message ("org.apache.flink.table.api.ValidationException: "), innermost last when nested. */
const CLASS_PREFIX = /^((?:[a-z_$][\w$]*\.)+)([A-Z][\w$]*):?(?:\s+|$)/;

/** One line of the cause chain without its class names; a JDK exception keeps its short name ("ArithmeticException: / by zero"). */
function causeMessage(line: string): string {
  let text = line.trim().replace(/^Caused by:\s*/, '');
  let jdkClass: string | undefined;
  let lastClass: string | undefined;
  for (let m = CLASS_PREFIX.exec(text); m; m = CLASS_PREFIX.exec(text)) {
    lastClass = m[2];
    jdkClass = /^javax?\./.test(m[1]) ? m[2] : undefined;
    text = text.slice(m[0].length);
  }
  text = text.replace(/^SQL (?:validation|parse) failed\.\s*/, '').trim();
  if (!text) return lastClass ?? '';
  return jdkClass ? `${jdkClass}: ${text}` : text;
}

/** The chain of causes in one error string, outermost first: its first line, then each "Caused by:" line. */
function causeChain(error: string): string[] {
  const lines = error.split(/\r\n|\r|\n/);
  const chain: string[] = [];
  const head = lines.find((l) => l.trim() && !/^<?Exception on server side:?$/i.test(l.trim()));
  if (head !== undefined) chain.push(causeMessage(head));
  for (const line of lines) if (line.startsWith('Caused by:')) chain.push(causeMessage(line));
  return chain.filter((m) => m);
}

interface Located {
  message: string;
  line: number;
  column: number;
  endLine?: number;
  endColumn?: number;
}

/** Calcite's validator range "From line L, column C to line L2, column C2: msg", or a parser's "msg at line L, column C." */
function located(message: string): Located | undefined {
  const range = /From line (\d+), column (\d+) to line (\d+), column (\d+): (.+)$/.exec(message);
  if (range) {
    const [, line, column, endLine, endColumn, text] = range;
    return { message: text.trim(), line: +line, column: +column, endLine: +endLine, endColumn: +endColumn };
  }
  const at = /\s*\bat line (\d+), column (\d+)\.?/.exec(message);
  if (!at) return undefined;
  const before = message.slice(0, at.index).trim();
  const after = message.slice(at.index + at[0].length).trim();
  const text = after ? `${before.replace(/[.:]$/, '')}. ${after}` : before;
  return { message: text || message.trim(), line: +at[1], column: +at[2] };
}

/** A position in the statement (Flink counts from the statement's first character) as a position in the source. */
function inSource(at: { line: number; column: number } | undefined, line: number, column: number): { line: number; column: number } {
  if (!at) return { line, column };
  return line === 1 ? { line: at.line, column: at.column + column - 1 } : { line: at.line + line - 1, column };
}

/**
 * Flink's root-cause sentence (no class names, no stack), with the position mapped into the source: `at` is the
 * statement's own start in the source (its line/column from splitStatements); Flink counts lines and columns from the
 * statement's first character. The deepest message with a position wins (Calcite's validator range, or the parser's
 * point); otherwise the deepest cause that is not one of the gateway's wrappers, wherever the gateway lists it among its
 * error strings. Odd input gives a message too.
 */
export function sqlProblem(errors: readonly string[] | undefined, at?: { line: number; column: number }): SqlProblem {
  const texts = Array.isArray(errors) ? errors.filter((e): e is string => typeof e === 'string') : [];
  const all = texts.flatMap(causeChain);
  const specific = all.filter((m) => !GENERIC.some((g) => g.test(m)));
  const withPoint = [...specific]
    .reverse()
    .map(located)
    .find((l) => l !== undefined);
  if (withPoint) {
    const start = inSource(at, withPoint.line, withPoint.column);
    const problem: SqlProblem = { message: withPoint.message, ...start };
    if (withPoint.endLine !== undefined && withPoint.endColumn !== undefined) {
      const end = inSource(at, withPoint.endLine, withPoint.endColumn);
      problem.endLine = end.line;
      problem.endColumn = end.column;
    }
    return problem;
  }
  const message = specific[specific.length - 1] ?? all[all.length - 1];
  return { message: message ?? 'The SQL gateway answered with an error but gave no message.' };
}

/** "file:2:3: message", "2:3: message", or the message alone when it has no position. */
export function formatProblem(p: SqlProblem, file?: string): string {
  if (p.line === undefined) return p.message;
  const position = p.column === undefined ? `${p.line}` : `${p.line}:${p.column}`;
  return file ? `${file}:${position}: ${p.message}` : `${position}: ${p.message}`;
}

/** Why a statement's job waits, when every slot of the cluster is taken: said once, with the fix (`howToStop`: where a statement is stopped). */
export function noFreeSlot(total: number, howToStop: string): string {
  return `No free task slot: all ${total} slots of the local Flink cluster are taken (the pipeline job and statements that still run). This statement waits until one frees up: stop a statement (${howToStop}), or restart the cluster with more slots: \`pipeline flink down\`, then \`pipeline flink up --slots 4\`.`;
}
