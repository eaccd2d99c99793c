/**
 * Runs INSIDE the guest, under strace (started by guest/cases.mjs): the fsyncgate twin, with no
 * library. Overwrites an existing, already-durable file in place (same length, so no block is
 * allocated and no metadata but the times changes), makes the device fail writes to exactly that
 * file's blocks (bad sectors; the journal stays healthy), then calls fsync twice on the same
 * descriptor, as a naive retry loop would.
 *
 *   node twin.mjs <json>   { target, disk, sectors, start, length, label, seed, size }
 *
 * Prints one JSON object on stdout.
 */
import * as fs from 'node:fs';
import { swapTable, tables } from './dm.mjs';
import { payload, classify } from '../lib/payload.mjs';

const spec = JSON.parse(process.argv[2] ?? '{}');
const old = payload(`old:${spec.label}`, spec.seed, spec.size);
const fresh = payload(`new:${spec.label}`, spec.seed, spec.size);

/** @param {() => void} call */
function attempt(call) {
  try {
    call();
    return { ok: true, code: null };
  } catch (error) {
    return { ok: false, code: /** @type {any} */ (error).code ?? String(error) };
  }
}

const fd = fs.openSync(spec.target, 'r+');
let written = 0;
while (written < fresh.length) written += fs.writeSync(fd, fresh, written, fresh.length - written, written);
const swapMs = swapTable(tables.badRange(spec.disk, spec.sectors, spec.start, spec.length));
const first = attempt(() => fs.fsyncSync(fd));
const second = attempt(() => fs.fsyncSync(fd));
const back = Buffer.alloc(fresh.length);
fs.readSync(fd, back, 0, back.length, 0);
const closed = attempt(() => fs.closeSync(fd));
process.stdout.write(
  JSON.stringify({
    bytesWritten: written,
    swapMs,
    firstFsync: first,
    secondFsync: second,
    close: closed,
    cacheView: classify(back, old, fresh),
  }) + '\n',
);
