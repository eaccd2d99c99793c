import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', testing: 'src/testing.ts', compat: 'src/compat.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  platform: 'node',
  // Shared chunks, not a copy of src/write per entry: the per-file write queue and the registry
  // of temp files in use are module state, which index and compat must share in one process.
  splitting: true,
  treeshake: true,
});
