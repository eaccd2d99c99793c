/**
 * writeDurable (per-call scenario): await writeDurable(target, buf), COUNT times one at a time.
 * usage: node write-durable.mjs DIR COUNT SIZE
 */
import { join } from 'node:path';
import { arg, countArg, createFiles, loadLibrary, measure, payload } from './common.mjs';

const { writeDurable } = await loadLibrary();

const dir = arg(0);
const count = countArg(1);
const data = payload(countArg(2));
const target = join(dir, 'target');

createFiles(dir, [target], data);
await measure(async () => {
  for (let i = 0; i < count; i += 1) await writeDurable(target, data);
});
