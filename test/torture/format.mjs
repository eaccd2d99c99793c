/**
 * The self-checking file versions of the kill -9 torture test, and the seeded PRNG.
 *
 * A version is a fixed 128-byte ASCII header, then the body:
 *
 *   DWT1 <body length> <sha256 of the body, hex> w<writer> i<incarnation> s<sequence> f<file>
 *
 * padded with spaces to 127 bytes and ended by '\n'. The body is pseudo-random bytes from a PRNG
 * seeded per writer incarnation, so every version is distinct, and a read that is short, long,
 * empty, a mix of two versions or of another file fails one of the checks of `checkVersion`.
 */
import { createHash } from 'node:crypto';

export const HEADER_BYTES = 128;
const MAGIC = 'DWT1';

/** The target file names: `file-0.dat` ... */
export function targetName(index) {
  return `file-${index}.dat`;
}

/** mulberry32: a small, fast, seedable 32-bit PRNG; returns floats in [0, 1). */
export function prng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return next;
}

/** A 32-bit seed derived from a seed and some integers (splitmix-style mixing). */
export function deriveSeed(seed, ...parts) {
  let h = seed >>> 0;
  for (const part of parts) {
    h = (h ^ (part >>> 0)) >>> 0;
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
    h = (h ^ (h >>> 16)) >>> 0;
  }
  return h;
}

/** An integer in [min, max], log-uniformly distributed (as many small sizes as large ones). */
export function logUniformInt(rng, min, max) {
  if (max <= min) return min;
  return Math.min(max, Math.round(min * Math.pow(max / min, rng())));
}

/** Exponentially distributed delay with mean `mean` (a Poisson process of kills), capped at 5 means. */
export function exponential(rng, mean) {
  return Math.min(5 * mean, -Math.log(1 - rng()) * mean);
}

/** One version: header plus `bodyBytes` pseudo-random bytes. */
export function makeVersion({ file, writer, incarnation, seq, bodyBytes, rng }) {
  const buffer = Buffer.allocUnsafe(HEADER_BYTES + bodyBytes);
  const body = buffer.subarray(HEADER_BYTES);
  let state = Math.floor(rng() * 4294967296) >>> 0 || 1;
  const words = Math.floor(bodyBytes / 4);
  // A word view when aligned (always, for allocUnsafe's pool and for fresh buffers); bytes otherwise.
  const view = body.byteOffset % 4 === 0 ? new Uint32Array(body.buffer, body.byteOffset, words) : undefined;
  for (let w = 0; w < words; w++) {
    // xorshift32
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    if (view !== undefined) view[w] = state >>> 0;
    else body.writeUInt32LE(state >>> 0, w * 4);
  }
  for (let i = words * 4; i < bodyBytes; i++) body[i] = (state >>> ((i & 3) * 8)) & 0xff;
  const sha = createHash('sha256').update(body).digest('hex');
  const header = `${MAGIC} ${bodyBytes} ${sha} w${writer} i${incarnation} s${seq} f${file}`;
  if (header.length > HEADER_BYTES - 1) throw new Error(`torture: header too long: ${header}`);
  buffer.write(header.padEnd(HEADER_BYTES - 1, ' ') + '\n', 0, 'latin1');
  return buffer;
}

const HEADER_FORM = /^DWT1 (\d+) ([0-9a-f]{64}) w(\d+) i(\d+) s(\d+) f(\d+) *\n$/;

/**
 * Checks one read of file `file`. Returns `{ ok: true, version }` for one whole version, else
 * `{ ok: false, kind, detail }` with kind
 * `empty` (0 bytes), `short` (fewer bytes than its header says, or a partial header),
 * `long` (more bytes than its header says: a new version over a longer old one),
 * `header` (no valid header at the start), `checksum` (right length, wrong bytes: a mix),
 * `wrong-file` (a whole version written for another file).
 */
export function checkVersion(buffer, file) {
  if (buffer.length === 0) return { ok: false, kind: 'empty', detail: '0 bytes' };
  const head = buffer.subarray(0, HEADER_BYTES).toString('latin1');
  const match = HEADER_FORM.exec(head);
  if (match === null || head.length < HEADER_BYTES) {
    if (buffer.length < HEADER_BYTES && head.startsWith(MAGIC)) return { ok: false, kind: 'short', detail: `${buffer.length} bytes, a partial header` };
    return { ok: false, kind: 'header', detail: `${buffer.length} bytes, no valid header: ${JSON.stringify(head.slice(0, 40))}` };
  }
  const bodyBytes = Number(match[1]);
  const version = `w${match[3]} i${match[4]} s${match[5]}`;
  const expected = HEADER_BYTES + bodyBytes;
  if (buffer.length < expected) return { ok: false, kind: 'short', detail: `${buffer.length} of ${expected} bytes (${version})` };
  if (buffer.length > expected) return { ok: false, kind: 'long', detail: `${buffer.length} bytes, header says ${expected} (${version})` };
  const sha = createHash('sha256').update(buffer.subarray(HEADER_BYTES)).digest('hex');
  if (sha !== match[2]) return { ok: false, kind: 'checksum', detail: `${buffer.length} bytes, body checksum mismatch (${version})` };
  if (Number(match[6]) !== file) return { ok: false, kind: 'wrong-file', detail: `a version of file ${match[6]} in file ${file} (${version})` };
  return { ok: true, version, bytes: buffer.length };
}
