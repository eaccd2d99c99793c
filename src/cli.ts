#!/usr/bin/env node
/**
 * The `durable-write` command, package.json's `bin` (built to dist/cli.js, ESM only): durable
 * writes, flushes, BMC power control and cleanup from the shell. The commands are in src/cli/;
 * the manual is docs/cli.md.
 *
 * @packageDocumentation
 */
import { runCli } from './cli/main.js';

void runCli().then((status) => {
  process.exitCode = status;
});
