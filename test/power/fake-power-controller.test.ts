import { describe, expect, it } from 'vitest';
import { FakePowerController } from '../../src/testing/fake-power-controller.js';
import type { PowerSimulatorLink } from '../../src/testing/fake-power-controller.js';
import { isPowerControlError, PowerControlError } from '../../src/power/power-controller.js';
import type { PowerController } from '../../src/power/power-controller.js';

/** A minimal stand-in for the crash simulator: a page cache that a crash throws away. */
class TinyDisk implements PowerSimulatorLink {
  readonly durable = new Map<string, string>();
  readonly cache = new Map<string, string>();
  readonly events: string[] = [];
  write(key: string, value: string): void {
    this.cache.set(key, value);
  }
  async sync(): Promise<void> {
    await Promise.resolve();
    for (const [k, v] of this.cache) this.durable.set(k, v);
    this.cache.clear();
    this.events.push('sync');
  }
  crash(): void {
    this.cache.clear();
    this.events.push('crash');
  }
}

async function reasonOf(promise: Promise<unknown>): Promise<string> {
  const err: unknown = await promise.then(() => undefined, (e: unknown) => e);
  expect(isPowerControlError(err)).toBe(true);
  return (err as PowerControlError).reason;
}

describe('FakePowerController', () => {
  it('implements PowerController and records each call with its time', async () => {
    const power: PowerController = new FakePowerController();
    const fake = power as FakePowerController;
    const before = Date.now();
    await power.status();
    await power.off();
    await power.on();
    await power.cycle();
    await power.reset();
    await power.softOff();
    expect(fake.verbs).toEqual(['status', 'off', 'on', 'cycle', 'reset', 'softOff']);
    for (const call of fake.calls) {
      expect(call.at).toBeGreaterThanOrEqual(before);
      expect(call.at).toBeLessThanOrEqual(Date.now());
    }
  });

  it('keeps a power state; on/off are idempotent; cycle of an off machine is unsupported', async () => {
    const power = new FakePowerController({ initialState: 'off' });
    expect(await power.status()).toBe('off');
    await power.off();
    expect(power.state).toBe('off');
    expect(await reasonOf(power.cycle())).toBe('unsupported');
    await power.on();
    await power.on();
    expect(await power.status()).toBe('on');
    await power.reset();
    expect(power.state).toBe('on');
    await power.softOff();
    expect(power.state).toBe('off');
  });

  it('fails with a given reason, for one verb, a number of times', async () => {
    const power = new FakePowerController().fail('auth', { verb: 'reset', times: 2 });
    await power.status();
    expect(await reasonOf(power.reset())).toBe('auth');
    expect(await reasonOf(power.reset())).toBe('auth');
    await power.reset();
    power.fail('unreachable');
    expect(await reasonOf(power.status())).toBe('unreachable');
    expect(await reasonOf(power.on())).toBe('unreachable');
    power.succeed();
    await power.on();
    expect(power.verbs).toEqual(['status', 'reset', 'reset', 'reset', 'status', 'on', 'on']);
  });

  it('a failed off leaves the state and the simulator alone', async () => {
    const disk = new TinyDisk();
    const power = new FakePowerController({ simulator: disk }).fail('privilege', { times: 1 });
    expect(await reasonOf(power.off())).toBe('privilege');
    expect(power.state).toBe('on');
    expect(disk.events).toEqual([]);
  });

  it('delays, and an abort during the delay rejects with reason aborted', async () => {
    const power = new FakePowerController().setDelay(50);
    const started = Date.now();
    await power.off();
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    power.setDelay(10_000);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 20);
    expect(await reasonOf(power.on({ signal: controller.signal }))).toBe('aborted');
    expect(power.state).toBe('off');
    expect(await reasonOf(power.on({ signal: AbortSignal.abort() }))).toBe('aborted');
  });

  it('hard actions crash a linked simulator; softOff syncs first', async () => {
    const disk = new TinyDisk();
    const power = new FakePowerController({ simulator: disk });
    await power.reset();
    await power.cycle();
    await power.off();
    await power.off(); // already off: nothing running, nothing to lose
    expect(disk.events).toEqual(['crash', 'crash', 'crash']);
    await power.on();
    await power.softOff();
    expect(disk.events).toEqual(['crash', 'crash', 'crash', 'sync', 'crash']);
  });

  it('sequencing: sync before reset keeps the data', async () => {
    const disk = new TinyDisk();
    const power = new FakePowerController({ simulator: disk });
    disk.write('state.json', 'v2');
    await disk.sync(); // stands for: await syncAll({ fs: simulator })
    await power.reset();
    expect(disk.durable.get('state.json')).toBe('v2');
  });

  it('twin: reset without a sync first loses the data', async () => {
    const disk = new TinyDisk();
    const power = new FakePowerController({ simulator: disk });
    disk.write('state.json', 'v2');
    await power.reset();
    expect(disk.durable.get('state.json')).toBeUndefined();
  });

  it('softOff keeps unsynced data (an orderly shutdown flushes), unlike off', async () => {
    const soft = new TinyDisk();
    soft.write('k', 'v');
    await new FakePowerController({ simulator: soft }).softOff();
    expect(soft.durable.get('k')).toBe('v');
    const hard = new TinyDisk();
    hard.write('k', 'v');
    await new FakePowerController({ simulator: hard }).off();
    expect(hard.durable.get('k')).toBeUndefined();
  });

  it('rejects bad arguments with TypeError', () => {
    expect(() => new FakePowerController({ initialState: 'standby' as 'on' })).toThrow(TypeError);
    expect(() => new FakePowerController().setDelay(-1)).toThrow(TypeError);
    expect(() => new FakePowerController().fail('auth', { times: 0 })).toThrow(TypeError);
  });

  it('its errors are PowerControlErrors with stage power', async () => {
    const err: unknown = await new FakePowerController().fail('timeout').status().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PowerControlError);
    expect(err).toMatchObject({ stage: 'power', reason: 'timeout', verb: 'status', name: 'PowerControlError' });
  });
});
