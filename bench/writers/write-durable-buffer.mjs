/**
 * writeDurable-buffer (streaming scenario): SRC read into one Buffer before timing, then
 * await writeDurable(DIR/dst, buffer) timed.
 * usage: node write-durable-buffer.mjs SRC DIR
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { arg, loadLibrary, measure } from './common.mjs';

const { writeDurable } = await loadLibrary();

const data = readFileSync(arg(0));
const dst = join(arg(1), 'dst');

await measure(() => writeDurable(dst, data));
