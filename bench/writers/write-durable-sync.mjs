/**
 * writeDurableSync (per-call scenario): writeDurableSync(target, buf), COUNT times.
 * usage: node write-durable-sync.mjs DIR COUNT SIZE
 */
import { join } from 'node:path';
import { arg, countArg, createFiles, loadLibrary, measure, payload } from './common.mjs';

const { writeDurableSync } = await loadLibrary();

const dir = arg(0);
const count = countArg(1);
const data = payload(countArg(2));
const target = join(dir, 'target');

createFiles(dir, [target], data);
await measure(() => {
  for (let i = 0; i < count; i += 1) writeDurableSync(target, data);
});
