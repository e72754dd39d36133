// Flink SQL text as statements: one tokenizer under the splitter, the statement kinds and the lab-table guard.

/** One statement of a SQL source, located where the gateway's line/column answers can be mapped back. */
export interface SqlStatement {
  /** The statement without its terminating ';', trimmed of surrounding whitespace (leading comments stay: Flink counts from them). */
  text: string;
  /** Offset, line and column (both 1-based) of the statement's first non-whitespace character in the source. */
  offset: number;
  line: number;
  column: number;
}

/**
 * What the gateway does with a statement, by its first keywords. 'insert' is every statement that submits a job and
 * answers with its id: INSERT, EXECUTE INSERT/PLAN, and CREATE/REPLACE TABLE ... AS (the gateway runs those as a
 * modify operation, not as DDL). EXPLAIN is 'other': it starts no job and answers at once with one row of plan text,
 * nothing to fold as a changelog.
 */
export type StatementKind = 'set' | 'reset' | 'query' | 'insert' | 'statement-set' | 'ddl' | 'show' | 'other';

/** The tables the lab's job and generator own; SQL from the editor may read them, never change them. */
export const LAB_TABLES: readonly string[] = ['sensor_data', 'sensor_alerts', 'aggregates'];

type TokenType = 'word' | 'quoted' | 'string' | 'symbol' | 'comment';

interface Token {
  type: TokenType;
  start: number;
  end: number;
  /** word: upper-cased; quoted (`a` or "a"): the identifier with its doubled quotes undone; others: the raw text. */
  value: string;
}

const WORD_CHAR = /[\p{L}\p{N}_$]/u;

/** Where a quoted run ends (after its closing quote); a doubled quote (or a backslash escape in E'...') stays inside. */
function quotedEnd(source: string, from: number, quote: string, backslash: boolean): { end: number; closed: boolean } {
  let i = from + 1;
  while (i < source.length) {
    const c = source[i];
    if (backslash && c === '\\') i += 2;
    else if (c === quote && source[i + 1] === quote) i += 2;
    else if (c === quote) return { end: i + 1, closed: true };
    else i++;
  }
  return { end: source.length, closed: false }; // unterminated: the rest of the source is inside it
}

/**
 * Flink SQL's lexical structure as far as statement boundaries and names need it. Whitespace is dropped; comments are
 * kept as tokens so the splitter can tell a statement of only comments; an unterminated string or comment runs to the end.
 */
function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const c = source[i];
    const start = i;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '-' && source[i + 1] === '-') {
      while (i < source.length && source[i] !== '\n' && source[i] !== '\r') i++;
      tokens.push({ type: 'comment', start, end: i, value: source.slice(start, i) });
    } else if (c === '/' && source[i + 1] === '*') {
      const close = source.indexOf('*/', i + 2);
      i = close < 0 ? source.length : close + 2;
      tokens.push({ type: 'comment', start, end: i, value: source.slice(start, i) });
    } else if (c === "'") {
      // E'...' (Calcite's C-style string) takes backslash escapes: E'it\'s' is one string.
      const prev = tokens[tokens.length - 1];
      const cStyle = prev?.type === 'word' && prev.value === 'E' && prev.end === start;
      i = quotedEnd(source, i, "'", cStyle).end;
      const from = cStyle ? prev.start : start;
      if (cStyle) tokens.pop();
      tokens.push({ type: 'string', start: from, end: i, value: source.slice(from, i) });
    } else if (c === '`' || c === '"') {
      const { end, closed } = quotedEnd(source, i, c, false);
      i = end;
      const inner = source.slice(start + 1, closed ? end - 1 : end);
      tokens.push({ type: 'quoted', start, end: i, value: inner.split(c + c).join(c) });
    } else if (WORD_CHAR.test(c)) {
      while (i < source.length && WORD_CHAR.test(source[i])) i++;
      tokens.push({ type: 'word', start, end: i, value: source.slice(start, i).toUpperCase() });
    } else {
      i++;
      tokens.push({ type: 'symbol', start, end: i, value: c });
    }
  }
  return tokens;
}

