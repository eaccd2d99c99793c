/**
 * syncAll (syncAll scenario): await syncAll(), COUNT times one after another.
 * usage: node sync-all.mjs COUNT
 */
import { countArg, loadLibrary, measure } from './common.mjs';

const { syncAll } = await loadLibrary();

const count = countArg(0);

await measure(async () => {
  for (let i = 0; i < count; i += 1) await syncAll();
});
