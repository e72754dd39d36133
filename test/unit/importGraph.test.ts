import * as assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import * as ts from 'typescript';
import { repoRoot } from '../support/cli';

/**
 * The imports of src/ point one way: no module reaches itself again through the modules it imports. An import of
 * types only (`import type`, or every name marked `type`) is erased by the compiler and may point back; any other
 * static import or re-export counts, whether or not its names end up used as values.
 */
const srcRoot = join(repoRoot, 'src');

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

function isTypeOnly(statement: ts.ImportDeclaration | ts.ExportDeclaration): boolean {
  if (ts.isExportDeclaration(statement)) return statement.isTypeOnly;
  const clause = statement.importClause;
  if (!clause) return false; // `import './x'` runs the module
  if (clause.isTypeOnly) return true;
  const bindings = clause.namedBindings;
  return !clause.name && bindings !== undefined && ts.isNamedImports(bindings) && bindings.elements.length > 0 && bindings.elements.every((e) => e.isTypeOnly);
}

/** Each module of src/ with the modules of src/ it imports for more than types. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(srcRoot)) {
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, false);
    const targets = new Set<string>();
    for (const statement of source.statements) {
      if (!(ts.isImportDeclaration(statement) || ts.isExportDeclaration(statement)) || !statement.moduleSpecifier) continue;
      if (!ts.isStringLiteral(statement.moduleSpecifier) || isTypeOnly(statement)) continue;
      const target = resolveLocal(file, statement.moduleSpecifier.text);
      if (target) targets.add(target);
    }
    graph.set(file, [...targets]);
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

describe('the import graph of src/', () => {
  it('finds a circle when there is one', () => {
    const graph = new Map([
      ['index', ['a', 'b']],
      ['a', ['helper']],
      ['b', ['index']],
      ['helper', []],
    ]);
    assert.deepEqual(findCircles(graph), [['index', 'b', 'index']]);
  });

  it('has no circle (imports of types only aside)', () => {
    const graph = importGraph();
    const edges = [...graph.values()].reduce((sum, targets) => sum + targets.length, 0);
    assert.ok(graph.size > 50 && edges > 100, `read ${graph.size} modules and ${edges} imports`);
    const circles = findCircles(graph).map((circle) => circle.map((file) => relative(srcRoot, file)).join(' → '));
    assert.deepEqual(circles, []);
  });
});
