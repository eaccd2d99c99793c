/**
 * Password redaction for everything a power backend shows its caller: error messages, a
 * program's stderr, a BMC's error text.
 *
 * @internal
 * @module
 */

/** Replaces every secret in `text` by `***` (an empty secret is ignored). */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret !== '') out = out.split(secret).join('***');
  return out;
}
