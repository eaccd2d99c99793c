/**
 * writeDurable-sequential (concurrency scenario): the writes of writeDurable-concurrent, awaited
 * one at a time.
 * usage: node write-durable-sequential.mjs DIR FILES ROUNDS SIZE
 */
import { arg, countArg, createFiles, loadLibrary, measure, numberedFiles, payload } from './common.mjs';

const { writeDurable } = await loadLibrary();

const dir = arg(0);
const files = numberedFiles(dir, countArg(1));
const rounds = countArg(2);
const data = payload(countArg(3));

createFiles(dir, files, data);
await measure(async () => {
  for (let round = 0; round < rounds; round += 1) {
    for (const file of files) await writeDurable(file, data);
  }
});
