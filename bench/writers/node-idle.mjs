/**
 * node-idle (streaming scenario): the peak-RSS baseline. Loads the modules writeDurable-stream
 * loads (node:fs and the library) and writes nothing; its "loop" is one event-loop turn.
 * usage: node node-idle.mjs
 */
import 'node:fs';
import { loadLibrary, measure } from './common.mjs';

await loadLibrary();

await measure(() => new Promise((resolve) => setImmediate(resolve)));
