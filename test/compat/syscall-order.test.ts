/**
 * Under strace, the built durable-write/compat makes exactly writeDurable's durable sequence for
 * each of its forms (traced alongside, and pinned by test/write-durable/syscall-order.test.ts);
 * and, as a twin, write-file-atomic itself makes none of the directory part: no directory is
 * opened or fsynced, so its rename may not survive a crash.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { distCjs, distCompatCjs, requireCompatBuild } from '../support/built-package.js';
import { missing } from '../support/prerequisites.js';
import { fdArg, traceNode, type Syscall } from '../support/strace.js';
import { tempDir } from '../support/temp-dir.js';

const lacking = missing({ tools: ['strace'] });

/** The calls made on `dir`, on `target` and on the other files opened in `dir` (temp files), as steps in order. */
function stepsIn(trace: readonly Syscall[], dir: string, target: string): string[] {
  const opened = new Map<string, string>();
  const steps: string[] = [];
  const add = (step: string): void => {
    if (step !== 'write' || steps.at(-1) !== 'write') steps.push(step);
  };
  for (const call of trace) {
    const path = /"([^"]*)"/.exec(call.args)?.[1] ?? '';
    const inDir = path === dir || path.startsWith(`${dir}/`);
    if (call.name === 'openat' || call.name === 'open') {
      if (!inDir) continue;
      const kind = path === dir ? 'dir' : path === target ? 'target' : 'tmp';
      const flags = ['O_CREAT', 'O_EXCL', 'O_TRUNC', 'O_DIRECTORY', 'O_RDONLY', 'O_WRONLY'].filter((flag) => call.args.includes(flag));
      opened.set(call.result.split(' ')[0] ?? '', kind);
      add(`open(${kind}, ${flags.join('|')})`);
    } else if (call.name.startsWith('rename')) {
      if (inDir) add('rename(tmp, target)');
    } else if (opened.has(fdArg(call))) {
      add(/^(p?writev?|pwrite64|pwritev)$/.test(call.name) ? 'write' : call.name);
      if (call.name === 'close') opened.delete(fdArg(call));
    }
  }
  return steps;
}

/** A child script: `require(argv[1])`, call `expression` on it with the target `argv[2]`, exit 1 on failure. */
function script(expression: string): string {
  return `const m = require(process.argv[1]); Promise.resolve().then(() => ${expression}).catch((e) => { console.error(e); process.exit(1); });`;
}

describe.skipIf(lacking !== undefined)(`durable-write/compat under strace${lacking === undefined ? '' : ` (skipped: ${lacking})`}`, () => {
  /** The steps of `code` on a fresh target, `argv[1]` being `module`. */
  const stepsOf = (module: string, code: string): string[] => {
    const dir = tempDir();
    const target = join(dir, 'target');
    return stepsIn(traceNode(code, [module, target]), dir, target);
  };

  /**
   * writeDurable's own steps, which test/write-durable/syscall-order.test.ts pins to its
   * DURABLE_ORDER: open(dir) → open(tmp, O_CREAT|O_EXCL) → write → fchmod → fsync → close →
   * rename → fsync(dir) → close(dir).
   */
  const durableSteps = (): string[] => stepsOf(distCjs, script(`m.writeDurable(process.argv[2], 'payload')`));

  it.each([
    ['writeFile', script(`m.writeFile(process.argv[2], 'payload')`)],
    ['writeFileSync', script(`m.writeFileSync(process.argv[2], 'payload')`)],
    ['outputFile', script(`m.outputFile(process.argv[2], 'payload')`)],
    ['outputJson', script(`m.outputJson(process.argv[2], { payload: true })`)],
    ['writeFileAtomic', script(`m.writeFileAtomic(process.argv[2], 'payload')`)],
    ['writeFileAtomic.sync', script(`m.writeFileAtomic.sync(process.argv[2], 'payload')`)],
  ])('%s makes writeDurable\'s steps: open(dir) → open(tmp, O_CREAT|O_EXCL) → write → fchmod → fsync → close → rename → fsync(dir)', (_name, code) => {
    requireCompatBuild();
    const steps = stepsOf(distCompatCjs, code);
    expect(steps).toEqual(durableSteps());
    expect(steps.slice(0, 2)).toEqual(['open(dir, O_DIRECTORY|O_RDONLY)', 'open(tmp, O_CREAT|O_EXCL|O_WRONLY)']);
    expect(steps.slice(steps.indexOf('rename(tmp, target)'))).toEqual(['rename(tmp, target)', 'fsync', 'close']);
  });

  it('twin: write-file-atomic itself opens no directory and fsyncs none; nothing follows its rename', () => {
    requireCompatBuild();
    const original = createRequire(import.meta.url).resolve('write-file-atomic');
    const steps = stepsOf(original, script(`m(process.argv[2], 'payload')`));
    expect(steps).toEqual(['open(tmp, O_CREAT|O_TRUNC|O_WRONLY)', 'write', 'fsync', 'close', 'rename(tmp, target)']);
    expect(steps).not.toEqual(durableSteps());
  });
});
