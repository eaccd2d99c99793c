import { describe, expect, it } from 'vitest';
import { crc32c, maskCrc } from '../../src/write/crc32c.js';

describe('crc32c', () => {
  it('matches the test vectors of RFC 3720 (B.4)', () => {
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(0x46dd794e);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i))).toBe(0x113fdb5c);
  });
  it('matches the check value of "123456789" and continues across chunks', () => {
    const bytes = new TextEncoder().encode('123456789');
    expect(crc32c(bytes)).toBe(0xe3069283);
    expect(crc32c(bytes, 4, 9, crc32c(bytes, 0, 4))).toBe(0xe3069283);
  });
  it('masks as LevelDB does (a masked CRC differs from the CRC)', () => {
    expect(maskCrc(0)).toBe(0xa282ead8);
    expect(maskCrc(0x8a9136aa)).not.toBe(0x8a9136aa);
  });
});
