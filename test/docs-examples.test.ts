/**
 * Runs every example in the docs: each ```ts block in README.md and docs/*.md whose first line
 * is `// example: <name>` is type-checked against the built declarations (as a user's strict
 * TypeScript project would see them), then transpiled, its imports of 'durable-write',
 * 'durable-write/testing' and 'durable-write/compat' pointed at the built package, and run in its
 * own Node process, which must exit 0.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { distCompatEsm, distEsm, distTestingEsm, repoRoot, requireCompatBuild } from './support/built-package.js';

interface Example {
  readonly file: string;
  readonly name: string;
  readonly code: string;
}

function examplesIn(file: string): Example[] {
  const text = readFileSync(join(repoRoot, file), 'utf8');
  const examples: Example[] = [];
  for (const match of text.matchAll(/```ts\n\/\/ example: ([^\n]+)\n([\s\S]*?)```/g)) {
    examples.push({ file, name: (match[1] ?? '').trim(), code: match[2] ?? '' });
  }
  return examples;
}

const files = ['README.md', ...readdirSync(join(repoRoot, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
const examples = files.flatMap(examplesIn);

function toRunnable(code: string): string {
  const js = ts.transpileModule(code, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: false },
  }).outputText;
  return js
    .replaceAll(`'durable-write/testing'`, `'${pathToFileURL(distTestingEsm).href}'`)
    .replaceAll(`'durable-write/compat'`, `'${pathToFileURL(distCompatEsm).href}'`)
    .replaceAll(`'durable-write'`, `'${pathToFileURL(distEsm).href}'`);
}

/** The type errors of every example, compiled together as separate strict modules against dist/'s declarations. */
function typeErrors(all: readonly Example[]): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'durable-write-example-types-'));
  try {
    const names = all.map((example, index) => {
      const file = join(dir, `example-${index}.ts`);
      writeFileSync(file, example.code);
      return file;
    });
    const program = ts.createProgram(names, {
      strict: true,
      exactOptionalPropertyTypes: true,
      noUncheckedIndexedAccess: true,
      noEmit: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      types: ['node'],
      typeRoots: [join(repoRoot, 'node_modules/@types')],
      paths: {
        'durable-write': [join(repoRoot, 'dist/index.d.ts')],
        'durable-write/testing': [join(repoRoot, 'dist/testing.d.ts')],
        'durable-write/compat': [join(repoRoot, 'dist/compat.d.ts')],
      },
    });
    return ts.getPreEmitDiagnostics(program).map((diagnostic) => {
      const index = Number(/example-(\d+)\.ts$/.exec(diagnostic.file?.fileName ?? '')?.[1]);
      const where = all[index] === undefined ? (diagnostic.file?.fileName ?? '') : `${all[index].file}: ${all[index].name}`;
      return `${where}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('documentation examples', () => {
  it('there are examples to run', () => {
    expect(examples.length).toBeGreaterThan(0);
  });

  it('every example type-checks against the published declarations', () => {
    requireCompatBuild();
    expect(typeErrors(examples)).toEqual([]);
  });

  it('twin: the type check catches an example that uses an API wrongly', () => {
    requireCompatBuild();
    const wrong = { file: 'twin', name: 'wrong', code: "import { writeDurable } from 'durable-write';\nawait writeDurable('/tmp/x', 'y', { createParent: true });\n" };
    expect(typeErrors([wrong]).join('\n')).toMatch(/createParent/);
  });

  it.each(examples.map((e) => [`${e.file}: ${e.name}`, e] as const))('%s', (_title, example) => {
    requireCompatBuild();
    const dir = mkdtempSync(join(tmpdir(), 'durable-write-example-'));
    try {
      const script = join(dir, 'example.mjs');
      writeFileSync(script, toRunnable(example.code));
      execFileSync(process.execPath, [script], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
    } catch (error) {
      const detail = error as { stderr?: Buffer; stdout?: Buffer };
      throw new Error(`example "${example.name}" in ${example.file} failed:\n${detail.stderr?.toString() ?? ''}${detail.stdout?.toString() ?? ''}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
