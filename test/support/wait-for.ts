/** Polling for something another process or thread makes, in tests. */

/** Polls every 20 ms until `found()` returns a value, which it resolves with, or rejects after `ms` naming `what`. */
export async function waitFor<T>(what: string, found: () => T | undefined, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = found();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((settle) => setTimeout(settle, 20));
  }
}
