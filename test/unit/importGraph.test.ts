// The import graph of src/: no circle (imports of types included) and every import allowed by the README's layer table.
import * as assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import * as ts from 'typescript';
import { repoRoot } from '../support/cli';

const srcRoot = join(repoRoot, 'src');

/** The folders (and the two entry files) whose modules may import `vscode`. */
const VSCODE_LAYERS = new Set(['extension', 'commands', 'views', 'services']);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) return sourceFiles(full);
    return name.endsWith('.ts') ? [full] : [];
  });
}

function resolveLocal(from: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  const base = resolve(dirname(from), specifier);
  return [`${base}.ts`, join(base, 'index.ts')].find((candidate) => existsSync(candidate));
}

interface ModuleImports {
  /** Modules of src/ it imports, for types or values. */
  local: string[];
  /** Packages and Node built-ins it imports. */
  external: string[];
}

/** Each module of src/ with what it imports; a static import or re-export counts, `import type` included. */
function importGraph(): Map<string, ModuleImports> {
  const graph = new Map<string, ModuleImports>();
  for (const file of sourceFiles(srcRoot)) {
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, false);
    const local = new Set<string>();
    const external = new Set<string>();
    for (const statement of source.statements) {
      if (!(ts.isImportDeclaration(statement) || ts.isExportDeclaration(statement)) || !statement.moduleSpecifier) continue;
      if (!ts.isStringLiteral(statement.moduleSpecifier)) continue;
      const specifier = statement.moduleSpecifier.text;
      const target = resolveLocal(file, specifier);
      if (target) local.add(target);
      else if (!specifier.startsWith('.')) external.add(specifier);
      else throw new Error(`${relative(srcRoot, file)} imports ${specifier}, which is not a file of src/`);
    }
    graph.set(file, { local: [...local], external: [...external] });
  }
  return graph;
}

/** The circles of a graph, each as the path that closes it (first module repeated at the end). */
function findCircles(graph: Map<string, string[]>): string[][] {
  const circles: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (node: string): void => {
    state.set(node, 'open');
    path.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'open') circles.push([...path.slice(path.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    path.pop();
    state.set(node, 'done');
  };
  for (const node of graph.keys()) if (!state.has(node)) visit(node);
  return circles;
}

/** `src/extension.ts` → extension, `src/cli.ts` → cli, `src/kafka/lag.ts` → kafka. */
function layerOf(file: string): string {
  const path = relative(srcRoot, file).split(/[\\/]/);
  return path.length === 1 ? path[0].replace(/\.ts$/, '') : path[0];
}

/**
 * The README's layer table: each row whose first cell names `src/…` gives that layer and, in its last cell, the
 * layers it may import (backticked names, `everything` or `nothing`). A layer may always import itself.
 */
export function parseLayerTable(markdown: string): Map<string, Set<string> | 'everything'> {
  const table = new Map<string, Set<string> | 'everything'>();
  for (const line of markdown.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    if (cells.length < 5 || !cells[1].includes('`src/')) continue;
    const last = cells[cells.length - 2];
    const allowed = last === 'everything' ? 'everything' : new Set([...last.matchAll(/`([a-z]+)`/g)].map((m) => m[1]));
    for (const [, path] of cells[1].matchAll(/`src\/([a-zA-Z]+)(?:\/|\.ts)`/g)) table.set(path, allowed);
  }
  return table;
}

/** The imports the table does not allow, as `from → to` lines. */
function layerViolations(
  graph: Map<string, string[]>,
  table: Map<string, Set<string> | 'everything'>,
  layer: (node: string) => string,
): string[] {
  const found: string[] = [];
  for (const [node, targets] of graph) {
    const from = layer(node);
    const allowed = table.get(from);
    if (allowed === undefined) {
      found.push(`${node}: its folder ${from} is not in the layer table`);
      continue;
    }
    for (const target of targets) {
      const to = layer(target);
      if (to !== from && allowed !== 'everything' && !allowed.has(to)) found.push(`${node} → ${target} (${from} may not import ${to})`);
    }
  }
  return found;
}

describe('the import graph of src/', () => {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');

  it('finds a circle when there is one', () => {
    const graph = new Map([
      ['index', ['a', 'b']],
      ['a', ['helper']],
      ['b', ['index']],
      ['helper', []],
    ]);
    assert.deepEqual(findCircles(graph), [['index', 'b', 'index']]);
  });

  it('finds an import the layer table does not allow', () => {
    const table = parseLayerTable(
      '| `src/kafka/` | the client | `shared` |\n| `src/shared/` | helpers | nothing |\n| `src/extension.ts` | wires | everything |',
    );
    const graph = new Map([
      ['kafka/a', ['shared/x', 'kafka/b']],
      ['shared/x', ['kafka/a']],
      ['extension/e', ['kafka/a', 'shared/x']],
      ['views/v', []],
    ]);
    assert.deepEqual(
      layerViolations(graph, table, (n) => n.split('/')[0]),
      ['shared/x → kafka/a (shared may not import kafka)', 'views/v: its folder views is not in the layer table'],
    );
  });

  it('has no circle, imports of types included', () => {
    const graph = importGraph();
    const edges = [...graph.values()].reduce((sum, m) => sum + m.local.length, 0);
    assert.ok(graph.size > 50 && edges > 100, `read ${graph.size} modules and ${edges} imports`);
    const local = new Map([...graph].map(([file, m]) => [file, m.local]));
    const circles = findCircles(local).map((circle) => circle.map((file) => relative(srcRoot, file)).join(' → '));
    assert.deepEqual(circles, []);
  });

  it("imports only down the README's layer table", () => {
    const table = parseLayerTable(readme);
    assert.ok(table.size >= 12, `the README's architecture table names ${table.size} folders of src/`);
    const folders = new Set(sourceFiles(srcRoot).map(layerOf));
    assert.deepEqual(
      [...folders].filter((f) => !table.has(f)),
      [],
      'every folder of src/ has a row in the table',
    );
    const local = new Map([...importGraph()].map(([file, m]) => [relative(srcRoot, file), m.local.map((t) => relative(srcRoot, t))]));
    assert.deepEqual(
      layerViolations(local, table, (n) => layerOf(join(srcRoot, n))),
      [],
    );
  });

  it('imports vscode only in extension.ts, commands/, views/ and services/', () => {
    const offenders = [...importGraph()]
      .filter(([file, m]) => m.external.includes('vscode') && !VSCODE_LAYERS.has(layerOf(file)))
      .map(([file]) => relative(srcRoot, file));
    assert.deepEqual(offenders, []);
  });
});
