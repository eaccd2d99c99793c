/**
 * write-file-atomic (per-call scenario): await writeFileAtomic(target, buf, { fsync: true }),
 * COUNT times one at a time. write-file-atomic fsyncs the file but not the directory.
 * usage: node write-file-atomic.mjs DIR COUNT SIZE
 */
import { join } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { arg, countArg, createFiles, measure, payload } from './common.mjs';

const dir = arg(0);
const count = countArg(1);
const data = payload(countArg(2));
const target = join(dir, 'target');

createFiles(dir, [target], data);
await measure(async () => {
  for (let i = 0; i < count; i += 1) await writeFileAtomic(target, data, { fsync: true });
});
