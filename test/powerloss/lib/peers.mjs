/**
 * Peers at a hard reset (issue 13, part 3): the ways people write files in Node.js today, each
 * writing a NEW file and REPLACING an existing one, with the machine reset through its BMC as
 * soon as the write's promise resolved (no settle time: the question is whether the data was on
 * disk when the call said it was done).
 *
 * These scenarios are MEASUREMENTS (`kind: 'measured'`): the runner reports what the disk kept
 * but does not judge it, so a peer that loses data does not fail the run. Only writeDurable's own
 * scenarios (b, e, e1) are judged (they must keep the file in every trial).
 *
 * The peers are imported in the guest from the repository's node_modules (the repository is
 * mounted in the guest at the same absolute path, read-only), before the write starts, so that
 * loading a module never sits between the write and the reset.
 */

/**
 * @typedef {object} Peer
 * @property {string} key        short id, used in scenario ids (`<key>-new`, `<key>-replace`)
 * @property {string} writer     the writer's short name, for the table
 * @property {string} call       the call, as a user writes it
 * @property {string} flushes    what it makes durable before it resolves (from its source)
 * @property {() => Promise<(path: string, data: Buffer) => Promise<unknown>>} load
 *   imports the peer (in the guest) and returns its write call
 */

/** @type {readonly Peer[]} */
export const peers = [
  {
    key: 'wfa',
    writer: 'write-file-atomic 7, { fsync: true }',
    call: 'writeFileAtomic(path, data, { fsync: true })',
    flushes: 'fsync of the temp file; rename; no directory fsync',
    async load() {
      const { default: writeFileAtomic } = await import('write-file-atomic');
      return (path, data) => writeFileAtomic(path, data, { fsync: true });
    },
  },
  {
    key: 'atomically',
    writer: 'atomically 2, writeFile',
    call: "import { writeFile } from 'atomically'; writeFile(path, data)",
    flushes: 'fsync of the temp file; rename; no directory fsync',
    async load() {
      const { writeFile } = await import('atomically');
      return (path, data) => writeFile(path, data);
    },
  },
  {
    key: 'fsextra',
    writer: 'fs-extra 11, outputFile',
    call: 'fsExtra.outputFile(path, data)',
    flushes: 'nothing (writeFile in place, after mkdir -p of the parent)',
    async load() {
      const { default: fsExtra } = await import('fs-extra');
      return (path, data) => fsExtra.outputFile(path, data);
    },
  },
  {
    key: 'flush',
    writer: 'fs.promises.writeFile, { flush: true }',
    call: 'fs.promises.writeFile(path, data, { flush: true })',
    flushes: 'fsync of the file itself, written in place (O_TRUNC); no rename, no directory fsync',
    async load() {
      const fsp = await import('node:fs/promises');
      return (path, data) => fsp.writeFile(path, data, { flush: true });
    },
  },
  {
    key: 'naive',
    writer: 'fs.promises.writeFile (naive)',
    call: 'fs.promises.writeFile(path, data)',
    flushes: 'nothing (written in place, O_TRUNC)',
    async load() {
      const fsp = await import('node:fs/promises');
      return (path, data) => fsp.writeFile(path, data);
    },
  },
];

/**
 * The measured scenarios: every peer, writing a new file and replacing an existing one.
 * @returns {import('./scenarios.mjs').Scenario[]}
 */
export function peerScenarios() {
  return peers.flatMap((peer) =>
    /** @type {const} */ (['new', 'replace']).map((variant) => ({
      id: `${peer.key}-${variant}`,
      title: `${peer.call}${variant === 'new' ? ' (new file)' : ' replacing an existing file'}, then reset (measured)`,
      kind: /** @type {const} */ ('measured'),
      durable: undefined,
      writer: peer.writer,
      flushes: peer.flushes,
      variant,
      target: `${peer.key}-${variant}.bin`,
      preexisting: variant === 'replace',
      /** @param {import('./scenarios.mjs').GuestContext} ctx */
      async run({ lib, path, data, mark }) {
        const write = await peer.load().catch((error) => {
          const why = error instanceof Error ? error.message : String(error);
          throw new Error(`cannot load the peer ${peer.writer} (a devDependency: run npm install): ${why}`);
        });
        const power = new lib.IpmitoolPowerController({ interface: 'open' });
        await write(path, data);
        mark('written');
        await power.reset();
      },
    })),
  );
}

/** The outcomes a row of the peers table counts. */
export const PEER_OUTCOMES = ['intact', 'old', 'missing', 'zero-length', 'corrupt', 'error'];

