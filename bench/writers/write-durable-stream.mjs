/**
 * writeDurable-stream (streaming scenario): await writeDurable(DIR/dst, fs.createReadStream(SRC)),
 * the stream at its default highWaterMark. Its peak RSS, less node-idle's, is what streaming costs.
 * usage: node write-durable-stream.mjs SRC DIR
 */
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { arg, loadLibrary, measure } from './common.mjs';

const { writeDurable } = await loadLibrary();

const src = arg(0);
const dst = join(arg(1), 'dst');

await measure(() => writeDurable(dst, createReadStream(src)));
