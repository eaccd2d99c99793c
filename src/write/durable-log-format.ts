/**
 * The record formats of a durable log (`durable-log.ts`): how a record is encoded for one append,
 * and how a log's bytes are scanned back into its valid prefix of records, its torn tail, or the
 * offset of corruption in the middle.
 *
 * `'lines'`: a record is UTF-8 text without `'\n'` or NUL, stored as the text and `'\n'` (with
 * `json`, the `JSON.stringify` of a value). A line is valid when it ends in `'\n'`, holds no NUL,
 * is valid UTF-8 and (with `json`) parses.
 *
 * `'framed'`: a record is bytes (at least one), stored as an 8-byte header and the payload:
 * bytes 0-3 the payload's length (unsigned 32-bit little-endian, 1 to 2^31-1), bytes 4-7 the
 * masked CRC-32C (LevelDB's mask, little-endian) of header bytes 0-3 followed by the payload. A
 * frame is valid when its length is in range, the whole payload is in the file and the CRC matches;
 * a run of NUL bytes never is (length 0).
 *
 * A scan takes records from offset 0 while they are valid. At the first invalid byte it looks for
 * any valid record after it (`'framed'`: a valid frame starting at any later offset; `'lines'`:
 * any later valid line, after the next `'\n'`): if there is one, the log is corrupt in the middle
 * at that offset; if not, everything from it to the end is a torn tail.
 *
 * @module
 */
import { describeValue, invalidArgType } from '../core/arguments.js';
import { crc32c, maskCrc } from './crc32c.js';

/** The formats of a durable log. */
export type DurableLogFormat = 'lines' | 'framed';

/** One valid record found by a scan, and where it starts. */
export interface ScannedRecord<T> {
  readonly offset: number;
  readonly value: T;
}

/** What a scan of a log's bytes found. */
export interface LogScan<T> {
  /** The valid records, in file order: a prefix of the file. */
  readonly records: readonly ScannedRecord<T>[];
  /** The end of the last valid record: where a torn tail (or the corruption) starts. */
  readonly validEnd: number;
  /** Set when a valid record follows the invalid bytes at `validEnd`: corruption in the middle. */
  readonly corrupt: boolean;
}

/** How one format encodes and scans records of type `T`. */
export interface LogCodec<T> {
  /** The bytes one append stores for `record`; a `TypeError` for a record the format cannot hold. */
  encode(record: unknown, operation: string): Uint8Array;
  /** The records of `bytes`, their valid prefix's end, and whether the rest is corruption. */
  scan(bytes: Uint8Array): LogScan<T>;
}

/** The size of a framed record's header: length, then masked CRC-32C. */
export const FRAME_HEADER_BYTES = 8;
/** The largest payload a frame may hold. */
export const MAX_FRAME_PAYLOAD = 0x7fffffff;

const NEWLINE = 0x0a;
const NUL = 0x00;
const decoder = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();

/** The checksum stored in a frame: the masked CRC-32C of its length bytes and payload. */
function frameCrc(bytes: Uint8Array, start: number, length: number): number {
  return maskCrc(crc32c(bytes, start + FRAME_HEADER_BYTES, start + FRAME_HEADER_BYTES + length, crc32c(bytes, start, start + 4)));
}

/** The payload length of a valid frame at `start`, or `undefined`. */
function frameAt(bytes: Uint8Array, view: DataView, start: number): number | undefined {
  if (start + FRAME_HEADER_BYTES > bytes.byteLength) return undefined;
  const length = view.getUint32(start, true);
  if (length === 0 || length > MAX_FRAME_PAYLOAD || start + FRAME_HEADER_BYTES + length > bytes.byteLength) return undefined;
  return frameCrc(bytes, start, length) === view.getUint32(start + 4, true) ? length : undefined;
}

/** The `'framed'` format. */
export const framedCodec: LogCodec<Uint8Array> = {
  encode(record, operation) {
    if (!ArrayBuffer.isView(record)) {
      throw invalidArgType(`${operation}: a framed record must be a Buffer, TypedArray or DataView; received ${describeValue(record)}`);
    }
    const payload = new Uint8Array(record.buffer, record.byteOffset, record.byteLength);
    if (payload.byteLength === 0 || payload.byteLength > MAX_FRAME_PAYLOAD) {
      throw new RangeError(`${operation}: a framed record must hold 1 to ${MAX_FRAME_PAYLOAD} bytes; received ${payload.byteLength}`);
    }
    const frame = new Uint8Array(FRAME_HEADER_BYTES + payload.byteLength);
    const view = new DataView(frame.buffer);
    view.setUint32(0, payload.byteLength, true);
    frame.set(payload, FRAME_HEADER_BYTES);
    view.setUint32(4, frameCrc(frame, 0, payload.byteLength), true);
    return frame;
  },
  scan(bytes) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const records: ScannedRecord<Uint8Array>[] = [];
    let at = 0;
    for (let length = frameAt(bytes, view, at); length !== undefined; length = frameAt(bytes, view, at)) {
      records.push({ offset: at, value: bytes.slice(at + FRAME_HEADER_BYTES, at + FRAME_HEADER_BYTES + length) });
      at += FRAME_HEADER_BYTES + length;
    }
    let corrupt = false;
    for (let later = at + 1; !corrupt && later + FRAME_HEADER_BYTES < bytes.byteLength; later += 1) corrupt = frameAt(bytes, view, later) !== undefined;
    return { records, validEnd: at, corrupt };
  },
};

/** The `'lines'` format: text records, or (with `json`) JSON values. */
export function linesCodec(json: boolean): LogCodec<unknown> {
  /** The record of the line `bytes[start, end)` (without its `'\n'`), or `undefined` when invalid. */
  const lineAt = (bytes: Uint8Array, start: number, end: number): { value: unknown } | undefined => {
    if (bytes.subarray(start, end).includes(NUL)) return undefined;
    let text: string;
    try {
      text = decoder.decode(bytes.subarray(start, end));
    } catch {
      return undefined;
    }
    if (!json) return { value: text };
    try {
      return { value: JSON.parse(text) as unknown };
    } catch {
      return undefined;
    }
  };
  return {
    encode(record, operation) {
      let text: string | undefined;
      if (json) {
        text = JSON.stringify(record);
        if (typeof text !== 'string') throw invalidArgType(`${operation}: a JSON record must be a value JSON.stringify encodes; received ${describeValue(record)}`);
      } else {
        if (typeof record !== 'string') throw invalidArgType(`${operation}: a lines record must be a string; received ${describeValue(record)}`);
        if (record.includes('\n')) throw invalidArgType(`${operation}: a lines record must not hold a newline; each record is one line`);
        if (record.includes('\0')) throw invalidArgType(`${operation}: a lines record must not hold a NUL byte; NUL bytes mark a torn tail`);
        text = record;
      }
      return encoder.encode(`${text}\n`);
    },
    scan(bytes) {
      const records: ScannedRecord<unknown>[] = [];
      let at = 0;
      let invalidAt: number | undefined;
      let corrupt = false;
      while (at < bytes.byteLength && !corrupt) {
        const newline = bytes.indexOf(NEWLINE, at);
        if (newline < 0) break;
        const line = lineAt(bytes, at, newline);
        if (line === undefined) invalidAt ??= at;
        else if (invalidAt === undefined) records.push({ offset: at, value: line.value });
        else corrupt = true;
        at = newline + 1;
      }
      return { records, validEnd: invalidAt ?? at, corrupt };
    },
  };
}
