/**
 * What the EIO harness needs on the host, found or explained, through the power-loss harness's
 * findRig and checkLibrary (test/powerloss/lib/prerequisites.mjs). Locally a missing piece makes
 * the run skip with one line; with `CI` set it is a failure.
 * The guest runs the host's own node, strace, dmsetup, e2fsck and filefrag through the /usr
 * share, so those must live under /usr.
 */
import { GUEST_MODULES } from '../../powerloss/lib/initramfs.mjs';
import { findRig as findSharedRig, checkLibrary as checkSharedLibrary } from '../../powerloss/lib/prerequisites.mjs';

export { inCI, prerequisiteMissingFor, killOnExit, snapshotLibrary, makeRunDir } from '../../powerloss/lib/prerequisites.mjs';

/**
 * The kernel modules the guest loads (names as in modules.dep; dependencies are added): the
 * power-loss guest's without IPMI, then device-mapper and its flakey target.
 */
export const EIO_GUEST_MODULES = [...GUEST_MODULES.filter((name) => !name.startsWith('ipmi')), 'dm_mod', 'dm_flakey'];

/**
 * @typedef {import('../../powerloss/lib/prerequisites.mjs').Rig} Rig
 * @param {{ repoDir: string, libModule: string }} options
 * @returns {{ rig: Rig } | { missing: string[] }}
 */
export function findRig({ repoDir, libModule }) {
  return findSharedRig({
    repoDir,
    libModule,
    tools: [['mkfs.ext4', 'e2fsprogs'], ['cpio', 'cpio']],
    usrTools: [['strace', 'strace'], ['dmsetup', 'dmsetup'], ['e2fsck', 'e2fsprogs'], ['filefrag', 'e2fsprogs'], ['dumpe2fs', 'e2fsprogs']],
    realpathUsrTools: true,
    sbin: true,
    modules: EIO_GUEST_MODULES,
  });
}

/**
 * Whether the built package exports what the guest calls; the reason when it does not.
 * @param {string} libModule
 * @returns {Promise<string | undefined>}
 */
export function checkLibrary(libModule) {
  return checkSharedLibrary(libModule, ['writeDurable', 'writeDurableSync', 'isFlushError', 'isDurableWriteError', 'FlushError', 'removeStaleTemps']);
}
