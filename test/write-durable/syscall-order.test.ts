import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { distCjs, requireBuild } from '../support/built-package.js';
import { missing } from '../support/prerequisites.js';
import { fdArg, traceNode, type Syscall } from '../support/strace.js';
import { tempDir } from '../support/temp-dir.js';

const lacking = missing({ tools: ['strace'] });

/** The calls that touch `dir` or the descriptors opened in it, in order. */
function callsIn(trace: readonly Syscall[], dir: string): string[] {
  const fds = new Set<string>();
  const steps: string[] = [];
  for (const call of trace) {
    const touchesDir = call.args.includes(`"${dir}`);
    if (call.name === 'openat' || call.name === 'open') {
      if (!touchesDir) continue;
      const isDir = call.args.includes(`"${dir}"`);
      const kind = isDir ? 'open(dir' : call.args.includes('.dwtmp"') ? 'open(tmp' : 'open(target';
      const flags = ['O_CREAT', 'O_EXCL', 'O_TRUNC', 'O_DIRECTORY', 'O_RDONLY', 'O_WRONLY'].filter((f) => call.args.includes(f));
      steps.push(`${kind}, ${flags.join('|')})`);
      fds.add(call.result.split(' ')[0] ?? '');
    } else if (['write', 'pwrite64', 'writev', 'pwritev', 'fsync', 'fdatasync', 'fchmod', 'fchown', 'close'].includes(call.name)) {
      const fd = fdArg(call);
      if (!fds.has(fd)) continue;
      const step = call.name === 'pwrite64' || call.name === 'writev' || call.name === 'pwritev' ? 'write' : call.name;
      if (step !== 'write' || steps.at(-1) !== 'write') steps.push(step);
      if (call.name === 'close') fds.delete(fd);
    } else if (call.name.startsWith('rename') && touchesDir) {
      steps.push(call.args.includes('.dwtmp"') ? 'rename(tmp, target)' : call.name);
    }
  }
  return steps;
}

const DURABLE_ORDER = [
  // The directory is opened first and held, so that running out of descriptors fails before anything changes.
  'open(dir, O_DIRECTORY|O_RDONLY)',
  'open(tmp, O_CREAT|O_EXCL|O_WRONLY)',
  'write',
  'fchmod',
  'fsync',
  'close',
  'rename(tmp, target)',
  'fsync',
  'close',
];

describe.skipIf(lacking !== undefined)(`syscall order under strace${lacking === undefined ? '' : ` (skipped: ${lacking})`}`, () => {
  it.each([
    ['writeDurable', `require(process.argv[1]).writeDurable(process.argv[2], 'payload').catch(e => { console.error(e); process.exit(1); })`],
    ['writeDurableSync', `require(process.argv[1]).writeDurableSync(process.argv[2], 'payload')`],
    [
      'openDurable + commit()',
      `const { openDurable } = require(process.argv[1]);
       openDurable(process.argv[2]).then(async (p) => { await p.write('payload'); await p.commit(); }).catch(e => { console.error(e); process.exit(1); })`,
    ],
    [
      'createDurableWriteStream in a pipeline',
      `const { createDurableWriteStream } = require(process.argv[1]);
       const { pipeline } = require('node:stream/promises'); const { Readable } = require('node:stream');
       pipeline(Readable.from(['pay', 'load']), createDurableWriteStream(process.argv[2])).catch(e => { console.error(e); process.exit(1); })`,
    ],
  ])('%s: open(dir) → open(tmp, O_CREAT|O_EXCL) → write → fsync(tmp) → close → rename → fsync(dir)', (_name, script) => {
    requireBuild();
    const dir = tempDir();
    const steps = callsIn(traceNode(script, [distCjs, join(dir, 'target')]), dir);
    expect(steps).toEqual(DURABLE_ORDER);
  });

  it('writeDurable on the write worker (a small write once the worker is up): the same order, every step from one thread, not the main one', () => {
    requireBuild();
    const dir = tempDir();
    // A process's second eligible call starts the worker (both take the general path); the wait lets it load.
    const script = `
      const { writeDurable } = require(process.argv[1]);
      const warm = require('node:path').join(require('node:os').tmpdir(), 'durable-write-warm-' + process.pid);
      (async () => {
        await writeDurable(warm, 'x');
        await writeDurable(warm, 'y');
        require('node:fs').unlinkSync(warm);
        await new Promise((resolve) => setTimeout(resolve, 500));
        await writeDurable(process.argv[2], 'payload');
      })().catch(e => { console.error(e); process.exit(1); });`;
    const trace = traceNode(script, [distCjs, join(dir, 'target')]);
    expect(callsIn(trace, dir)).toEqual(DURABLE_ORDER);
    const main = trace[0]?.thread;
    const exclusive = trace.find((c) => c.name === 'openat' && c.args.includes(`"${dir}/.target.`) && c.args.includes('O_EXCL'));
    const threads = new Set(trace.filter((c) => c.args.includes(`"${dir}`)).map((c) => c.thread));
    expect(exclusive?.thread).not.toBe(main);
    expect([...threads]).toEqual([exclusive?.thread]);
  });

  it('renameDurable: fsync(source) → open both directories → rename → fsync(target dir) → fsync(source dir)', () => {
    requireBuild();
    const dir = tempDir();
    const script = `
      const fs = require('node:fs');
      fs.mkdirSync(process.argv[2] + '/in'); fs.mkdirSync(process.argv[2] + '/out');
      fs.writeFileSync(process.argv[2] + '/in/file', 'data');
      require(process.argv[1]).renameDurable(process.argv[2] + '/in/file', process.argv[2] + '/out/file')
        .catch(e => { console.error(e); process.exit(1); });`;
    const trace = traceNode(script, [distCjs, dir]).filter((c) => c.name !== 'write');
    const names = trace
      .filter((c) => /^(openat|fsync|rename\w*)$/.test(c.name) && (c.name === 'fsync' || c.args.includes(`"${dir}/`)))
      .map((c) => (c.name === 'fsync' ? 'fsync' : `${c.name.replace(/at2?$/, '')}(${/"([^"]+)"/.exec(c.args)?.[1]?.slice(dir.length + 1)})`));
    expect(names.slice(-7)).toEqual(['open(in/file)', 'fsync', 'open(out)', 'open(in)', 'rename(in/file)', 'fsync', 'fsync']);
  });

  it('twin: fs.writeFile makes none of it (open with O_TRUNC on the target, write, close: no fsync, no rename)', () => {
    const dir = tempDir();
    const script = `require('node:fs').writeFile(process.argv[1], 'payload', (e) => { if (e) process.exit(1); })`;
    const steps = callsIn(traceNode(script, [join(dir, 'target')]), dir);
    expect(steps).toEqual(['open(target, O_CREAT|O_TRUNC|O_WRONLY)', 'write', 'close']);
    expect(steps).not.toEqual(DURABLE_ORDER);
  });
});