const significant = (tokens: Token[]): Token[] => tokens.filter((t) => t.type !== 'comment');
const isWord = (t: Token | undefined, ...words: string[]): boolean => t?.type === 'word' && words.includes(t.value);
const isSymbol = (t: Token | undefined, symbol: string): boolean => t?.type === 'symbol' && t.value === symbol;
const startsWithWords = (tokens: Token[], words: string[]): boolean => words.every((w, i) => isWord(tokens[i], w));

/**
 * The token runs of the statements, without their ';'. With `groupSets`, a statement set stays one statement:
 * `EXECUTE STATEMENT SET BEGIN ...; ...; END` (and its EXPLAIN) up to the END that closes it (a CASE's END does not),
 * and `BEGIN STATEMENT SET; ...; END` up to a piece that is only END — or to the end of the source when it has none.
 */
function statementRuns(tokens: Token[], groupSets: boolean): Token[][] {
  const runs: Token[][] = [];
  let current: Token[] = [];
  let piece: Token[] = []; // significant tokens since the statement's start, or since its last ';' inside a set
  let mode: 'plain' | 'begin-set' | 'execute-set' = 'plain';
  let caseDepth = 0;
  let setClosed = false;
  const close = (): void => {
    if (current.some((t) => t.type !== 'comment')) runs.push(current);
    current = [];
    piece = [];
    mode = 'plain';
    caseDepth = 0;
    setClosed = false;
  };
  for (const token of tokens) {
    if (isSymbol(token, ';')) {
      const opensBeginSet = groupSets && mode === 'plain' && piece.length === 3 && startsWithWords(piece, ['BEGIN', 'STATEMENT', 'SET']);
      const insideBeginSet = mode === 'begin-set' && !(piece.length === 1 && isWord(piece[0], 'END'));
      const insideExecuteSet = mode === 'execute-set' && !setClosed;
      if (opensBeginSet || insideBeginSet || insideExecuteSet) {
        if (opensBeginSet) mode = 'begin-set';
        current.push(token);
        piece = [];
        continue;
      }
      close();
      continue;
    }
    current.push(token);
    if (token.type === 'comment') continue;
    piece.push(token);
    if (!groupSets) continue;
    const n = piece.length;
    if (mode === 'plain' && isWord(token, 'BEGIN') && isWord(piece[n - 3], 'STATEMENT') && isWord(piece[n - 2], 'SET'))
      mode = 'execute-set';
    else if (mode === 'execute-set' && isWord(token, 'CASE')) caseDepth++;
    else if (mode === 'execute-set' && isWord(token, 'END')) {
      if (caseDepth > 0) caseDepth--;
      else setClosed = true;
    }
  }
  close();
  return runs;
}

/** 1-based line and column of each offset; \r\n, \r and \n each end a line, as in Flink's parser (a tab is one column). */
function locator(source: string): (offset: number) => { line: number; column: number } {
  const lineStarts = [0];
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\n' || (c === '\r' && source[i + 1] !== '\n')) lineStarts.push(i + 1);
  }
  return (offset) => {
    let low = 0;
    let high = lineStarts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (lineStarts[mid] <= offset) low = mid;
      else high = mid - 1;
    }
    return { line: low + 1, column: offset - lineStarts[low] + 1 };
  };
}

function toStatements(source: string, runs: Token[][]): SqlStatement[] {
  const locate = locator(source);
  return runs.map((run) => {
    const offset = run[0].start;
    return { text: source.slice(offset, run[run.length - 1].end), offset, ...locate(offset) };
  });
}

