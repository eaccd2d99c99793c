/**
 * The replayer: from the base image (the disk before the boot) and the write log, the disk at
 * every crash point.
 *
 * Crash states (k = number of log entries completed when the power went):
 * - prefix: entries [0, k) all applied, for every k from 0 to the `end` marker's count: the disk of
 *   a drive with no volatile cache (or one that lost nothing);
 * - dropped: a drive with a volatile write cache loses, at the crash, any subset of the writes it
 *   completed since the last FLUSH (a FLUSH makes every write completed before it durable; a FUA
 *   write is durable at once). For each flush interval and each phase window (before / during /
 *   after, see `phaseOf`) the crash point is the last k of the window inside the interval (an
 *   earlier crash point in the same window is the same disk with the later writes dropped too), and
 *   the subsets of that interval's volatile writes that are dropped are all of them when there are
 *   at most log2(cap + 1) writes, otherwise: each single write dropped, all dropped, and random
 *   subsets (each write dropped with probability 1/2, xorshift32 seeded per interval from `seed`)
 *   until `cap` distinct subsets.
 *
 * A write is applied whole (the log has it whole; torn sectors are not simulated). A discard is
 * applied as zeros. Writes are applied in log order, which is the order in which QEMU completed
 * them on the image file.
 */
import * as fs from 'node:fs';
import { createHash } from 'node:crypto';
import { FLAG_DISCARD, FLAG_FLUSH, FLAG_FUA, FLAG_MARK } from './log-format.mjs';

/**
 * @typedef {'before' | 'during' | 'after'} Phase
 * @typedef {{ k: number, phase: Phase, kind: 'prefix' | 'dropped', dropped: number[] }} CrashState
 */

/**
 * Phase of crash point k: k <= pre is reachable before the call started (the host read `pre`
 * while the guest was blocked before the call); k >= post is reachable after the call returned;
 * between is during the call. A disk reachable in two phases is held to the stricter rule.
 * @param {number} k @param {{ pre: number, post: number }} counts
 * @returns {Phase}
 */
export function phaseOf(k, { pre, post }) {
  if (k <= pre) return 'before';
  if (k >= post) return 'after';
  return 'during';
}

/** @param {import('./log-format.mjs').LogEntry} e */
const isWrite = (e) => !(e.flags & (FLAG_FLUSH | FLAG_MARK)) && e.length > 0;

/**
 * `start` is the first crash point of the scenario's window (the previous scenario's `end`, after
 * which it synced the disk; 0 for the first).
 * @param {{ entries: import('./log-format.mjs').LogEntry[], counts: { start: number, pre: number, post: number, end: number },
 *   cap: number, seed: number, stats?: { exhaustive: number, sampled: number } }} o
 *   `stats`, when given, counts the (interval, phase) windows whose subsets were all enumerated
 *   and those that were sampled.
 * @returns {CrashState[]}
 */
export function crashStates({ entries, counts, cap, seed, stats }) {
  const end = Math.min(counts.end, entries.length);
  /** @type {CrashState[]} */
  const states = [];
  for (let k = counts.start; k <= end; k += 1) states.push({ k, phase: phaseOf(k, counts), kind: 'prefix', dropped: [] });
  // Flush intervals: (a, b] where a is the index of a flush (or -1) and b the next flush (or end).
  const flushes = entries.slice(0, end).filter((e) => e.flags & FLAG_FLUSH).map((e) => e.index);
  const bounds = [-1, ...flushes, end];
  const windows = /** @type {[Phase, number, number][]} */ ([
    ['before', counts.start, counts.pre],
    ['during', counts.pre + 1, counts.post - 1],
    ['after', counts.post, end],
  ]);
  for (let i = 0; i + 1 < bounds.length; i += 1) {
    const a = /** @type {number} */ (bounds[i]);
    const b = /** @type {number} */ (bounds[i + 1]);
    for (const [phase, lo, hi] of windows) {
      const kmax = Math.min(b, hi);
      if (kmax < Math.max(a + 1, lo)) continue;
      const volatile = entries.slice(a + 1, kmax).filter((e) => isWrite(e) && !(e.flags & FLAG_FUA)).map((e) => e.index);
      if (stats !== undefined && volatile.length > 0) {
        if (volatile.length < 31 && 2 ** volatile.length - 1 <= cap) stats.exhaustive += 1;
        else stats.sampled += 1;
      }
      for (const dropped of dropSubsets(volatile, cap, (seed ^ Math.imul(a + 2, 0x9e3779b1) ^ Math.imul(kmax + 1, 0x85ebca6b)) >>> 0)) {
        states.push({ k: kmax, phase, kind: 'dropped', dropped });
      }
    }
  }
  return states;
}

