// The Flink SQL grammar (media/flink-sql/flink-sql.tmLanguage.json), run by VS Code's own TextMate engine over the
// sample queries a learner opens first (sample-workspace/queries/*.flink.sql).
import * as assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as oniguruma from 'vscode-oniguruma';
import { INITIAL, Registry, parseRawGrammar, type IGrammar } from 'vscode-textmate';

const root = join(__dirname, '..', '..', '..');
const QUERIES = join(root, 'sample-workspace', 'queries');

interface Token {
  line: number;
  text: string;
  scopes: string[];
}

let grammar: IGrammar;

async function loadGrammar(): Promise<IGrammar> {
  const wasm = readFileSync(join(root, 'node_modules', 'vscode-oniguruma', 'release', 'onig.wasm'));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const registry = new Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns: string[]) => new oniguruma.OnigScanner(patterns),
      createOnigString: (text: string) => new oniguruma.OnigString(text),
    }),
    loadGrammar: async (scope) => {
      if (scope !== 'source.flink-sql') return null;
      const file = join(root, 'media', 'flink-sql', 'flink-sql.tmLanguage.json');
      return parseRawGrammar(readFileSync(file, 'utf8'), file);
    },
  });
  const loaded = await registry.loadGrammar('source.flink-sql');
  if (!loaded) throw new Error('the grammar did not load');
  return loaded;
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let state = INITIAL;
  text.split('\n').forEach((line, index) => {
    const result = grammar.tokenizeLine(line, state);
    for (const t of result.tokens) tokens.push({ line: index + 1, text: line.slice(t.startIndex, t.endIndex), scopes: t.scopes });
    state = result.ruleStack;
  });
  return tokens;
}

/** The innermost scope of every token whose text is `word` (case as written), outside comments unless asked. */
const scopesOf = (tokens: Token[], word: string) => tokens.filter((t) => t.text.trim() === word).map((t) => t.scopes.at(-1)!);
const kindOf = (scope: string) => scope.split('.').slice(0, 2).join('.');

describe('the Flink SQL grammar on the sample queries', function () {
  this.timeout(20_000);
  const samples = readdirSync(QUERIES)
    .filter((f) => f.endsWith('.flink.sql'))
    .sort();
  const read = (name: string) => tokenize(readFileSync(join(QUERIES, name), 'utf8'));

  before(async () => {
    grammar = await loadGrammar();
  });

  it('five samples, each a commented statement: every comment line is a comment to its end, nothing in it a keyword', () => {
    assert.equal(samples.length, 5, samples.join(', '));
    for (const name of samples) {
      const text = readFileSync(join(QUERIES, name), 'utf8');
      const tokens = tokenize(text);
      const commentLines = text.split('\n').flatMap((l, i) => (l.startsWith('--') ? [i + 1] : []));
      assert.ok(commentLines.length >= 3, `${name} explains its concept in a comment`);
      for (const line of commentLines) {
        const onLine = tokens.filter((t) => t.line === line);
        assert.ok(
          onLine.every((t) => t.scopes.some((s) => s.startsWith('comment.line.double-dash'))),
          `${name}:${line}: ${onLine.map((t) => `${t.text}=${t.scopes.at(-1)}`).join(' ')}`,
        );
      }
      const statements = text.split('\n').filter((l) => !l.startsWith('--') && l.trim() !== '');
      assert.ok(statements.at(-1)!.trimEnd().endsWith(';'), `${name} ends its statement with ;`);
    }
  });

  it('keywords, window functions, functions, strings, numbers and identifiers each get their scope', () => {
    const tumbling = read('01-tumbling-window.flink.sql');
    for (const word of ['SELECT', 'FROM', 'GROUP', 'BY', 'AS', 'TABLE', 'DESCRIPTOR', 'INTERVAL'])
      assert.deepEqual(new Set(scopesOf(tumbling, word).map(kindOf)), new Set(['keyword.other']), word);
    assert.deepEqual(scopesOf(tumbling, 'SECOND'), ['keyword.other.unit.flink-sql']);
    assert.deepEqual(scopesOf(tumbling, 'TUMBLE'), ['support.function.window.flink-sql']);
    for (const fn of ['COUNT', 'ROUND', 'AVG', 'MAX']) assert.deepEqual(scopesOf(tumbling, fn), ['entity.name.function.flink-sql'], fn);
    assert.deepEqual(scopesOf(tumbling, '10'), ['string.quoted.single.flink-sql'], "'10' is a string");
    assert.deepEqual(scopesOf(tumbling, '2'), ['constant.numeric.flink-sql']);
    assert.deepEqual(scopesOf(tumbling, 'sensor_data'), ['source.flink-sql'], 'a table name is a plain identifier');
    assert.deepEqual(scopesOf(read('02-hopping-window.flink.sql'), 'HOP'), ['support.function.window.flink-sql']);
    const topN = read('03-top-n-per-window.flink.sql');
    assert.deepEqual(scopesOf(topN, 'ROW_NUMBER'), ['entity.name.function.flink-sql']);
    assert.deepEqual(new Set(scopesOf(topN, 'OVER').map(kindOf)), new Set(['keyword.other']), 'OVER ( is a keyword, not a call');
    assert.deepEqual(scopesOf(topN, 'MINUTE'), ['keyword.other.unit.flink-sql']);
    assert.deepEqual(scopesOf(topN, '<='), ['keyword.operator.flink-sql']);
    const join = read('05-alerts-with-readings.flink.sql');
    assert.deepEqual(new Set(scopesOf(join, 'JOIN').map(kindOf)), new Set(['keyword.other']));
  });

  it('a quote or a comment marker inside a string, and a keyword inside backticks, stay what they are', () => {
    const tokens = tokenize("SELECT 'it''s -- not a comment', `select`, x /* SELECT\nFROM */ FROM t; -- done");
    assert.deepEqual(
      tokens.filter((t) => t.text.trim() !== '').map((t) => [t.line, t.scopes.length > 1 ? t.text : t.text.trim(), t.scopes.at(-1)]),
      [
        [1, 'SELECT', 'keyword.other.dml.flink-sql'],
        [1, "'", 'punctuation.definition.string.begin.flink-sql'],
        [1, 'it', 'string.quoted.single.flink-sql'],
        [1, "''", 'constant.character.escape.flink-sql'],
        [1, 's -- not a comment', 'string.quoted.single.flink-sql'],
        [1, "'", 'punctuation.definition.string.end.flink-sql'],
        [1, ',', 'punctuation.separator.comma.flink-sql'],
        [1, '`', 'punctuation.definition.identifier.flink-sql'],
        [1, 'select', 'variable.other.quoted.flink-sql'],
        [1, '`', 'punctuation.definition.identifier.flink-sql'],
        [1, ',', 'punctuation.separator.comma.flink-sql'],
        [1, 'x', 'source.flink-sql'],
        [1, '/*', 'punctuation.definition.comment.flink-sql'],
        [1, ' SELECT', 'comment.block.flink-sql'],
        [2, 'FROM ', 'comment.block.flink-sql'],
        [2, '*/', 'punctuation.definition.comment.flink-sql'],
        [2, 'FROM', 'keyword.other.dml.flink-sql'],
        [2, 't', 'source.flink-sql'],
        [2, ';', 'punctuation.separator.statement.flink-sql'],
        [2, '--', 'punctuation.definition.comment.flink-sql'],
        [2, ' done', 'comment.line.double-dash.flink-sql'],
      ],
    );
  });
});
