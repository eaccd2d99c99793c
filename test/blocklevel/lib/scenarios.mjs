/**
 * The block-level scenarios: what the guest does between the start and the return markers, and
 * what the host expects of the target file at every crash state.
 *
 * `durable: true` rows must keep the invariants in every state; the naive twins must break them in
 * at least one (otherwise the checker is blind). `old: true` means the target exists, with the old
 * contents, on the base image before the boot (the host writes it); otherwise it is a new file.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * @typedef {object} GuestContext
 * @property {any} lib          the durable-write module the guest imports
 * @property {string} repoDir   the repository, mounted read-only in the guest
 * @property {string} path      the target's absolute path on the disk under test
 * @property {Buffer} data      the new contents
 */

/**
 * @typedef {object} Scenario
 * @property {string} id
 * @property {string} title
 * @property {boolean} durable
 * @property {boolean} old           whether the target exists (old contents) before the call
 * @property {string} target         path relative to the file system's root
 * @property {boolean} [defaultRun]  part of the default (CI) subset
 * @property {boolean} [twinRequired] for a twin: whether the run fails when it shows no violation (default true)
 * @property {(ctx: GuestContext) => void} [prepare]  runs before the start marker
 * @property {(ctx: GuestContext) => Promise<void> | void} run  the call under test
 */

/** @type {Scenario[]} */
export const scenarios = [
  {
    id: 'wd-new',
    title: 'writeDurable, new file',
    durable: true,
    old: false,
    target: 'target.bin',
    defaultRun: true,
    run: async ({ lib, path: p, data }) => {
      await lib.writeDurable(p, data);
    },
  },
  {
    id: 'wd-replace',
    title: 'writeDurable, replace',
    durable: true,
    old: true,
    target: 'target.bin',
    defaultRun: true,
    run: async ({ lib, path: p, data }) => {
      await lib.writeDurable(p, data);
    },
  },
  {
    id: 'wd-parents',
    title: 'writeDurable createParents (new dirs)',
    durable: true,
    old: false,
    target: 'new/deeper/d.bin',
    run: async ({ lib, path: p, data }) => {
      await lib.writeDurable(p, data, { createParents: true });
    },
  },
  {
    id: 'rename',
    title: 'renameDurable over the old file',
    durable: true,
    old: true,
    target: 'target.bin',
    defaultRun: true,
    // The staged file is written (not flushed) before the call; renameDurable flushes it.
    prepare: ({ path: p, data }) => {
      fs.writeFileSync(path.join(path.dirname(p), 'staged.bin'), data);
    },
    run: async ({ lib, path: p }) => {
      await lib.renameDurable(path.join(path.dirname(p), 'staged.bin'), p);
    },
  },
  {
    id: 'open-commit',
    title: 'openDurable + commit(), replace',
    durable: true,
    old: true,
    target: 'target.bin',
    defaultRun: true,
    run: async ({ lib, path: p, data }) => {
      const pending = await lib.openDurable(p);
      try {
        fs.writeFileSync(pending.tmpPath, data);
        await pending.commit();
      } finally {
        await pending.discard();
      }
    },
  },
  {
    id: 'naive-wfs',
    title: 'twin: fs.writeFileSync in place',
    durable: false,
    old: true,
    target: 'target.bin',
    defaultRun: true,
    run: ({ path: p, data }) => {
      fs.writeFileSync(p, data);
    },
  },
  {
    id: 'naive-rename',
    title: 'twin: temp + rename, no fsync',
    durable: false,
    old: true,
    target: 'target.bin',
    defaultRun: true,
    run: ({ path: p, data }) => {
      fs.writeFileSync(`${p}.tmp`, data);
      fs.renameSync(`${p}.tmp`, p);
    },
  },
  {
    id: 'wfa',
    title: 'twin: write-file-atomic 7 (fsync: true)',
    durable: false,
    // It fsyncs the temp file but not the directory: it is expected, not required, to fail.
    twinRequired: false,
    old: true,
    target: 'target.bin',
    run: async ({ repoDir, path: p, data }) => {
      const mod = await import(path.join(repoDir, 'node_modules', 'write-file-atomic', 'lib', 'index.js'));
      const writeFileAtomic = mod.default ?? mod;
      await writeFileAtomic(p, data, { fsync: true });
    },
  },
];

/** @param {string} id */
export function scenarioById(id) {
  const found = scenarios.find((s) => s.id === id);
  if (found === undefined) throw new Error(`unknown scenario ${id}`);
  return found;
}

/**
 * File systems: how the host makes the base image and how the guest mounts it (guest/init has the
 * matching mount lines). XFS needs at least 300 MiB (mkfs.xfs's minimum); images are sparse.
 */
export const fileSystems = [
  { id: 'ext4', title: 'ext4 (defaults)', type: 'ext4', sizeMiB: 64, mkfs: ['mkfs.ext4', '-q', '-F'], hostMount: [], defaultRun: true },
  { id: 'ext4-noauto', title: 'ext4 noauto_da_alloc', type: 'ext4', sizeMiB: 64, mkfs: ['mkfs.ext4', '-q', '-F'], hostMount: [], defaultRun: true },
  { id: 'xfs', title: 'XFS (defaults)', type: 'xfs', sizeMiB: 300, mkfs: ['mkfs.xfs', '-q', '-f'], hostMount: ['nouuid'], defaultRun: true },
  { id: 'btrfs', title: 'btrfs (defaults)', type: 'btrfs', sizeMiB: 256, mkfs: ['mkfs.btrfs', '-q', '-f'], hostMount: [], defaultRun: false },
];
