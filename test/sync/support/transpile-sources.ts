/**
 * Transpiles a source module and everything it imports relatively (TypeScript to plain ESM,
 * one file each, no bundling) into `outDir`, keeping the src/ layout, so a child `node` process
 * (for instance one run under strace) can import the library's real code without a build.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

/** Transpiles `entry` (a .ts file) and its relative imports; returns the entry's .js path. */
export function transpileSources(entry: string, root: string, outDir: string): string {
  const seen = new Set<string>();
  const pending = [resolve(entry)];
  while (pending.length > 0) {
    const file = pending.pop();
    if (file === undefined || seen.has(file)) continue;
    seen.add(file);
    const source = readFileSync(file, 'utf8');
    for (const match of source.matchAll(/from '(\.{1,2}\/[^']+)\.js'/g)) {
      pending.push(resolve(dirname(file), `${match[1] ?? ''}.ts`));
    }
    const js = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
      fileName: file,
    }).outputText;
    const out = join(outDir, relative(root, file)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, js);
  }
  return join(outDir, relative(root, resolve(entry))).replace(/\.ts$/, '.js');
}