/**
 * The statements of a Flink SQL source. A ';' ends a statement only outside 'strings' (E'...' with backslash escapes),
 * "double-quoted" text, `backquoted` names and comments; statements of nothing but whitespace and comments are dropped,
 * and a last statement needs no ';'.
 *
 * A statement set comes out as ONE statement, `BEGIN STATEMENT SET` to `END` included, so an editor runs or refuses it
 * as a whole and never sends one of its INSERTs alone. Note that the gateway does not take the BEGIN form whole: its
 * parser (Flink 2.2.1 ParserImpl.parse) answers "only single statement supported" to `BEGIN STATEMENT SET; INSERT ...;
 * END`. Flink's SQL client splits at every ';' and the gateway's session gathers the INSERTs between BEGIN STATEMENT SET
 * and END, so send the parts from {@link statementParts} in order on one session. The `EXECUTE STATEMENT SET BEGIN ...;
 * END` form is one statement for the parser and goes whole.
 */
export function splitStatements(source: string): SqlStatement[] {
  return toStatements(source, statementRuns(tokenize(source), true));
}

/**
 * What the gateway must be sent for a statement, in order on one session: for `BEGIN STATEMENT SET; ...; END` its parts
 * (`BEGIN STATEMENT SET`, each INSERT, `END`), each located in the source like the statement; any other statement as it
 * is. Inside the set the gateway answers each INSERT with OK only; END submits the job and answers with its id.
 */
export function statementParts(statement: SqlStatement): SqlStatement[] {
  const sig = significant(tokenize(statement.text));
  if (!startsWithWords(sig, ['BEGIN', 'STATEMENT', 'SET'])) return [statement];
  return toStatements(statement.text, statementRuns(tokenize(statement.text), false)).map((part) => ({
    text: part.text,
    offset: statement.offset + part.offset,
    line: statement.line + part.line - 1,
    column: part.line === 1 ? statement.column + part.column - 1 : part.column,
  }));
}

/** The significant tokens after any leading '(' (a parenthesised query). */
function leadingTokens(text: string): Token[] {
  const sig = significant(tokenize(text));
  let i = 0;
  while (isSymbol(sig[i], '(')) i++;
  return sig.slice(i);
}

/** A CREATE/REPLACE TABLE ... AS query: an AS outside parentheses (column definitions' AS are inside them). */
function isTableAsQuery(tokens: Token[]): boolean {
  if (!tokens.slice(1, 6).some((t) => isWord(t, 'TABLE'))) return false;
  let depth = 0;
  for (const t of tokens) {
    if (isSymbol(t, '(')) depth++;
    else if (isSymbol(t, ')')) depth--;
    else if (depth === 0 && isWord(t, 'AS')) return true;
  }
  return false;
}

/** The statement's kind from its first keywords, past leading comments and '(' (see {@link StatementKind}). */
export function statementKind(text: string): StatementKind {
  const t = leadingTokens(text);
  const first = t[0]?.type === 'word' ? t[0].value : '';
  switch (first) {
    case 'SET':
      return 'set';
    case 'RESET':
      return 'reset';
    case 'SELECT':
    case 'WITH':
    case 'VALUES':
      return 'query';
    case 'INSERT':
    case 'UPSERT':
      return 'insert';
    case 'EXECUTE':
      if (startsWithWords(t.slice(1), ['STATEMENT', 'SET'])) return 'statement-set';
      return isWord(t[1], 'INSERT', 'UPSERT', 'PLAN') ? 'insert' : 'other';
    case 'BEGIN':
      return startsWithWords(t.slice(1), ['STATEMENT', 'SET']) ? 'statement-set' : 'other';
    case 'CREATE':
    case 'REPLACE':
      return isTableAsQuery(t) ? 'insert' : first === 'CREATE' ? 'ddl' : 'other';
    case 'DROP':
    case 'ALTER':
      return 'ddl';
    case 'SHOW':
    case 'DESCRIBE':
    case 'DESC':
      return 'show';
    default:
      return 'other';
  }
}

/** A possibly qualified name at `i` (cat.db.t, `cat`.`db`.`t`): its last part, lower-cased. */
function nameAt(tokens: Token[], i: number): string | undefined {
  let last: string | undefined;
  while (tokens[i]?.type === 'word' || tokens[i]?.type === 'quoted') {
    last = tokens[i].value.toLowerCase();
    if (!isSymbol(tokens[i + 1], '.')) break;
    i += 2;
  }
  return last;
}

