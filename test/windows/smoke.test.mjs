import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dw } from './support.mjs';

test('runs on Windows Node with the built package', () => {
  assert.equal(process.platform, 'win32');
  assert.equal(typeof dw.writeDurable, 'function');
});
