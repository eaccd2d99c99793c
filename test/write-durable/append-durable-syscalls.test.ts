/**
 * appendDurable's syscall order under strace, both modes, on the built package: a new file
 * (created exclusively, so that `created` is exact, then its directory fsynced) and an existing
 * one (opened without O_CREAT, its size read for the offset, no directory fsync). The twin:
 * `fs.appendFile` makes no flush at all.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { distCjs, requireBuild } from '../support/built-package.js';
import { missing } from '../support/prerequisites.js';
import { fdArg, traceNode, type Syscall } from '../support/strace.js';
import { tempDir } from '../support/temp-dir.js';

const lacking = missing({ tools: ['strace'] });

const CALLS = 'openat,open,write,pwrite64,writev,pwritev,fsync,fdatasync,close,fchmod,newfstatat,statx,stat,rename,renameat,renameat2,mkdir,mkdirat,unlink,unlinkat';

/** The calls on `dir`, on the target, and on the descriptors opened on them, in order. */
function callsIn(trace: readonly Syscall[], dir: string): string[] {
  const target = `"${dir}/log"`;
  const fds = new Set<string>();
  const steps: string[] = [];
  for (const call of trace) {
    if (call.name === 'openat' || call.name === 'open') {
      const kind = call.args.includes(target) ? 'target' : call.args.includes(`"${dir}"`) ? 'dir' : undefined;
      if (kind === undefined) continue;
      const flags = ['O_WRONLY', 'O_RDONLY', 'O_APPEND', 'O_CREAT', 'O_EXCL', 'O_TRUNC', 'O_DIRECTORY', 'O_CLOEXEC'].filter((f) => call.args.includes(f));
      steps.push(`open(${kind}, ${flags.join('|')})`);
      fds.add(call.result.split(' ')[0] ?? '');
    } else if (['newfstatat', 'statx', 'stat'].includes(call.name)) {
      if (call.args.includes(target)) steps.push('stat(target)');
    } else if (['write', 'pwrite64', 'writev', 'pwritev', 'fsync', 'fdatasync', 'fchmod', 'close'].includes(call.name)) {
      const fd = fdArg(call);
      if (!fds.has(fd)) continue;
      const step = call.name === 'pwrite64' || call.name === 'writev' || call.name === 'pwritev' ? 'write' : call.name;
      if (step !== 'write' || steps.at(-1) !== 'write') steps.push(step);
      if (call.name === 'close') fds.delete(fd);
    } else if (call.args.includes(`"${dir}`)) {
      steps.push(call.name);
    }
  }
  return steps;
}

const NEW_FILE = [
  'open(target, O_WRONLY|O_APPEND|O_CREAT|O_EXCL|O_CLOEXEC)',
  'write',
  'fdatasync',
  'close',
  // The new name is made durable: the directory is fsynced once the data is.
  'open(dir, O_RDONLY|O_DIRECTORY|O_CLOEXEC)',
  'fsync',
  'close',
];

const EXISTING_FILE = [
  'open(target, O_WRONLY|O_APPEND|O_CLOEXEC)',
  // The offset: the size just before this call's bytes.
  'stat(target)',
  'write',
  'fdatasync',
  'close',
];

const SCRIPTS = [
  ['appendDurable', `require(process.argv[1]).appendDurable(process.argv[2], 'line\\n').catch(e => { console.error(e); process.exit(1); })`],
  ['appendDurableSync', `require(process.argv[1]).appendDurableSync(process.argv[2], 'line\\n')`],
] as const;

describe.skipIf(lacking !== undefined)(`appendDurable syscall order under strace${lacking === undefined ? '' : ` (skipped: ${lacking})`}`, () => {
  it.each(SCRIPTS)('%s, new file: open(O_APPEND|O_CREAT|O_EXCL) → write → fdatasync → close → fsync(dir)', (_name, script) => {
    requireBuild();
    const dir = tempDir();
    const trace = traceNode(script, [distCjs, join(dir, 'log')], CALLS);
    // The resolution's lstat comes first; what follows is the documented order.
    const steps = callsIn(trace, dir);
    expect(steps.slice(steps.indexOf(NEW_FILE[0] as string))).toEqual(NEW_FILE);
  });

  it.each(SCRIPTS)('%s, existing file: open(O_APPEND) → stat → write → fdatasync → close, no directory fsync', (_name, script) => {
    requireBuild();
    const dir = tempDir();
    const setup = `require('node:fs').writeFileSync(process.argv[2], 'first\\n');`;
    const trace = traceNode(setup + script, [distCjs, join(dir, 'log')], CALLS);
    const steps = callsIn(trace, dir);
    expect(steps.slice(steps.indexOf(EXISTING_FILE[0] as string))).toEqual(EXISTING_FILE);
  });

  it('twin: fs.appendFile makes no flush (open with O_APPEND|O_CREAT, write, close)', () => {
    const dir = tempDir();
    const script = `require('node:fs').appendFile(process.argv[1], 'line\\n', (e) => { if (e) process.exit(1); })`;
    const steps = callsIn(traceNode(script, [join(dir, 'log')], CALLS), dir);
    expect(steps).toEqual(['open(target, O_WRONLY|O_APPEND|O_CREAT|O_CLOEXEC)', 'write', 'close']);
    expect(steps).not.toContain('fdatasync');
  });
});