/**
 * Non-empty subsets of `writes` to drop: all of them, or a sample of `cap` (see the module doc).
 * @param {number[]} writes @param {number} cap @param {number} seed
 * @returns {number[][]}
 */
export function dropSubsets(writes, cap, seed) {
  const n = writes.length;
  if (n === 0) return [];
  if (n < 31 && 2 ** n - 1 <= cap) {
    const all = [];
    for (let mask = 1; mask < 2 ** n; mask += 1) all.push(writes.filter((_, j) => (mask >>> j) & 1));
    return all;
  }
  /** @type {Map<string, number[]>} */
  const chosen = new Map();
  const add = (/** @type {number[]} */ subset) => {
    if (subset.length > 0 && chosen.size < cap) chosen.set(subset.join(','), subset);
  };
  add(writes);
  for (const w of writes) add([w]);
  let x = seed || 1;
  const next = () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
  for (let tries = 0; chosen.size < cap && tries < cap * 20; tries += 1) add(writes.filter(() => (next() & 1) === 1));
  return [...chosen.values()];
}

/**
 * The base image, kept as its non-zero 64 KiB chunks (the images are sparse and mostly empty).
 * @param {string} file
 * @returns {{ size: number, chunks: { offset: number, data: Buffer }[] }}
 */
export function loadBase(file) {
  const size = fs.statSync(file).size;
  const fd = fs.openSync(file, 'r');
  const chunks = [];
  try {
    const CHUNK = 64 * 1024;
    const buf = Buffer.alloc(CHUNK);
    for (let offset = 0; offset < size; offset += CHUNK) {
      const n = fs.readSync(fd, buf, 0, Math.min(CHUNK, size - offset), offset);
      const view = buf.subarray(0, n);
      if (view.some((byte) => byte !== 0)) chunks.push({ offset, data: Buffer.from(view) });
    }
  } finally {
    fs.closeSync(fd);
  }
  return { size, chunks };
}

/**
 * The entries a crash state applies, in log order.
 * @param {import('./log-format.mjs').LogEntry[]} entries @param {CrashState} state
 */
export function appliedWrites(entries, state) {
  const dropped = new Set(state.dropped);
  return entries.slice(0, state.k).filter((e) => isWrite(e) && !dropped.has(e.index));
}

/**
 * A digest of what the state changes on top of the base image (the final contents of every
 * 512-byte sector written), so that identical disks are checked once.
 * @param {import('./log-format.mjs').LogEntry[]} writes
 */
export function stateDigest(writes) {
  /** @type {Map<number, Buffer | null>} */
  const sectors = new Map();
  for (const e of writes) {
    for (let s = 0; s < e.length / 512; s += 1) {
      sectors.set(e.offset / 512 + s, e.flags & FLAG_DISCARD || e.data === null ? null : e.data.subarray(s * 512, (s + 1) * 512));
    }
  }
  const hash = createHash('sha256');
  const head = Buffer.alloc(8);
  for (const s of [...sectors.keys()].sort((x, y) => x - y)) {
    head.writeBigUInt64LE(BigInt(s));
    hash.update(head);
    hash.update(sectors.get(s) ?? Buffer.alloc(512));
  }
  return hash.digest('hex');
}

const ZEROES = Buffer.alloc(1 << 20);

/**
 * Writes the disk of a crash state to `file` (sparse): the base's chunks, then the writes.
 * @param {string} file @param {{ size: number, chunks: { offset: number, data: Buffer }[] }} base
 * @param {import('./log-format.mjs').LogEntry[]} writes
 */
export function buildImage(file, base, writes) {
  fs.rmSync(file, { force: true });
  const fd = fs.openSync(file, 'w');
  try {
    fs.ftruncateSync(fd, base.size);
    for (const c of base.chunks) fs.writeSync(fd, c.data, 0, c.data.length, c.offset);
    for (const e of writes) {
      if (e.flags & FLAG_DISCARD || e.data === null) {
        for (let done = 0; done < e.length; done += ZEROES.length) {
          fs.writeSync(fd, ZEROES, 0, Math.min(ZEROES.length, e.length - done), e.offset + done);
        }
      } else {
        fs.writeSync(fd, e.data, 0, e.data.length, e.offset);
      }
    }
  } finally {
    fs.closeSync(fd);
  }
}
