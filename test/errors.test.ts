import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { AbortError, DurableWriteError, FlushError, isAbortError, isDurableWriteError, isFlushError } from '../src/core/errors.js';
import { distCjs, distEsm, requireBuild } from './support/built-package.js';

type ErrorsModule = {
  DurableWriteError: typeof DurableWriteError;
  FlushError: typeof FlushError;
  AbortError: typeof AbortError;
  isDurableWriteError: typeof isDurableWriteError;
  isFlushError: typeof isFlushError;
  isAbortError: typeof isAbortError;
};

describe('error classes', () => {
  it('carry code, stage, path, tmpPath and cause', () => {
    const cause = Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' });
    const error = new FlushError('lost', { stage: 'flush', path: '/a', tmpPath: '/.a.tmp', cause });
    expect(error).toMatchObject({ name: 'FlushError', code: 'EIO', stage: 'flush', path: '/a', tmpPath: '/.a.tmp', cause });
    expect(error).toBeInstanceOf(DurableWriteError);
    expect(isFlushError(error) && isDurableWriteError(error) && !isAbortError(error)).toBe(true);
    const abort = new AbortError({ stage: 'write', path: '/a', cause: 'why' });
    expect(abort).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR', stage: 'write', cause: 'why' });
    expect(isAbortError(abort) && !isFlushError(abort)).toBe(true);
  });

  it('guards reject what is not ours', () => {
    for (const value of [new Error('x'), Object.assign(new Error('x'), { code: 'EIO', stage: 'flush' }), null, undefined, 'EIO', 42, {}]) {
      expect(isDurableWriteError(value) || isFlushError(value) || isAbortError(value)).toBe(false);
    }
  });

  it('guards recognise errors from the other copy of the package (ESM and CJS)', async () => {
    requireBuild();
    const esm = (await import(distEsm)) as ErrorsModule;
    const cjs = createRequire(import.meta.url)(distCjs) as ErrorsModule;
    expect(esm.DurableWriteError).not.toBe(cjs.DurableWriteError);
    for (const [from, to] of [[esm, cjs], [cjs, esm]] as const) {
      const flush = new from.FlushError('x', { stage: 'flush', code: 'EIO' });
      const abort = new from.AbortError({ stage: 'open' });
      expect(flush instanceof to.DurableWriteError).toBe(false);
      expect(to.isDurableWriteError(flush) && to.isFlushError(flush) && !to.isAbortError(flush)).toBe(true);
      expect(to.isAbortError(abort) && to.isDurableWriteError(abort)).toBe(true);
    }
  });
});
