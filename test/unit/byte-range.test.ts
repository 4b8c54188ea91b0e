import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseByteRange } from '../../src-main/app/byte-range.js';

test('byte ranges: first-last, open, suffix, cut at the end', () => {
  assert.deepEqual(parseByteRange('bytes=0-99', 1000), { kind: 'part', start: 0, end: 99 });
  assert.deepEqual(parseByteRange('bytes=990-', 1000), { kind: 'part', start: 990, end: 999 });
  assert.deepEqual(parseByteRange('bytes=-10', 1000), { kind: 'part', start: 990, end: 999 });
  assert.deepEqual(parseByteRange('bytes=-5000', 1000), { kind: 'part', start: 0, end: 999 });
  assert.deepEqual(parseByteRange('bytes=995-2000', 1000), { kind: 'part', start: 995, end: 999 });
  assert.deepEqual(parseByteRange('Bytes = 5-5', 1000), { kind: 'part', start: 5, end: 5 });
});

test('byte ranges: no header, another unit or several ranges get the whole file', () => {
  for (const header of [undefined, 'items=0-5', 'bytes=0-1,5-6', 'garbage'])
    assert.deepEqual(parseByteRange(header, 1000), { kind: 'whole' }, String(header));
});

test('byte ranges: past the end, reversed, empty suffix or malformed are unsatisfiable', () => {
  for (const header of [
    'bytes=1000-',
    'bytes=1000-1001',
    'bytes=9-3',
    'bytes=-0',
    'bytes=-',
    'bytes=a-b',
    'bytes=1.5-2',
  ])
    assert.deepEqual(parseByteRange(header, 1000), { kind: 'unsatisfiable' }, header);
  assert.deepEqual(parseByteRange('bytes=-1', 0), { kind: 'unsatisfiable' });
});
