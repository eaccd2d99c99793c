/**
 * node-sync-syscalls (per-call scenario): c-durable's exact syscalls through node:fs sync calls.
 * usage: node node-sync-syscalls.mjs DIR COUNT SIZE
 */
import { closeSync, constants, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { arg, countArg, createFiles, fsyncDirectorySync, measure, payload } from './common.mjs';

const dir = arg(0);
const count = countArg(1);
const data = payload(countArg(2));
const target = join(dir, 'target');
const tmp = join(dir, '.target.tmp');
// libuv adds O_CLOEXEC to every open.
const tmpFlags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL;

createFiles(dir, [target], data);
await measure(() => {
  for (let i = 0; i < count; i += 1) {
    const fd = openSync(tmp, tmpFlags, 0o600);
    if (writeSync(fd, data) !== data.length) throw new Error('short write');
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, target);
    fsyncDirectorySync(dir);
  }
});
