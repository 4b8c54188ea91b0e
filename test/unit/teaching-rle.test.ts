import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeRle, encodeRle } from '../../src-shared/contract/index.js';

test('run-length masks round-trip, starting with a zero run', () => {
  const mask = Uint8Array.from([1, 1, 0, 0, 0, 1, 0, 1, 1, 1, 1, 0]);
  const rle = encodeRle(mask, 4, 3);
  assert.deepEqual(rle.counts, [0, 2, 3, 1, 1, 4, 1]);
  assert.deepEqual(decodeRle(rle), mask);
  assert.deepEqual(encodeRle(new Uint8Array(6), 3, 2).counts, [6]);
});

test('runs that do not cover the mask exactly are refused', () => {
  assert.throws(() => decodeRle({ width: 2, height: 2, counts: [1, 2] }), /cover 3 pixels, not its 2x2/);
  assert.throws(() => decodeRle({ width: 2, height: 2, counts: [1, 9] }), /more than its 2x2/);
});