/** Skips the optional words of a DDL head (OR REPLACE, TEMPORARY, ...) and returns the index after TABLE/VIEW, or -1. */
function afterObjectWord(tokens: Token[], i: number, optional: string[]): number {
  while (isWord(tokens[i], ...optional)) i++;
  if (!isWord(tokens[i], 'TABLE', 'VIEW')) return -1;
  i++;
  if (isWord(tokens[i], 'IF')) {
    i++;
    if (isWord(tokens[i], 'NOT')) i++;
    if (isWord(tokens[i], 'EXISTS')) i++;
  }
  return i;
}

type LabAction = 'write' | 'drop' | 'alter' | 're-create';

/** The tables a statement writes or changes, with what it does to each: INSERTs anywhere, DDL at a statement's start. */
function targets(tokens: Token[]): { name: string; action: LabAction }[] {
  const found: { name: string; action: LabAction }[] = [];
  const add = (i: number, action: LabAction): void => {
    const name = i < 0 ? undefined : nameAt(tokens, i);
    if (name) found.push({ name, action });
  };
  tokens.forEach((t, i) => {
    if (isWord(t, 'INSERT', 'UPSERT') && isWord(tokens[i + 1], 'INTO', 'OVERWRITE')) add(i + 2, 'write');
    const atStart = i === 0 || isSymbol(tokens[i - 1], ';');
    if (!atStart || t.type !== 'word') return;
    if (t.value === 'CREATE') add(afterObjectWord(tokens, i + 1, ['OR', 'REPLACE', 'TEMPORARY', 'MATERIALIZED']), 're-create');
    else if (t.value === 'REPLACE' && isWord(tokens[i + 1], 'TABLE')) add(i + 2, 're-create');
    else if (t.value === 'DROP') add(afterObjectWord(tokens, i + 1, ['TEMPORARY', 'MATERIALIZED']), 'drop');
    else if (t.value === 'ALTER') {
      add(afterObjectWord(tokens, i + 1, ['TEMPORARY', 'MATERIALIZED']), 'alter');
      const rename = tokens.findIndex((r, j) => j > i && isWord(r, 'RENAME') && isWord(tokens[j + 1], 'TO'));
      if (rename > 0) add(rename + 2, 're-create');
    } else if (t.value === 'DELETE' && isWord(tokens[i + 1], 'FROM')) add(i + 2, 'write');
    else if (t.value === 'UPDATE') add(i + 1, 'write');
    else if (t.value === 'TRUNCATE' && isWord(tokens[i + 1], 'TABLE')) add(i + 2, 'write');
  });
  return found;
}

const PAST_TENSE: Record<Exclude<LabAction, 'write'>, string> = { drop: 'dropped', alter: 'altered', 're-create': 're-created' };

/**
 * A sentence refusing the statement when it writes to, drops, alters or re-creates one of the lab tables; undefined
 * otherwise. Names compare case-insensitively on their last part, so `cat`.`db`.SENSOR_DATA is sensor_data whatever
 * catalog it names (refusing too much beats writing into the lab's topic). Names in strings and comments are not
 * names; a table only read (FROM, JOIN, LIKE) is allowed, and so is EXPLAIN, which plans without running.
 */
export function labTableWrite(text: string, tables: readonly string[] = LAB_TABLES): string | undefined {
  const tokens = significant(tokenize(text));
  if (isWord(tokens[0], 'EXPLAIN')) return undefined;
  const lab = new Map(tables.map((t) => [t.toLowerCase(), t]));
  for (const { name, action } of targets(tokens)) {
    const table = lab.get(name);
    if (!table) continue;
    const own = "(CREATE TABLE t (...) WITH ('connector' = 'print'), 'blackhole', or a new Kafka topic)";
    if (action === 'write') return `${table} is one of the lab's read-only tables: INSERT INTO a table of your own ${own}.`;
    return `${table} is one of the lab's tables and cannot be ${PAST_TENSE[action]} here: create a table of your own under another name ${own}.`;
  }
  return undefined;
}
