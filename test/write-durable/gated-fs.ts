/**
 * Node's file system with a gate: the async calls a test picks wait until it opens the gate (or
 * forever, standing for a hung NFS or FUSE mount), so that a call can be held at an exact step.
 */
import { constants } from 'node:fs';
import { nodeFileSystem, type DurableFileSystem } from '../../src/core/file-system.js';

/** The primitives that can be held. */
export type GatedCall = { readonly op: 'realpath'; readonly path: string } | { readonly op: 'open-directory'; readonly path: string };

export interface GatedFileSystem {
  readonly fs: DurableFileSystem;
  /** Settles once a held call has reached the gate. */
  readonly reached: Promise<void>;
  /** Lets every held call (and every later one) through. */
  release(): void;
}

/** Node's file system, with every async call that `holds` names waiting at the gate. */
export function gatedFileSystem(holds: (call: GatedCall) => boolean): GatedFileSystem {
  let reach: () => void = () => undefined;
  const reached = new Promise<void>((resolve) => (reach = resolve));
  let release: () => void = () => undefined;
  const released = new Promise<void>((resolve) => (release = resolve));
  const gate = async (call: GatedCall): Promise<void> => {
    if (!holds(call)) return;
    reach();
    await released;
  };
  const fs: DurableFileSystem = {
    ...nodeFileSystem,
    realpath: async (path) => {
      await gate({ op: 'realpath', path });
      return nodeFileSystem.realpath(path);
    },
    open: async (path, flags, mode) => {
      if ((flags & constants.O_DIRECTORY) !== 0) await gate({ op: 'open-directory', path });
      return nodeFileSystem.open(path, flags, mode);
    },
  };
  return { fs, reached, release };
}

/** `promise`, or a rejection naming `what` if it has not settled after `ms` (a guard against a hang, not a timing check). */
export function unlessHung<T>(promise: Promise<T>, what: string, ms = 10_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: still pending after ${ms} ms`)), ms);
  });
  return Promise.race([promise, hung]).finally(() => clearTimeout(timer));
}

/** What a promise settled to, as a value: `{ value }` or `{ error }`. */
export function settled<T>(promise: Promise<T>): Promise<{ value: T } | { error: unknown }> {
  return promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
}
