/**
 * A self-test of the log reader and the replayer on a synthetic log, run by run.mjs before any
 * guest boots (and runnable alone: node test/blocklevel/lib/selftest.mjs). Throws on a mismatch.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseLog, LOG_MAGIC, FLAG_FLUSH, FLAG_FUA } from './log-format.mjs';
import { crashStates, dropSubsets, appliedWrites, stateDigest, buildImage, loadBase } from './replay.mjs';

/** @param {boolean} ok @param {string} what */
function expect(ok, what) {
  if (!ok) throw new Error(`replayer self-test: ${what}`);
}

/**
 * A log in dm-log-writes' format with 512-byte sectors.
 * @param {{ sector: number, flags: number, data?: Buffer }[]} items
 */
function makeLog(items) {
  const parts = [];
  const superBlock = Buffer.alloc(512);
  superBlock.writeBigUInt64LE(LOG_MAGIC, 0);
  superBlock.writeBigUInt64LE(1n, 8);
  superBlock.writeBigUInt64LE(BigInt(items.length), 16);
  superBlock.writeUInt32LE(512, 24);
  parts.push(superBlock);
  for (const item of items) {
    const head = Buffer.alloc(512);
    head.writeBigUInt64LE(BigInt(item.sector), 0);
    head.writeBigUInt64LE(BigInt((item.data?.length ?? 0) / 512), 8);
    head.writeBigUInt64LE(BigInt(item.flags), 16);
    parts.push(head);
    if (item.data) parts.push(item.data);
  }
  return Buffer.concat(parts);
}

/** @param {number} byte @param {number} sectors */
const fill = (byte, sectors = 1) => Buffer.alloc(512 * sectors, byte);

export function selfTest() {
  // 0 A@0, 1 FLUSH, 2 B@8, 3 C@16 (FUA), 4 D@8 (overwrites B), 5 FLUSH, 6 E@24
  const log = makeLog([
    { sector: 0, flags: 0, data: fill(0xa1, 2) },
    { sector: 0, flags: FLAG_FLUSH },
    { sector: 8, flags: 0, data: fill(0xb2) },
    { sector: 16, flags: FLAG_FUA, data: fill(0xc3) },
    { sector: 8, flags: 0, data: fill(0xd4) },
    { sector: 0, flags: FLAG_FLUSH },
    { sector: 24, flags: 0, data: fill(0xe5) },
  ]);
  const { sectorSize, entries } = parseLog(log);
  expect(sectorSize === 512 && entries.length === 7, 'parse: 7 entries of 512-byte sectors');
  expect(entries[0]?.length === 1024 && entries[0]?.data?.[1023] === 0xa1, 'parse: a two-sector write');
  expect(entries[4]?.offset === 8 * 512 && entries[4]?.data?.[0] === 0xd4, 'parse: offsets in bytes');

  const counts = { start: 0, pre: 2, post: 5, end: 7 };
  const stats = { exhaustive: 0, sampled: 0 };
  const states = crashStates({ entries, counts, cap: 64, seed: 1, stats });
  const prefixes = states.filter((s) => s.kind === 'prefix');
  expect(prefixes.length === 8, 'one prefix state per k from 0 to 7');
  const dropped = states.filter((s) => s.kind === 'dropped').map((s) => `${s.phase}@${s.k}:${s.dropped.join('+')}`);
  // before: k <= 2: interval (-1, 1] has A volatile at k=1 -> drop A; interval (1, 5] at k=2 has nothing.
  // during: k in [3, 4], interval (1, 5], kmax 4: volatile B (C is FUA) -> drop B.
  // after: k in [5, 7]: interval (1, 5] kmax 5: volatile B, D -> 3 subsets; interval (5, 7] kmax 7: E.
  const want = ['before@1:0', 'during@4:2', 'after@5:2', 'after@5:4', 'after@5:2+4', 'after@7:6'];
  expect(JSON.stringify(dropped.sort()) === JSON.stringify(want.sort()), `dropped states ${JSON.stringify(dropped)}`);
  expect(stats.exhaustive === 4 && stats.sampled === 0, 'every window enumerated exhaustively');
  expect(dropSubsets([1, 2, 3, 4, 5, 6, 7, 8], 10, 7).length === 10, 'sampling stops at the cap');
  expect(dropSubsets([1, 2, 3], 7, 7).length === 7, 'all 7 non-empty subsets of 3 writes');

  // Images: base + writes, in log order, whole.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'blocklevel-selftest-'));
  try {
    const baseFile = path.join(dir, 'base.img');
    fs.writeFileSync(baseFile, Buffer.concat([fill(0x11), Buffer.alloc(512 * 31)]));
    const base = loadBase(baseFile);
    const state = /** @type {import('./replay.mjs').CrashState} */ (states.find((s) => s.kind === 'dropped' && s.k === 5 && s.dropped.join() === '4'));
    const writes = appliedWrites(entries, state);
    expect(writes.map((e) => e.index).join() === '0,2,3', 'applied writes of "after@5 without D"');
    const image = path.join(dir, 'state.img');
    buildImage(image, base, writes);
    const disk = fs.readFileSync(image);
    expect(disk.length === 512 * 32, 'image size is the base size');
    expect(disk[0] === 0xa1 && disk[8 * 512] === 0xb2 && disk[16 * 512] === 0xc3 && disk[24 * 512] === 0, 'image contents');
    const d1 = stateDigest(appliedWrites(entries, { k: 5, phase: 'after', kind: 'prefix', dropped: [] }));
    const d2 = stateDigest(appliedWrites(entries, { k: 5, phase: 'after', kind: 'dropped', dropped: [2] }));
    expect(d1 === d2, 'a write overwritten by a later one in full makes no different disk');
    const d3 = stateDigest(appliedWrites(entries, { k: 5, phase: 'after', kind: 'dropped', dropped: [4] }));
    expect(d1 !== d3, 'different contents make a different digest');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  selfTest();
  console.log('blocklevel: replayer self-test passed');
}
