/**
 * The package's version, for `durable-write --version`: written into the build by tsup
 * (`define` in tsup.config.ts, from package.json), so the command reads no file at run time.
 *
 * @internal
 * @module
 */

/** Replaced by tsup with package.json's version; not defined when the sources run unbuilt. */
declare const __DURABLE_WRITE_VERSION__: string | undefined;

/** The version of the package this command was built from. */
export const VERSION: string = typeof __DURABLE_WRITE_VERSION__ === 'string' ? __DURABLE_WRITE_VERSION__ : '0.0.0-unbuilt';
