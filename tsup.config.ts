import { defineConfig } from 'tsup';
import pkg from './package.json' with { type: 'json' };

/** The library's entry points: ESM and CommonJS, with types. */
const library = { index: 'src/index.ts', testing: 'src/testing.ts', compat: 'src/compat.ts' };

export default defineConfig({
  // cli: the `durable-write` command (package.json's bin), ESM only and without types.
  // write-worker: the thread writeDurable hands small writes to (src/write/write-offload.ts),
  // ESM only: the CommonJS build starts the same file.
  entry: { ...library, cli: 'src/cli.ts', 'write-worker': 'src/write/write-worker.ts' },
  format: ['esm', 'cjs'],
  dts: { entry: library },
  esbuildOptions(options, { format }) {
    if (format === 'cjs') options.entryPoints = library;
  },
  // `durable-write --version`, without reading package.json at run time.
  define: { __DURABLE_WRITE_VERSION__: JSON.stringify(pkg.version) },
  clean: true,
  sourcemap: true,
  target: 'node20',
  // import.meta.url in the CommonJS build (where write-offload.ts finds the worker file).
  shims: true,
  platform: 'node',
  // Shared chunks, not a copy of src/write per entry: one set of error classes for index and
  // compat. (The per-file write queue and the registry of temp files in use are shared even
  // between copies, on globalThis: src/write/process-state.ts.)
  splitting: true,
  treeshake: true,
});
