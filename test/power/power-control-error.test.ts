import { describe, expect, it, vi } from 'vitest';
import { DurableWriteError, isDurableWriteError } from '../../src/core/errors.js';
import { isPowerControlError, PowerControlError } from '../../src/power/power-controller.js';

describe('PowerControlError', () => {
  it('is a DurableWriteError with stage power, reason, verb, exitCode and stderr', () => {
    const err = new PowerControlError('m', { reason: 'auth', verb: 'reset', exitCode: 1, stderr: 'RAKP 2 HMAC is invalid' });
    expect(err).toBeInstanceOf(DurableWriteError);
    expect(err).toMatchObject({ name: 'PowerControlError', stage: 'power', reason: 'auth', verb: 'reset', exitCode: 1 });
    expect(isDurableWriteError(err)).toBe(true);
    expect(isPowerControlError(err)).toBe(true);
    expect(isPowerControlError(new DurableWriteError('x', { stage: 'power' }))).toBe(false);
    expect(isPowerControlError(new Error('x'))).toBe(false);
    expect(isPowerControlError(null)).toBe(false);
  });

  it('sent: the actions the BMC accepted before the failure, a frozen copy, [] by default', () => {
    const given = ['ForceOff'];
    const err = new PowerControlError('m', { reason: 'timeout', verb: 'cycle', sent: given });
    given.push('On');
    expect(err.sent).toEqual(['ForceOff']);
    expect(Object.isFrozen(err.sent)).toBe(true);
    expect(new PowerControlError('m', { reason: 'auth', verb: 'on' }).sent).toEqual([]);
    expect(JSON.parse(JSON.stringify(err))).toMatchObject({ sent: ['ForceOff'] });
  });

  it('is recognised across two copies of the module (as between the ESM and CJS builds)', async () => {
    vi.resetModules();
    const specifier: string = '../../src/power/power-controller.js?copy=2';
    const other = (await import(specifier)) as typeof import('../../src/power/power-controller.js');
    expect(other.PowerControlError).not.toBe(PowerControlError);
    const foreign: unknown = new other.PowerControlError('m', { reason: 'failed', verb: 'on' });
    expect(foreign).not.toBeInstanceOf(PowerControlError);
    expect(isPowerControlError(foreign)).toBe(true);
  });
});
