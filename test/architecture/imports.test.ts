/**
 * The shape of src/ stays as ARCHITECTURE.md draws it: no import cycles (type-only imports
 * count: a cycle of types is still two modules that cannot be understood apart), and each area
 * imports only from the areas beneath it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const src = resolve(import.meta.dirname, '../../src');

/** Every .ts file under `dir`, as paths relative to src/. */
function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [relative(src, path)] : [];
  });
}

/** The relative imports and re-exports of `file` (a path relative to src/), resolved to src/-relative .ts paths. */
function importsOf(file: string, source: string): string[] {
  const specifiers = [...source.matchAll(/^\s*(?:import|export)\b[^;'"]*?from\s+'(\.{1,2}\/[^']+)'/gm)].map((match) => match[1] ?? '');
  return specifiers.map((specifier) => relative(src, resolve(src, dirname(file), specifier)).replace(/\.js$/, '.ts'));
}

/** The import graph of src/. */
function graphOf(files: readonly string[], read: (file: string) => string): Map<string, string[]> {
  return new Map(files.map((file) => [file, importsOf(file, read(file))]));
}

/** Every cycle found by a depth-first walk, each as the files along it, first repeated last. */
function cyclesOf(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const cycles: string[][] = [];
  const done = new Set<string>();
  const stack: string[] = [];
  const visit = (file: string): void => {
    const at = stack.indexOf(file);
    if (at >= 0) {
      cycles.push([...stack.slice(at), file]);
      return;
    }
    if (done.has(file)) return;
    stack.push(file);
    for (const next of graph.get(file) ?? []) visit(next);
    stack.pop();
    done.add(file);
  };
  for (const file of graph.keys()) visit(file);
  return cycles;
}

/** The area of a src/-relative path: its first folder, or `entry` for the entry points (src/index.ts, src/testing.ts, src/compat.ts, src/cli.ts). */
function areaOf(file: string): string {
  return file.includes('/') ? (file.split('/')[0] ?? '') : 'entry';
}

/** What each area may import from, besides itself (ARCHITECTURE.md's layers). */
const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  core: [],
  write: ['core'],
  sync: ['core'],
  power: ['core'],
  testing: ['core', 'power'],
  compat: ['core', 'write'],
  cli: ['core', 'write', 'sync', 'power'],
  entry: ['core', 'write', 'sync', 'power', 'testing', 'compat', 'cli'],
};

const files = sourceFiles(src);
const graph = graphOf(files, (file) => readFileSync(join(src, file), 'utf8'));

describe('the import graph of src/', () => {
  it('reads every module and finds their imports', () => {
    expect(files.length).toBeGreaterThan(30);
    expect(graph.get('index.ts')).toContain('write/write-durable.ts');
    for (const targets of graph.values()) for (const target of targets) expect(files).toContain(target);
  });

  it('has no import cycle', () => {
    expect(cyclesOf(graph).map((cycle) => cycle.join(' -> '))).toEqual([]);
  });

  it('has each area import only from the areas beneath it', () => {
    const crossings = [...graph].flatMap(([file, targets]) =>
      targets
        .filter((target) => areaOf(target) !== areaOf(file) && !(ALLOWED[areaOf(file)] ?? []).includes(areaOf(target)))
        .map((target) => `${file} -> ${target}`),
    );
    expect(crossings).toEqual([]);
  });

  it('twin: the walk finds a cycle and a crossing when there is one', () => {
    const planted = new Map(graph);
    planted.set('core/errors.ts', [...(graph.get('core/errors.ts') ?? []), 'power/power-controller.ts']);
    expect(cyclesOf(planted).some((cycle) => cycle.includes('core/errors.ts') && cycle.includes('power/power-controller.ts'))).toBe(true);
    expect(areaOf('power/power-controller.ts')).toBe('power');
    expect(ALLOWED['core']).not.toContain('power');
    const typeOnly = importsOf('power/ipmitool-invocation.ts', "import type { X } from './ipmitool.js';");
    expect(typeOnly).toEqual(['power/ipmitool.ts']);
  });
});
