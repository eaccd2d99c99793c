/**
 * Option values read from text: a file mode, an integer in a range, a duration, one of a set of
 * words. Each throws a {@link UsageError} naming the option and the form it takes.
 *
 * @internal
 * @module
 */
import { closestName } from '../core/arguments.js';
import { UsageError } from './errors.js';

/** `640`, `0644`, `4755`: octal permission bits, as chmod takes them. */
export function parseMode(option: string, text: string): number {
  if (!/^[0-7]{1,4}$/.test(text)) throw new UsageError(`${option} must be an octal mode such as 640 or 0644; received '${text}'`);
  return Number.parseInt(text, 8);
}

/** A decimal integer from `min` to `max`. */
export function parseInteger(option: string, text: string, min: number, max: number): number {
  const value = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(`${option} must be an integer from ${min} to ${max}; received '${text}'`);
  }
  return value;
}

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

function isUnit(unit: string | undefined): unit is keyof typeof UNIT_MS {
  return unit !== undefined && Object.hasOwn(UNIT_MS, unit);
}

/** `15m`, `90s`, `1.5h`, `2d`, `500ms`, or a plain number of milliseconds; in milliseconds. */
export function parseDuration(option: string, text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text);
  const amount = Number(match?.[1]);
  const unit = match?.[2];
  const ms = amount * (isUnit(unit) ? UNIT_MS[unit] : 1);
  if (match === null || !Number.isFinite(ms)) {
    throw new UsageError(`${option} must be a duration such as 15m, 90s, 2h, 1d, 500ms, or milliseconds; received '${text}'`);
  }
  return ms;
}

/** One of `words`; a near miss is named: `unknown power verb 'rest' (did you mean reset?)`. */
export function parseChoice<const W extends string>(what: string, text: string, words: readonly W[]): W {
  const match = words.find((word) => word === text);
  if (match !== undefined) return match;
  const guess = closestName(text, words);
  throw new UsageError(`unknown ${what} '${text}'${guess === undefined ? '' : ` (did you mean ${guess}?)`}; expected one of ${words.join(', ')}`);
}
