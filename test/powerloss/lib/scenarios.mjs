/**
 * The power-loss scenarios (issue 5, item 2). Each one runs inside the guest (`run`), prints the
 * marker `written` as soon as the write call returned, then hard-resets the machine through its
 * BMC with the library's own `IpmitoolPowerController` in in-band mode (`ipmitool -I open chassis
 * power reset` through /dev/ipmi0). The host then checks what the disk kept.
 *
 * Scenarios (g) and (g0) are an operator's shell script instead: they run `/bin/sh -c` with the
 * durable-write command line tool (dist/cli.js) on PATH, or with plain `cat` and `ipmitool`.
 *
 * `durable: false` marks the naive twin: it must lose data in at least one trial, or the harness
 * is blind. Every durable scenario must keep the new file intact in every trial (scenario (e) may
 * also keep the old file whole: a replacement is atomic, old or new, never empty or torn).
 *
 * `kind: 'measured'` (with `durable` undefined) marks the peers of issue 13 (lib/peers.mjs):
 * other libraries' and Node's own writes, reported but not judged, so a peer's loss never fails
 * the run.
 */
import { peerScenarios } from './peers.mjs';

/**
 * @typedef {object} GuestLibrary  What the guest imports from the built package (dist/index.js).
 * @property {(path: string, data: Uint8Array, options?: object) => Promise<unknown>} writeDurable
 * @property {() => Promise<unknown>} syncAll
 * @property {new (options: { interface: 'open' }) => { reset(): Promise<void> }} IpmitoolPowerController
 */

/**
 * @typedef {object} GuestContext
 * @property {GuestLibrary} lib
 * @property {string} path     absolute path of the target inside the guest
 * @property {Buffer} data     the new contents
 * @property {(name: string) => void} mark  prints `POWERLOSS:MARK <name>` on the console
 * @property {() => Promise<void>} settle  waits the scenario's `settleMs` (if any), then marks `settled`
 * @property {(script: string) => Promise<void>} shell  runs `script` with `/bin/sh -c` as an
 *   operator's script: `set -eu`, `durable-write` on PATH (a wrapper that runs `node <dist>/cli.js`,
 *   dist being the library module's directory), `$FILE` the target, `$PAYLOAD` a file in the
 *   guest's RAM (/tmp) holding `data`, and a shell function `mark NAME` that prints the marker as
 *   `mark` does; rejects when the script exits non-zero
 */

/**
 * @typedef {object} Scenario
 * @property {string} id
 * @property {string} title
 * @property {boolean | undefined} durable  true: must keep the data; false: naive twin, must lose
 *   it at least once; undefined: measured only (kind 'measured')
 * @property {'measured'} [kind]       a measurement, reported and never judged (the peers)
 * @property {string} [writer]         the write call, for the peers table (issue 13)
 * @property {'new' | 'replace'} [variant]  for the peers table: a new file or a replacement
 * @property {string} [flushes]        for the peers table: what the writer flushes before it resolves
 * @property {string} target            path of the file relative to the disk's root
 * @property {boolean} [preexisting]    the disk starts with an old version of the file
 * @property {number} [settleMs]        wait between the write and the reset (default 0); scenario
 *   (e) and its twin wait past ext4's 5 s journal commit, so a truncation that was not followed by
 *   an fsync is on disk when the reset lands (the classic zero-length file)
 * @property {boolean} [strictNew]     a durable scenario that accepts only `intact`: with the reset at
 *   once, the old file back whole means the new data was not durable when the call resolved (e1)
 * @property {boolean} [cli]           runs the durable-write command (dist/cli.js next to the library
 *   module), so the run needs it built
 * @property {(ctx: GuestContext) => Promise<void>} run
 */