/**
 * The peers table: one row per writer x (new, replace), from every selected scenario that names
 * a `writer` (the peers, and writeDurable's own b, e and e1), with the outcome counts, how many
 * trials left a temp file behind (and how many of those held the whole new data), and when the
 * reset came.
 * @param {readonly import('./scenarios.mjs').Scenario[]} selected
 * @param {readonly any[]} records  the run's per-trial records
 */
export function peersTable(selected, records) {
  // writeDurable's rows first (new, then replace at once, then replace 8 s later), then the peers.
  const order = (/** @type {import('./scenarios.mjs').Scenario} */ s) =>
    s.kind === 'measured' ? 1000 : (s.variant === 'new' ? 0 : 100) + (s.settleMs ?? 0) / 1000;
  return selected
    .filter((s) => typeof s.writer === 'string')
    .map((s, index) => ({ s, index }))
    .sort((x, y) => order(x.s) - order(y.s) || x.index - y.index)
    .map(({ s }) => {
      const mine = records.filter((r) => r.scenario === s.id);
      /** @type {Record<string, number>} */
      const counts = Object.fromEntries(PEER_OUTCOMES.map((o) => [o, mine.filter((r) => r.outcome === o).length]));
      const withTemp = mine.filter((r) => (r.leftovers ?? []).length > 0);
      const tempHoldsNew = withTemp.filter((r) => r.leftovers.some((/** @type {any} */ l) => l.holds === 'new')).length;
      const gaps = mine.map((r) => r.writtenToResetMs).filter((g) => typeof g === 'number').sort((x, y) => x - y);
      return {
        id: s.id,
        writer: s.writer,
        variant: s.variant,
        kind: s.kind ?? (s.durable ? 'durable' : 'twin'),
        flushes: s.flushes ?? '',
        settleMs: s.settleMs ?? 0,
        trials: mine.length,
        counts,
        kept: counts['intact'] ?? 0,
        tempLeft: withTemp.length,
        tempHoldsNew,
        writtenToResetMs: gaps.length ? { min: gaps[0], max: gaps[gaps.length - 1] } : null,
      };
    });
}

/** @param {{ min: number, max: number } | null} gap */
function gapText(gap) {
  if (gap === null) return '-';
  const s = (/** @type {number} */ ms) => (ms / 1000).toFixed(1);
  return s(gap.min) === s(gap.max) ? `${s(gap.min)} s` : `${s(gap.min)}-${s(gap.max)} s`;
}

/** @param {ReturnType<typeof peersTable>[number]} row */
function tempText(row) {
  if (row.tempLeft === 0) return '0';
  return `${row.tempLeft} (${row.tempHoldsNew} with the new data)`;
}

/** Column headers of the peers table. */
const HEADER = ['scenario', 'writer', 'writes', 'trials', ...PEER_OUTCOMES, 'temp file left', 'reset after the write', 'judged'];

/** @param {ReturnType<typeof peersTable>[number]} row */
function cells(row) {
  return [
    `(${row.id})`,
    row.writer,
    row.variant === 'new' ? 'new file' : 'replace',
    String(row.trials),
    ...PEER_OUTCOMES.map((o) => String(row.counts[o] ?? 0)),
    tempText(row),
    gapText(row.writtenToResetMs),
    row.kind === 'measured' ? 'no (measured)' : 'yes (durable)',
  ];
}

/**
 * The table as console lines.
 * @param {ReturnType<typeof peersTable>} table
 * @returns {string[]}
 */
export function peersConsoleLines(table) {
  const rows = table.map(cells);
  const numeric = (/** @type {number} */ i) => i >= 3 && i < 3 + 1 + PEER_OUTCOMES.length;
  const widths = HEADER.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (/** @type {string[]} */ c) => c.map((x, i) => (numeric(i) ? x.padStart(widths[i] ?? 0) : x.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  return [line(HEADER), ...rows.map(line)];
}

/**
 * The table as Markdown.
 * @param {ReturnType<typeof peersTable>} table
 * @returns {string[]}
 */
export function peersMarkdownLines(table) {
  const escape = (/** @type {string} */ text) => text.replace(/\|/g, '\\|');
  return [
    `| ${HEADER.join(' | ')} |`,
    `| --- | --- | --- | ---: | ${PEER_OUTCOMES.map(() => '---:').join(' | ')} | --- | --- | --- |`,
    ...table.map((row) => `| ${cells(row).map(escape).join(' | ')} |`),
  ];
}
