/**
 * Where `durable-write power` takes the BMC password from, for either protocol: `--password-file
 * FILE`, else `--password-env VAR`, else the protocol's default variable; never a command line.
 *
 * @internal
 * @module
 */
import { UsageError } from './errors.js';

/** The password options as parsed. */
export interface PasswordValues {
  readonly 'password-file'?: string | undefined;
  readonly 'password-env'?: string | undefined;
}

/**
 * The password source the options name (`defaultEnv` when neither is given); a {@link UsageError}
 * when both are given, or when the variable is not set (set to the empty string, it is an empty
 * password).
 */
export function passwordSource(values: PasswordValues, defaultEnv: string): { readonly passwordFile: string } | { readonly passwordEnv: string } {
  const passwordFile = values['password-file'];
  if (passwordFile !== undefined && values['password-env'] !== undefined) throw new UsageError('give --password-file or --password-env, not both');
  if (passwordFile !== undefined) return { passwordFile };
  const passwordEnv = values['password-env'] ?? defaultEnv;
  if (process.env[passwordEnv] === undefined) {
    throw new UsageError(
      `no password: ${passwordEnv} is not set; set it (to the empty string for an empty password), or give --password-file FILE or --password-env VAR`,
    );
  }
  return { passwordEnv };
}
