/**
 * A torture-test writer (a child process): replaces the target files in a loop, one version at a
 * time, until it is killed. Mode `durable` uses the built package's `writeDurable`, as a user
 * would; mode `naive` (the twin) uses `fs.writeFileSync(target, data)` in place.
 *
 * Protocol on stdout, one line each: `R` once ready (package loaded), `W <file>` after each
 * completed write. It exits by itself when its stdin closes (the supervisor is gone) or at
 * `--deadline` (epoch ms), so it can never outlive a crashed supervisor.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { deriveSeed, logUniformInt, makeVersion, prng, targetName } from './format.mjs';

const { values } = parseArgs({
  options: {
    dir: { type: 'string' },
    files: { type: 'string' },
    writer: { type: 'string' },
    incarnation: { type: 'string' },
    seed: { type: 'string' },
    mode: { type: 'string' },
    'min-size': { type: 'string' },
    'max-size': { type: 'string' },
    dist: { type: 'string' },
    deadline: { type: 'string' },
  },
  strict: true,
});

const dir = String(values.dir);
const files = Number(values.files);
const writer = Number(values.writer);
const incarnation = Number(values.incarnation);
const mode = values.mode;
const minSize = Number(values['min-size']);
const maxSize = Number(values['max-size']);

process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
setTimeout(() => process.exit(0), Math.max(0, Number(values.deadline) - Date.now())).unref();

const rng = prng(deriveSeed(Number(values.seed), writer, incarnation));
let write;
if (mode === 'durable') {
  const { writeDurable } = await import(pathToFileURL(String(values.dist)).href);
  write = (path, data) => writeDurable(path, data);
} else if (mode === 'naive') {
  write = async (path, data) => {
    writeFileSync(path, data);
    // Let stdin's 'end' through between synchronous writes.
    await new Promise((resolve) => setImmediate(resolve));
  };
} else {
  throw new Error(`writer: unknown mode ${mode}`);
}

process.stdout.write('R\n');
try {
  for (let seq = 0; ; seq++) {
    const file = Math.floor(rng() * files);
    const bodyBytes = logUniformInt(rng, minSize, maxSize);
    const data = makeVersion({ file, writer, incarnation, seq, bodyBytes, rng });
    await write(join(dir, targetName(file)), data);
    process.stdout.write(`W ${file}\n`);
  }
} catch (error) {
  process.stderr.write(`writer ${writer}.${incarnation} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
}
