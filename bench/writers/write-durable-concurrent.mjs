/**
 * writeDurable-concurrent (concurrency scenario): FILES files in DIR, ROUNDS rounds; each round
 * replaces all of them at once, `await Promise.all(files.map((f) => writeDurable(f, buf)))`.
 * usage: node write-durable-concurrent.mjs DIR FILES ROUNDS SIZE
 */
import { arg, countArg, createFiles, loadLibrary, measure, numberedFiles, payload } from './common.mjs';

const { writeDurable } = await loadLibrary();

const dir = arg(0);
const files = numberedFiles(dir, countArg(1));
const rounds = countArg(2);
const data = payload(countArg(3));

createFiles(dir, files, data);
await measure(async () => {
  for (let round = 0; round < rounds; round += 1) await Promise.all(files.map((file) => writeDurable(file, data)));
});
