/**
 * In the built package, durable-write/compat and durable-write share one copy of the write
 * path's module state (tsup's shared chunks): the per-file queue that orders calls, and the
 * registry of temp files in use. Errors thrown by compat are then the main entry's classes too.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type * as CompatModule from '../../src/compat.js';
import type * as MainModule from '../../src/index.js';
import { distCompatCjs, distCompatEsm, distCjs, distEsm, requireCompatBuild } from '../support/built-package.js';
import { tempDir } from '../support/temp-dir.js';

type Compat = typeof CompatModule;
type Main = typeof MainModule;

/** An async compat write, then a sync main-entry write to the same file made while the first is still resolving: what each did. */
async function asyncThenSync(compat: Compat, main: Main): Promise<{ asyncError: unknown; content: string }> {
  const target = join(tempDir(), 'target');
  const older = compat.writeFile(target, 'older, async');
  main.writeDurableSync(target, 'newer, sync');
  const asyncError = await older.then(
    () => undefined,
    (error: unknown) => error,
  );
  return { asyncError, content: readFileSync(target, 'utf8') };
}

describe('the built compat entry shares the write path with the main entry', () => {
  const load = async (): Promise<{ cjs: [Compat, Main]; esm: [Compat, Main] }> => {
    requireCompatBuild();
    const require = createRequire(import.meta.url);
    return {
      cjs: [require(distCompatCjs) as Compat, require(distCjs) as Main],
      esm: [(await import(distCompatEsm)) as Compat, (await import(distEsm)) as Main],
    };
  };

  it.each(['cjs', 'esm'] as const)('%s: the last call wins across entries: an older async compat write gives way (EBUSY) to a newer writeDurableSync', async (format) => {
    const [compat, main] = (await load())[format];
    const { asyncError, content } = await asyncThenSync(compat, main);
    expect(content).toBe('newer, sync');
    expect(asyncError).toBeInstanceOf(main.DurableWriteError);
    expect(asyncError).toMatchObject({ code: 'EBUSY', stage: 'validate' });
  });

  it('twin: two copies that share no state (CJS compat, ESM main) let the older write win', async () => {
    const { cjs, esm } = await load();
    const { asyncError, content } = await asyncThenSync(cjs[0], esm[1]);
    expect(asyncError).toBeUndefined();
    expect(content).toBe('older, async');
  });
});
