/**
 * How `durable-write probe` writes its numbers for people: latencies with a unit chosen for
 * their size, rates without false precision.
 *
 * @module
 */

/** A latency given in microseconds, as `4.2 µs`, `312 µs`, `1.84 ms`, `23.1 ms` or `1.20 s`. */
export function formatLatency(us: number): string {
  if (us < 10) return `${us.toFixed(1)} µs`;
  if (us < 1000) return `${us.toFixed(0)} µs`;
  if (us < 10_000) return `${(us / 1000).toFixed(2)} ms`;
  if (us < 1_000_000) return `${(us / 1000).toFixed(1)} ms`;
  return `${(us / 1_000_000).toFixed(2)} s`;
}

/** Operations per second: whole numbers, one decimal below 100. */
export function formatRate(opsPerSecond: number): string {
  return opsPerSecond < 100 ? opsPerSecond.toFixed(1) : opsPerSecond.toFixed(0);
}
