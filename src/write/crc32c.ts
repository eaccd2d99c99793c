/**
 * CRC-32C (Castagnoli, polynomial 0x1EDC6F41, reflected 0x82F63B78), as LevelDB, RocksDB, etcd
 * and iSCSI (RFC 3720) use it; the checksum of a framed durable log's records.
 *
 * @module
 */

/** The reflected Castagnoli polynomial. */
const POLYNOMIAL = 0x82f63b78;

/** The byte-at-a-time lookup table. */
const TABLE: Uint32Array = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n += 1) {
    let c = n;
    for (let k = 0; k < 8; k += 1) c = c & 1 ? (c >>> 1) ^ POLYNOMIAL : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/**
 * The CRC-32C of `bytes[start, end)`, as an unsigned 32-bit number; `previous` continues an
 * earlier checksum (the CRC of the concatenation).
 */
export function crc32c(bytes: Uint8Array, start = 0, end = bytes.byteLength, previous = 0): number {
  let crc = ~previous >>> 0;
  for (let i = start; i < end; i += 1) crc = (TABLE[(crc ^ (bytes[i] ?? 0)) & 0xff] ?? 0) ^ (crc >>> 8);
  return ~crc >>> 0;
}

/** LevelDB's mask delta: a CRC stored in the data it covers is masked, so a CRC of CRCs is not trivially valid. */
const MASK_DELTA = 0xa282ead8;

/** LevelDB's `crc32c::Mask`: rotate right by 15 bits and add a constant. */
export function maskCrc(crc: number): number {
  return (((crc >>> 15) | (crc << 17)) + MASK_DELTA) >>> 0;
}
