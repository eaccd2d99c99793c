/**
 * Runs every example in the docs: each ```ts block in README.md and docs/*.md whose first line
 * is `// example: <name>` is type-checked against the built declarations (as a user's strict
 * TypeScript project would see them), then transpiled, its imports of 'durable-write',
 * 'durable-write/testing' and 'durable-write/compat' pointed at the built package, and run in its
 * own Node process, which must exit 0. Examples that drive a BMC over Redfish (`power-redfish-*`)
 * get `BMC_HOST`, `BMC_PORT`, `BMC_CA` and `BMC_PASSWORD` naming the repository's Redfish test
 * server, over HTTPS with a certificate made by openssl for the run.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { distCompatEsm, distEsm, distTestingEsm, repoRoot, requireCompatBuild } from './support/built-package.js';
import { missing } from './support/prerequisites.js';
import { makeCertificate } from './power/support/certificate.js';
import { REDFISH_USERS, startRedfishServer, type RedfishServer } from './power/support/redfish-server.js';

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

const noOpenssl = missing({ tools: ['openssl'] });
const run = promisify(execFile);

/** Runs one example in its own Node process (asynchronously: a test server in this process must keep answering). */
async function runExample(example: Example, env: NodeJS.ProcessEnv): Promise<void> {
  requireCompatBuild();
  const dir = mkdtempSync(join(tmpdir(), 'durable-write-example-'));
  try {
    const script = join(dir, 'example.mjs');
    writeFileSync(script, toRunnable(example.code));
    await run(process.execPath, [script], { cwd: dir, env, timeout: 60_000 });
  } catch (error) {
    const detail = error as { stderr?: string; stdout?: string };
    throw new Error(`example "${example.name}" in ${example.file} failed:\n${detail.stderr ?? ''}${detail.stdout ?? ''}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const needsBmc = (example: Example): boolean => example.name.startsWith('power-redfish-');

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

  it.each(examples.filter((e) => !needsBmc(e)).map((e) => [`${e.file}: ${e.name}`, e] as const))('%s', async (_title, example) => {
    await runExample(example, process.env);
  });

  describe.skipIf(noOpenssl !== undefined)(`against the Redfish test server${noOpenssl === undefined ? '' : ` (skipped: ${noOpenssl})`}`, () => {
    let bmc: RedfishServer | undefined;
    let bmcDir = '';
    let bmcEnv: NodeJS.ProcessEnv = {};
    beforeAll(async () => {
      bmcDir = mkdtempSync(join(tmpdir(), 'durable-write-example-bmc-'));
      const certificate = await makeCertificate(bmcDir);
      bmc = await startRedfishServer({ tls: { key: certificate.key, cert: certificate.cert } });
      bmcEnv = { BMC_HOST: '127.0.0.1', BMC_PORT: String(bmc.port), BMC_CA: certificate.certPath, BMC_PASSWORD: REDFISH_USERS.operator.password };
    });
    afterAll(async () => {
      await bmc?.close();
      if (bmcDir !== '') rmSync(bmcDir, { recursive: true, force: true });
    });

    it.each(examples.filter(needsBmc).map((e) => [`${e.file}: ${e.name}`, e] as const))('%s', async (_title, example) => {
      bmc?.clear();
      await runExample(example, { ...process.env, ...bmcEnv });
      expect(bmc?.resets.length, 'the example reached the test BMC').toBeGreaterThan(0);
      expect(bmc?.sessions().open).toEqual([]);
    });
  });
});
