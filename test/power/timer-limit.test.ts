/**
 * Node's timers hold at most 2^31-1 ms (0x7fffffff, about 24.8 days); a longer delay fires after
 * 1 ms instead (with a TimeoutOverflowWarning). Every timer of the library is held to that limit:
 * `runProgram` (which arms the deadline and the reap wait of ipmitool and `sync`) refuses a longer
 * one, so that no caller can arm a deadline that kills the child at once, and
 * `FakePowerController.setDelay` rejects one. `IpmitoolPowerController`'s `deadlineMs` is tested
 * with a stand-in ipmitool in ipmitool-power-controller.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { runProgram } from '../../src/core/run-program.js';
import { FakePowerController } from '../../src/testing/fake-power-controller.js';

/** The largest delay a Node timer honours, written out so that the test does not trust the library's constant. */
const LIMIT = 2 ** 31 - 1;

describe('runProgram refuses a timer Node cannot arm', () => {
  it('a deadline and a reap wait of 2^31-1 ms let a 300 ms program finish', async () => {
    const outcome = await runProgram('sh', ['-c', 'sleep 0.3; echo done'], { deadlineMs: LIMIT, reapWaitMs: LIMIT });
    expect(outcome).toMatchObject({ kind: 'exited', exitCode: 0, stdout: 'done\n' });
  });

  it.each([
    ['deadlineMs', { deadlineMs: 2 ** 31 }],
    ['deadlineMs', { deadlineMs: 1e12 }],
    ['deadlineMs', { deadlineMs: Number.POSITIVE_INFINITY }],
    ['deadlineMs', { deadlineMs: Number.NaN }],
    ['deadlineMs', { deadlineMs: 0 }],
    ['reapWaitMs', { reapWaitMs: 2 ** 31 }],
    ['reapWaitMs', { reapWaitMs: -1 }],
  ])('%s %o: a TypeError, and nothing is spawned', (name, options) => {
    const spawned: number[] = [];
    expect(() => runProgram('true', [], { ...options, onSpawn: (pid) => spawned.push(pid) })).toThrow(
      expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE', message: expect.stringContaining(`runProgram: ${name} must be`) }),
    );
    expect(spawned).toEqual([]);
  });
});

describe('FakePowerController.setDelay and the timer limit', () => {
  it('2^31-1 ms is accepted, and a call really waits (until aborted)', async () => {
    const power = new FakePowerController().setDelay(LIMIT);
    const controller = new AbortController();
    let settled = false;
    const call = power.off({ signal: controller.signal }).finally(() => {
      settled = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(settled).toBe(false);
    controller.abort();
    await expect(call).rejects.toMatchObject({ reason: 'aborted' });
    expect(power.state).toBe('on');
  });

  it.each([
    [2 ** 31, 'number 2147483648'],
    [1e12, 'number 1000000000000'],
  ])('%d is rejected with a TypeError naming the limit', (ms, received) => {
    const power = new FakePowerController();
    expect(() => power.setDelay(ms)).toThrow(
      expect.objectContaining({
        name: 'TypeError',
        code: 'ERR_INVALID_ARG_VALUE',
        message: `FakePowerController.setDelay: ms must be a non-negative number of milliseconds up to 2147483647 (Node's timer limit, about 24.8 days); received ${received}`,
      }),
    );
    expect(power.calls).toEqual([]);
  });
});
