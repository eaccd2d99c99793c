/**
 * Holds a file open from another process, as an antivirus scanner or an indexer does, for the
 * sharing tests (`sharing.test.mjs`): `node hold-file.mjs FILE READY HOLD_MS` opens FILE with
 * libuv's UV_FS_O_EXLOCK (0x10000000: no sharing at all, so neither a rename over it nor a read
 * of it is allowed; `fs.constants.UV_FS_O_EXLOCK` is undefined in Node 20, the number is not),
 * creates READY once it holds it, and closes it after HOLD_MS milliseconds.
 */
import { closeSync, constants, openSync, writeFileSync } from 'node:fs';

const UV_FS_O_EXLOCK = 0x10000000;
const [file = '', ready = '', holdMs = '0'] = process.argv.slice(2);
const fd = openSync(file, constants.O_RDONLY | UV_FS_O_EXLOCK);
writeFileSync(ready, '');
setTimeout(() => closeSync(fd), Number(holdMs));
