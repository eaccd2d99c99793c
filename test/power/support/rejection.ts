/**
 * The `PowerControlError` a power call rejects with, for the power tests: the test fails when the
 * promise resolves, rejects with anything else, or shows one of `secrets` anywhere in what the
 * caller gets (message, stack, fields, cause).
 */
import { expect } from 'vitest';
import { isPowerControlError, PowerControlError } from '../../../src/power/power-controller.js';

export async function rejection(promise: Promise<unknown>, secrets: readonly string[] = []): Promise<PowerControlError> {
  const err: unknown = await promise.then(
    (value) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
    },
    (e: unknown) => e,
  );
  expect(isPowerControlError(err)).toBe(true);
  expect(err).toBeInstanceOf(PowerControlError);
  const error = err as PowerControlError;
  const shown = [error.message, error.stack ?? '', JSON.stringify(error), String(error.cause ?? ''), JSON.stringify(error.cause ?? null)].join('\n');
  for (const secret of secrets) expect(shown).not.toContain(secret);
  return error;
}
