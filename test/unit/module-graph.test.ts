/**
 * The shape of src/: no import cycle (type imports included: a cycle of types is still two modules
 * that cannot be understood apart), and CONTRIBUTING's module map names exactly the files there are.
 * Function length is eslint's (max-lines-per-function in eslint.config.mjs).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../helpers/paths.js';

const srcDir = join(repoRoot, 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [relative(srcDir, path)] : [];
  });
}

/** Every relative module a file imports or re-exports: static, `import type` and import(). */
function importsOf(file: string): string[] {
  const text = readFileSync(join(srcDir, file), 'utf8');
  const specifiers = [
    ...text.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s*'([^']+)'/gms),
    ...text.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g),
  ].map((match) => match[1]!);
  return specifiers
    .filter((specifier) => specifier.startsWith('.'))
    .map((specifier) => relative(srcDir, join(srcDir, dirname(file), specifier)).replace(/\.js$/, '.ts'));
}

/** The cycles of the graph, each as the path that closes it (a → b → a). */
function cyclesOf(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const cycles: string[][] = [];
  const done = new Set<string>();
  const visit = (node: string, path: string[]) => {
    const at = path.indexOf(node);
    if (at >= 0) {
      cycles.push([...path.slice(at), node]);
      return;
    }
    if (done.has(node)) return;
    for (const next of graph.get(node) ?? []) visit(next, [...path, node]);
    done.add(node);
  };
  for (const node of graph.keys()) visit(node, []);
  return cycles;
}

const files = sourceFiles(srcDir);
const graph = new Map(files.map((file) => [file, importsOf(file)]));

test('the import walk finds the imports, type imports and lazy imports', () => {
  assert.ok(graph.get('run.ts')?.includes('wiring.ts'), 'run.ts imports the type Connections from wiring.ts');
  assert.ok(graph.get('cli.ts')?.includes('schedule.ts'), 'cli.ts import()s schedule.ts');
  const missing = [...graph.values()].flat().filter((file) => !graph.has(file));
  assert.deepEqual(missing, [], 'every relative import resolves to a file in src/');
});

test('src/ has no import cycle, type imports included', () => {
  assert.deepEqual(
    cyclesOf(graph).map((cycle) => cycle.join(' → ')),
    [],
  );
});

test('the cycle finder finds a cycle', () => {
  const cyclic = new Map([
    ['a.ts', ['b.ts']],
    ['b.ts', ['c.ts']],
    ['c.ts', ['a.ts']],
  ]);
  assert.deepEqual(cyclesOf(cyclic), [['a.ts', 'b.ts', 'c.ts', 'a.ts']]);
});

test("CONTRIBUTING's module map names every file in src/, and only those", () => {
  const contributing = readFileSync(join(repoRoot, 'CONTRIBUTING.md'), 'utf8');
  const table = contributing.slice(contributing.indexOf('| module | holds |'));
  const named = new Set<string>();
  for (const row of table.slice(0, table.indexOf('\n\n')).split('\n').slice(2)) {
    // A row's first cell: `src/dir/first.ts`, `second.ts`… (later names in the first one's folder),
    // or `src/dir/` for a whole folder.
    const cell = row.split('|')[1] ?? '';
    const names = [...cell.matchAll(/`([^`]+)`/g)].map((match) => match[1]!);
    const folder = dirname(names[0] ?? '');
    for (const name of names) {
      const path = relative('src', name.startsWith('src/') ? name : join(folder, name));
      if (name.endsWith('/')) for (const file of files.filter((f) => f.startsWith(`${path}/`))) named.add(file);
      else named.add(path);
    }
  }
  assert.deepEqual(
    files.filter((file) => !named.has(file)),
    [],
    'files missing from the map',
  );
  assert.deepEqual(
    [...named].filter((file) => !graph.has(file)),
    [],
    'files in the map that do not exist',
  );
});
