/**
 * A torture-test reader (a child process): reads every target file in a loop and checks that each
 * read is one whole version (see format.mjs). A missing file is acceptable only until the reader
 * has seen that file once: a durable replacement never removes the name.
 *
 * Protocol: `R` on stdout once running; on `stop` on stdin it prints one line
 * `S <json statistics>` and exits. It exits by itself when its stdin closes or at `--deadline`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { checkVersion, targetName } from './format.mjs';

const { values } = parseArgs({
  options: {
    dir: { type: 'string' },
    files: { type: 'string' },
    deadline: { type: 'string' },
  },
  strict: true,
});
const dir = String(values.dir);
const files = Number(values.files);

const stats = {
  reads: 0,
  ok: 0,
  failed: 0,
  kinds: { empty: 0, short: 0, long: 0, header: 0, checksum: 0, 'wrong-file': 0 },
  missingBeforeFirstWrite: 0,
  missingAfterSeen: 0,
  versionChanges: 0,
  rounds: 0,
  errors: [],
  samples: [],
};
const seen = new Array(files).fill(false);
const last = new Array(files).fill(undefined);
let stopping = false;

function finish() {
  process.stdout.write(`S ${JSON.stringify(stats)}\n`, () => process.exit(0));
}

process.stdin.setEncoding('utf8');
process.stdin.on('data', (text) => {
  if (text.includes('stop')) stopping = true;
});
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
setTimeout(() => process.exit(0), Math.max(0, Number(values.deadline) - Date.now())).unref();

function sample(file, what) {
  if (stats.samples.length < 20) stats.samples.push({ file, what, at: Date.now() });
}

process.stdout.write('R\n');
while (!stopping) {
  for (let file = 0; file < files; file++) {
    let buffer;
    try {
      buffer = readFileSync(join(dir, targetName(file)));
    } catch (error) {
      if (error && error.code === 'ENOENT') {
        if (seen[file]) {
          stats.missingAfterSeen++;
          sample(file, 'missing after it existed');
        } else stats.missingBeforeFirstWrite++;
      } else {
        stats.errors.push(String(error));
      }
      continue;
    }
    seen[file] = true;
    stats.reads++;
    const result = checkVersion(buffer, file);
    if (result.ok) {
      stats.ok++;
      if (last[file] !== result.version) {
        if (last[file] !== undefined) stats.versionChanges++;
        last[file] = result.version;
      }
    } else {
      stats.failed++;
      stats.kinds[result.kind]++;
      sample(file, `${result.kind}: ${result.detail}`);
    }
  }
  stats.rounds++;
  // Until a first file exists, poll gently rather than spin (the writers are still starting).
  if (seen.some(Boolean)) await new Promise((resolve) => setImmediate(resolve));
  else await new Promise((resolve) => setTimeout(resolve, 2));
}
finish();