/** @type {readonly Scenario[]} */
export const scenarios = [
  {
    id: 'a',
    title: 'naive fs.writeFileSync, then reset (twin)',
    durable: false,
    target: 'a.bin',
    async run({ lib, path, data, mark }) {
      const fs = await import('node:fs');
      const power = new lib.IpmitoolPowerController({ interface: 'open' });
      fs.writeFileSync(path, data);
      mark('written');
      await power.reset();
    },
  },
  {
    id: 'b',
    title: 'writeDurable (new file), then reset',
    durable: true,
    writer: 'writeDurable',
    variant: 'new',
    flushes: 'fsync of the temp file; rename; fsync of the directory',
    target: 'b.bin',
    async run({ lib, path, data, mark }) {
      const power = new lib.IpmitoolPowerController({ interface: 'open' });
      await lib.writeDurable(path, data);
      mark('written');
      await power.reset();
    },
  },
  {
    id: 'c',
    title: 'fs.writeFile, then syncAll(), then reset',
    durable: true,
    target: 'c.bin',
    async run({ lib, path, data, mark }) {
      const fsp = await import('node:fs/promises');
      const power = new lib.IpmitoolPowerController({ interface: 'open' });
      await fsp.writeFile(path, data);
      mark('written');
      await lib.syncAll();
      mark('synced');
      await power.reset();
    },
  },
  {
    id: 'd',
    title: 'writeDurable createParents into new dirs, then reset',
    durable: true,
    target: 'new/deeper/d.bin',
    async run({ lib, path, data, mark }) {
      const power = new lib.IpmitoolPowerController({ interface: 'open' });
      await lib.writeDurable(path, data, { createParents: true });
      mark('written');
      await power.reset();
    },
  },
  {
    id: 'e',
    title: 'writeDurable replacing an existing file, then reset',
    durable: true,
    writer: 'writeDurable, reset 8 s later',
    variant: 'replace',
    flushes: 'fsync of the temp file; rename; fsync of the directory',
    target: 'e.bin',
    preexisting: true,
    settleMs: 8000,
    async run({ lib, path, data, mark, settle }) {
      const power = new lib.IpmitoolPowerController({ interface: 'open' });
      await lib.writeDurable(path, data);
      mark('written');
      await settle();
      await power.reset();
    },
  },
  {
    id: 'e0',
    title: 'naive fs.writeFileSync over an existing file, then reset (twin of e)',
    durable: false,
    target: 'e0.bin',
    preexisting: true,
    settleMs: 8000,
    async run({ lib, path, data, mark, settle }) {
      const fs = await import('node:fs');
      const power = new lib.IpmitoolPowerController({ interface: 'open' });
      fs.writeFileSync(path, data);
      mark('written');
      await settle();
      await power.reset();
    },
  },
  {
    id: 'f',
    title: 'docs/power.md recipe: writeDurable, syncAll(), reset()',
    durable: true,
    target: 'f.bin',
    async run({ lib, path, data, mark }) {
      const { writeDurable, syncAll, IpmitoolPowerController } = lib;
      const power = new IpmitoolPowerController({ interface: 'open' });
      await writeDurable(path, data);
      mark('written');
      await syncAll();
      mark('synced');
      await power.reset();
    },
  },
  {
    id: 'g',
    title: 'sh: durable-write write FILE -- cat payload, then durable-write power reset --interface open',
    durable: true,
    cli: true,
    target: 'g.bin',
    async run({ shell }) {
      // The README's first form: the producer as COMMAND, whose exit status decides the commit.
      await shell(`
        durable-write write "$FILE" -- cat "$PAYLOAD"
        mark written
        durable-write power reset --interface open
      `);
    },
  },
  {
    id: 'g0',
    title: 'sh: cat payload > FILE, then ipmitool -I open chassis power reset (twin of g)',
    durable: false,
    target: 'g0.bin',
    async run({ shell }) {
      await shell(`
        cat "$PAYLOAD" > "$FILE"
        mark written
        ipmitool -I open chassis power reset
      `);
    },
  },
  {
    // (e) with the reset at once, as the peers have it: the peers table's fair baseline. Strict:
    // only the new contents pass (a reset this early finds even a naive replacement's truncation
    // uncommitted, so accepting `old`, as (e) does, would let a non-durable write pass).
    id: 'e1',
    title: 'writeDurable replacing an existing file, then reset at once (new contents required)',
    durable: true,
    strictNew: true,
    writer: 'writeDurable',
    variant: 'replace',
    flushes: 'fsync of the temp file; rename; fsync of the directory',
    target: 'e1.bin',
    preexisting: true,
    async run({ lib, path, data, mark }) {
      const power = new lib.IpmitoolPowerController({ interface: 'open' });
      await lib.writeDurable(path, data);
      mark('written');
      await power.reset();
    },
  },
  ...peerScenarios(),
];

/**
 * The scenario with this id.
 * @param {string} id
 * @returns {Scenario}
 */
export function scenarioById(id) {
  const found = scenarios.find((s) => s.id === id);
  if (found === undefined) throw new Error(`unknown power-loss scenario ${JSON.stringify(id)}`);
  return found;
}
