/**
 * Small real file systems for the faults a kernel makes on demand: a tiny tmpfs fills up
 * (ENOSPC), a remount makes it read-only (EROFS). Needs root and mount(8); CI runs as root.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';

const mounted: string[] = [];

afterEach(() => {
  for (const dir of mounted.splice(0)) {
    execFileSync('umount', [dir]);
    rmdirSync(dir);
  }
});

/** Mounts a tmpfs of `bytes` bytes on a fresh directory, unmounted after the current test. */
export function mountTmpfs(bytes: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'durable-write-tmpfs-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes},mode=0755`, 'tmpfs', dir]);
  mounted.push(dir);
  return dir;
}

/** Remounts the tmpfs at `dir` read-only. */
export function remountReadOnly(dir: string): void {
  execFileSync('mount', ['-o', 'remount,ro', dir]);
}
