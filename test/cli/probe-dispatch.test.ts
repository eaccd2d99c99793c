/**
 * `durable-write probe` is dispatched to `runProbe` of src/cli/probe.ts (whose own behaviour is
 * tested in probe.test.ts): its help through every spelling, and its usage errors with exit 2.
 */
import { describe, expect, it } from 'vitest';
import { cli } from './support/cli.js';

describe('durable-write probe dispatch', () => {
  it('probe --help, probe -h and help probe print the probe command\'s own help, exit 0', async () => {
    const own = await cli(['probe', '--help']);
    expect(own.status).toBe(0);
    expect(own.stdout).toMatch(/^Usage: durable-write probe \[options\] \[DIR\]/);
    expect(await cli(['probe', '-h'])).toEqual(own);
    expect(await cli(['help', 'probe'])).toEqual(own);
  });

  it('the main help lists probe with its arguments', async () => {
    expect((await cli(['--help'])).stdout).toMatch(/^  probe \[DIR\] +time the flushes/m);
  });

  it('a usage error of probe exits 2 with the closest spelling', async () => {
    const result = await cli(['probe', '--secnds', '1']);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('unknown option --secnds (did you mean --seconds?)');
  });
});
