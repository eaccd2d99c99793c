/**
 * `durable-write write FILE`: standard input (or `--from SRC`) replaces FILE through
 * `writeDurable`, streamed in bounded memory; the exit status is 0 only once the data and the
 * name are durable. Like `sponge`, FILE is not touched before the rename, so
 * `jq . state.json | durable-write write state.json` is safe.
 *
 * @internal
 * @module
 */
import { createReadStream } from 'node:fs';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { Transform, pipeline, type Readable } from 'node:stream';
import { errnoCode } from '../core/errors.js';
import { writeDurable } from '../write/write-durable.js';
import { defineCommand } from './command.js';
import { CommandError } from './errors.js';
import { formatBytes, type Progress } from './output.js';
import { parseMode } from './values.js';

/** `--from SRC`, opened before anything else happens, so that a missing source is its own error. */
async function openSource(path: string): Promise<Readable> {
  const stream = createReadStream(path);
  try {
    await once(stream, 'ready');
  } catch (error) {
    const code = errnoCode(error);
    throw new CommandError(`cannot read --from ${path}${code === undefined ? '' : ` (${code})`}; nothing was written`, {
      code,
      stage: 'source',
      path: resolve(path),
      cause: error,
    });
  }
  return stream;
}

/**
 * `source` with its bytes counted into `progress` on the way. A failure on either side ends both
 * (`pipeline`): a source error reaches `writeDurable` as the stream's error, and `writeDurable`
 * destroying the stream it was given (on failure or abort) destroys the source.
 */
function counted(source: Readable, progress: Progress): Readable {
  let bytes = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.byteLength;
      progress.update(`${formatBytes(bytes)} read`);
      done(null, chunk);
    },
  });
  // Errors travel through the streams themselves; the callback only keeps pipeline from throwing.
  pipeline(source, counter, () => undefined);
  return counter;
}

export const writeCommand = defineCommand({
  name: 'write',
  arguments: 'FILE',
  summary: 'replace FILE with standard input (or --from SRC), durably',
  description: [
    'Replaces FILE with the bytes of standard input, or of the file SRC, through writeDurable: a temp file ' +
      'in the same directory, every byte written, fsync, rename over FILE, fsync of the directory. FILE keeps ' +
      'its old content until the rename, so reading and writing the same file in one pipeline is safe: ' +
      'jq . state.json | durable-write write state.json. The exit status is 0 only once the data and the name are durable.',
    'Standard output stays empty; the summary (wrote N bytes to PATH) goes to stderr, or with --json as one object to stdout.',
  ],
  options: {
    from: { type: 'string', value: 'SRC', help: 'read the data from the file SRC instead of standard input' },
    'create-parents': { type: 'boolean', help: 'create missing parent directories, each made durable too' },
    mode: { type: 'string', value: 'MODE', help: "permission bits in octal, e.g. 640 (default: the existing file's mode, else 666 minus the umask)" },
    fdatasync: { type: 'boolean', help: 'flush with fdatasync instead of fsync (POSIX does not promise the mode is flushed with it)' },
    'best-effort-dir-sync': {
      type: 'boolean',
      help: 'tolerate a file system that refuses to fsync a directory: reported on stderr, exit 0, but the name may not survive a crash',
    },
  },
  arity: { min: 1, max: 1 },
  async run({ values, positionals: [file = ''] }, { io, out, signal }) {
    const mode = values.mode === undefined ? undefined : parseMode('--mode', values.mode);
    if (values.from === undefined && io.stdinIsTTY) out.note('durable-write write: reading standard input until end of file (Ctrl-D)');
    const source = values.from === undefined ? io.stdin() : await openSource(values.from);
    const progress = out.progress(`writing ${file}:`);
    const result = await writeDurable(file, counted(source, progress), {
      createParents: values['create-parents'] === true,
      mode,
      flush: values.fdatasync === true ? 'fdatasync' : 'fsync',
      directorySync: values['best-effort-dir-sync'] === true ? 'best-effort' : 'required',
      signal,
    }).finally(() => progress.done());
    const refused = result.directorySyncErrors.map((error) => error.code ?? error.message);
    out.note(
      `wrote ${formatBytes(result.bytesWritten)} to ${result.path} ` +
        (result.directorySynced
          ? '(durable)'
          : `(data durable; the directory fsync was refused: ${refused.join(', ')}, so the name may not survive a crash)`),
    );
    out.result({
      command: 'write',
      path: result.path,
      bytesWritten: result.bytesWritten,
      directorySynced: result.directorySynced,
      directorySyncErrors: refused,
      createdDirectories: result.createdDirectories,
    });
    return 0;
  },
});
