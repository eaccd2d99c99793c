/**
 * The crash simulator's `FileHandle`: what `sim.fs.open()` resolves to, with the methods of
 * `node:fs/promises`' `FileHandle` that a service and durable-write use.
 *
 * @module
 */
import type { DurableFileHandle } from '../../core/file-system.js';
import { fsError } from './fs-error.js';
import { dataBytes, encodingOf, writeArguments, type WritableData } from './node-arguments.js';
import type { SimulatedKernel } from './simulated-kernel.js';
import type { SimulatedStats } from './stats.js';

/** Options of `handle.writeFile()` / `handle.appendFile()`. */
export interface HandleWriteFileOptions {
  /** Encoding of string data. Default: `'utf8'`. */
  readonly encoding?: BufferEncoding | null | undefined;
}

/** Options of `handle.readFile()`. */
export interface HandleReadFileOptions {
  /** Decode to a string with this encoding. Default: `null` (a Buffer). */
  readonly encoding?: BufferEncoding | null | undefined;
}

const READ_CHUNK = 64 * 1024;

/** An open file or directory of the crash simulator. */
export class SimulatedFileHandle implements DurableFileHandle {
  /** @internal */
  constructor(
    private readonly kernel: SimulatedKernel,
    /** The descriptor number (also valid with `sim.fs.*Sync` descriptor calls). */
    readonly fd: number,
  ) {}

  /**
   * Writes bytes (`write(buffer, offset?, length?, position?)`) or a string
   * (`write(string, position?, encoding?)`); `position` null writes at the current position.
   * May write fewer bytes than asked when a `shortWrite` fault is armed.
   */
  async write(
    data: Uint8Array | string,
    offsetOrPosition?: number | null,
    lengthOrEncoding?: number | BufferEncoding | null,
    position?: number | null,
  ): Promise<{ bytesWritten: number; buffer: Uint8Array | string }> {
    const call = writeArguments(data, offsetOrPosition, lengthOrEncoding, position);
    const bytesWritten = this.kernel.write(this.fd, call.bytes, call.position);
    return { bytesWritten, buffer: data };
  }

  /** Reads into `buffer`; `position` null reads at the current position. */
  async read(
    buffer: Uint8Array,
    offset = 0,
    length: number = buffer.byteLength - offset,
    position: number | null = null,
  ): Promise<{ bytesRead: number; buffer: Uint8Array }> {
    const bytesRead = this.kernel.read(this.fd, buffer, offset, length, position);
    return { bytesRead, buffer };
  }

  /** Writes all of `data` at the current position, looping over short writes. */
  async writeFile(data: WritableData, options?: HandleWriteFileOptions | BufferEncoding | null): Promise<void> {
    writeAll(this.kernel, this.fd, dataBytes(data, encodingOf(options)));
  }

  /** Same as {@link SimulatedFileHandle.writeFile} (open the file with `'a'` to append). */
  async appendFile(data: WritableData, options?: HandleWriteFileOptions | BufferEncoding | null): Promise<void> {
    await this.writeFile(data, options);
  }

  /** Reads from the current position to the end. */
  readFile(options?: HandleReadFileOptions & { encoding?: null } | null): Promise<Buffer>;
  readFile(options: HandleReadFileOptions & { encoding: BufferEncoding } | BufferEncoding): Promise<string>;
  async readFile(options?: HandleReadFileOptions | BufferEncoding | null): Promise<Buffer | string> {
    return decoded(readAll(this.kernel, this.fd), encodingOf(options));
  }

  /** `fsync(2)`: makes this file's (or directory's) pending changes durable. */
  async sync(): Promise<void> {
    this.kernel.flush(this.fd, 'fsync');
  }

  /** `fdatasync(2)`: treated like {@link SimulatedFileHandle.sync}. */
  async datasync(): Promise<void> {
    this.kernel.flush(this.fd, 'fdatasync');
  }

  async stat(): Promise<SimulatedStats> {
    return this.kernel.fstat(this.fd);
  }

  async chmod(mode: number): Promise<void> {
    this.kernel.fchmod(this.fd, mode);
  }

  async chown(uid: number, gid: number): Promise<void> {
    this.kernel.fchown(this.fd, uid, gid);
  }

  async truncate(length = 0): Promise<void> {
    this.kernel.ftruncate(this.fd, length);
  }

  /** Closes the descriptor; later calls on the handle fail with EBADF. */
  async close(): Promise<void> {
    this.kernel.close(this.fd);
  }
}

/** Writes every byte of `bytes` to `fd` at its current position, looping over short writes. */
export function writeAll(kernel: SimulatedKernel, fd: number, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.length) {
    const written = kernel.write(fd, bytes.subarray(done), null);
    if (written === 0) throw fsError('EIO', 'write');
    done += written;
  }
}

/** Reads `fd` from its current position to the end. */
export function readAll(kernel: SimulatedKernel, fd: number): Buffer {
  const chunks: Buffer[] = [];
  for (;;) {
    const chunk = Buffer.alloc(READ_CHUNK);
    const read = kernel.read(fd, chunk, 0, READ_CHUNK, null);
    if (read === 0) break;
    chunks.push(chunk.subarray(0, read));
  }
  return Buffer.concat(chunks);
}

/** `bytes` as `readFile` returns them: decoded with `encoding`, or the Buffer itself without one. */
export function decoded(bytes: Buffer, encoding: BufferEncoding | null | undefined): Buffer | string {
  return encoding === undefined || encoding === null ? bytes : bytes.toString(encoding);
}
