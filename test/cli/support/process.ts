/** Watching a command's child process from a test: its signal handlers, its open files, a deadline. */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** A test title that says why it is skipped, when it is. */
export const title = (name: string, lacking: string | undefined): string => `${name}${lacking === undefined ? '' : ` (skipped: ${lacking})`}`;

/** How long a signalled command may take to end (DW_TEST_SIGNAL_MS raises it on a slow machine). */
export const PROMPTLY_MS = Number(process.env['DW_TEST_SIGNAL_MS'] ?? 1000);

/** Polls `condition` every 10 ms until it holds; fails after `timeoutMs` naming `what`. */
export async function waitUntil(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Whether process `pid` has a handler for `signal` (its SigCgt mask in /proc): the command is ready to be interrupted. */
export function catches(pid: number, signal: 'SIGINT' | 'SIGTERM'): boolean {
  try {
    const mask = /^SigCgt:\s*([0-9a-f]+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? '0';
    return (BigInt(`0x${mask}`) >> BigInt(signal === 'SIGINT' ? 1 : 14)) % 2n === 1n;
  } catch {
    return false;
  }
}

/** What the descriptors of process `pid` point to (`/path`, `pipe:[123]`...). */
export function openFiles(pid: number): string[] {
  try {
    return readdirSync(`/proc/${pid}/fd`).flatMap((fd) => {
      try {
        return [readlinkSync(`/proc/${pid}/fd/${fd}`)];
      } catch {
        return [];
      }
    });
  } catch {
    return [];
  }
}
