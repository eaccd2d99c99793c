/**
 * The `PowerController` interface: the power verbs of a machine's BMC, named after
 * `ipmitool chassis power` (and bmclib's power states) so that they read as operators know them.
 *
 * @module
 */

/** A machine's chassis power state, as `ipmitool chassis power status` reports it. */
export type PowerState = 'on' | 'off';

/** The verbs of a {@link PowerController}. */
export type PowerVerb = 'status' | 'on' | 'off' | 'cycle' | 'reset' | 'softOff';

/** Options of every {@link PowerController} method. */
export interface PowerCallOptions {
  /**
   * Aborts the call: it rejects with a `PowerControlError` whose `reason` is `'aborted'`, and a
   * backend that runs a program kills it. Whether the BMC already acted is unknown after an
   * abort; read `status()` again. Default: none.
   */
  readonly signal?: AbortSignal | undefined;
}

/**
 * Controls a machine's power through its BMC (or a fake). Every method rejects with a
 * `PowerControlError` (see `isPowerControlError`) whose `reason` says what went wrong.
 *
 * None of the verbs flushes anything: a hard `reset()`, `cycle()` or `off()` throws away the
 * machine's page cache. Flush first: `await syncAll(); await power.reset()`.
 *
 * @example
 * ```ts
 * import { IpmitoolPowerController, syncAll, writeDurable } from 'durable-write';
 * const power = new IpmitoolPowerController({ host: 'bmc.example', username: 'admin', passwordFile: '/etc/bmc.pw' });
 * await writeDurable('/srv/state.json', JSON.stringify(state));
 * await syncAll();
 * await power.reset();
 * ```
 */
export interface PowerController {
  /** The chassis power state (`ipmitool chassis power status`). */
  status(options?: PowerCallOptions): Promise<PowerState>;
  /** Powers the machine on; resolves also when it already is on (`chassis power on`). */
  on(options?: PowerCallOptions): Promise<void>;
  /**
   * Cuts power at once, without a shutdown (`chassis power off`): unflushed data is lost.
   * Resolves also when the machine already is off.
   */
  off(options?: PowerCallOptions): Promise<void>;
  /** Power off, then on after at least a second (`chassis power cycle`): a hard cut. */
  cycle(options?: PowerCallOptions): Promise<void>;
  /** Hard reset, no shutdown (`chassis power reset`): unflushed data is lost. */
  reset(options?: PowerCallOptions): Promise<void>;
  /**
   * Asks the operating system for an orderly shutdown through an ACPI power-button event
   * (`chassis power soft`); resolves once the BMC accepted the request, not when the machine is off.
   */
  softOff(options?: PowerCallOptions): Promise<void>;
}
