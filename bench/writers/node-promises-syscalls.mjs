/**
 * node-promises-syscalls (per-call scenario): c-durable's exact syscalls through node:fs/promises,
 * each awaited before the next.
 * usage: node node-promises-syscalls.mjs DIR COUNT SIZE
 */
import { constants } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { arg, countArg, createFiles, measure, payload } from './common.mjs';

const dir = arg(0);
const count = countArg(1);
const data = payload(countArg(2));
const target = join(dir, 'target');
const tmp = join(dir, '.target.tmp');
// libuv adds O_CLOEXEC to every open.
const tmpFlags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL;
const dirFlags = constants.O_RDONLY | constants.O_DIRECTORY;

createFiles(dir, [target], data);
await measure(async () => {
  for (let i = 0; i < count; i += 1) {
    const file = await open(tmp, tmpFlags, 0o600);
    const { bytesWritten } = await file.write(data);
    if (bytesWritten !== data.length) throw new Error('short write');
    await file.sync();
    await file.close();
    await rename(tmp, target);
    const directory = await open(dir, dirFlags);
    await directory.sync();
    await directory.close();
  }
});
