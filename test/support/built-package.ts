/**
 * The built package (dist/), for tests that run it in a child process or load both its ESM and
 * CJS copies. `npm test` builds before running vitest; a bare `vitest` needs `npm run build` first.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const distEsm = fileURLToPath(new URL('../../dist/index.js', import.meta.url));
export const distCjs = fileURLToPath(new URL('../../dist/index.cjs', import.meta.url));
export const distTestingEsm = fileURLToPath(new URL('../../dist/testing.js', import.meta.url));
export const distTestingCjs = fileURLToPath(new URL('../../dist/testing.cjs', import.meta.url));
export const distCompatEsm = fileURLToPath(new URL('../../dist/compat.js', import.meta.url));
export const distCompatCjs = fileURLToPath(new URL('../../dist/compat.cjs', import.meta.url));

/** Throws a clear error when the package has not been built. */
export function requireBuild(): void {
  for (const file of [distEsm, distCjs, distTestingEsm, distTestingCjs]) {
    if (!existsSync(file)) throw new Error(`${file} is missing: run \`npm run build\` (npm test does it first)`);
  }
}

/** {@link requireBuild}, and the `durable-write/compat` entry point too. */
export function requireCompatBuild(): void {
  requireBuild();
  for (const file of [distCompatEsm, distCompatCjs]) {
    if (!existsSync(file)) throw new Error(`${file} is missing: run \`npm run build\` (npm test does it first)`);
  }
}
