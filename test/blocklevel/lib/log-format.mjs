/**
 * Reader of the dm-log-writes log format (Linux Documentation/admin-guide/device-mapper/
 * log-writes.rst), which QEMU's `blklogwrites` block driver also writes. All fields are
 * little-endian.
 *
 * - Sector 0, the super block: magic u64 (0x6a736677736872), version u64 (1), nr_entries u64,
 *   sectorsize u32.
 * - From sector 1, the entries in order. Each is one sector holding sector u64, nr_sectors u64,
 *   flags u64, data_len u64 (sector and nr_sectors in units of the log's sector size), padded to a
 *   sector, followed by the written data, nr_sectors sectors of it (none for a discard, nor for a
 *   flush or a mark, whose nr_sectors is 0). A mark's name is data_len bytes after its header in
 *   the kernel's format; QEMU never writes marks.
 *
 * Flags: FLUSH 1 (everything completed before it is on stable storage), FUA 2 (this write is),
 * DISCARD 4, MARK 8; METADATA 16 is a hint some kernels set.
 */
import * as fs from 'node:fs';

export const LOG_MAGIC = 0x6a736677736872n;
export const LOG_VERSION = 1n;
export const FLAG_FLUSH = 1;
export const FLAG_FUA = 2;
export const FLAG_DISCARD = 4;
export const FLAG_MARK = 8;
export const FLAG_METADATA = 16;

/**
 * @typedef {object} LogEntry
 * @property {number} index
 * @property {number} offset     byte offset on the disk
 * @property {number} length     bytes written (or discarded)
 * @property {number} flags
 * @property {Buffer | null} data the written bytes (null for a flush, a mark or a discard)
 * @property {string} [mark]
 */

/**
 * The log's entry count from its super block (0 while QEMU has not written it yet).
 * @param {string} logPath
 */
export function readEntryCount(logPath) {
  const fd = fs.openSync(logPath, 'r');
  try {
    const head = Buffer.alloc(28);
    const n = fs.readSync(fd, head, 0, head.length, 0);
    if (n < head.length || head.readBigUInt64LE(0) !== LOG_MAGIC) return 0;
    return Number(head.readBigUInt64LE(16));
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Parses a whole log.
 * @param {Buffer} log
 * @returns {{ sectorSize: number, entries: LogEntry[] }}
 */
export function parseLog(log) {
  if (log.length < 28) throw new Error('log too short for a super block');
  if (log.readBigUInt64LE(0) !== LOG_MAGIC) throw new Error(`bad log magic 0x${log.readBigUInt64LE(0).toString(16)}`);
  const version = log.readBigUInt64LE(8);
  if (version !== LOG_VERSION) throw new Error(`unsupported log version ${version}`);
  const count = Number(log.readBigUInt64LE(16));
  const sectorSize = log.readUInt32LE(24);
  if (sectorSize < 512 || (sectorSize & (sectorSize - 1)) !== 0) throw new Error(`bad log sector size ${sectorSize}`);
  /** @type {LogEntry[]} */
  const entries = [];
  let at = sectorSize;
  for (let index = 0; index < count; index += 1) {
    if (at + 32 > log.length) throw new Error(`log ends inside entry ${index} of ${count}`);
    const sector = Number(log.readBigUInt64LE(at));
    const nrSectors = Number(log.readBigUInt64LE(at + 8));
    const flags = Number(log.readBigUInt64LE(at + 16));
    const dataLen = Number(log.readBigUInt64LE(at + 24));
    if (flags & ~0x1f) throw new Error(`entry ${index}: unknown flags 0x${flags.toString(16)}`);
    /** @type {LogEntry} */
    const entry = { index, offset: sector * sectorSize, length: nrSectors * sectorSize, flags, data: null };
    if (flags & FLAG_MARK) {
      entry.mark = log.subarray(at + 32, at + 32 + dataLen).toString('utf8').replace(/\0+$/, '');
      at += sectorSize * (1 + Math.ceil(Math.max(0, 32 + dataLen - sectorSize) / sectorSize));
    } else {
      at += sectorSize;
      if (!(flags & FLAG_DISCARD) && nrSectors > 0) {
        if (at + entry.length > log.length) throw new Error(`log ends inside the data of entry ${index}`);
        entry.data = log.subarray(at, at + entry.length);
        at += entry.length;
      }
    }
    entries.push(entry);
  }
  return { sectorSize, entries };
}
