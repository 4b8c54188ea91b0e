import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fastExp } from '../../src-main/engine/metric-head.js';
import { largestRegion } from '../../src-main/engine/regions.js';
import { scorePercentile, summarizeFrame } from '../../src-main/engine/summary.js';
import { UNKNOWN_CLASS } from '../../src-main/engine/types.js';

/** Rows of '#' (set) and '.' -> mask. */
function mask(rows: string[]): Uint8Array {
  return Uint8Array.from(rows.join('').split(''), (ch) => (ch === '#' ? 1 : 0));
}

test('largest region: 8-connectivity joins diagonal pixels; the bigger region wins with its bounding box', () => {
  const rows = ['#.....', '.#..##', '..#.##', '....##'];
  assert.deepEqual(largestRegion(mask(rows), 1, 6, 4), { pixels: 6, x: 4, y: 1, width: 2, height: 3 });
  const diagonal = ['#....', '.#...', '..#..', '...#.', '....#'];
  assert.deepEqual(largestRegion(mask(diagonal), 1, 5, 5), { pixels: 5, x: 0, y: 0, width: 5, height: 5 });
});

test('largest region: a U shape whose arms meet late is one region (union of provisional labels)', () => {
  const rows = ['#...#', '#...#', '#####'];
  assert.deepEqual(largestRegion(mask(rows), 1, 5, 3), { pixels: 9, x: 0, y: 0, width: 5, height: 3 });
  assert.equal(largestRegion(new Uint8Array(12), 1, 4, 3), null);
});

test('fastExp: within 1e-8 of Math.exp over the range the head uses', () => {
  for (let x = -40; x <= 20; x += 0.01) assert.ok(Math.abs(fastExp(x) / Math.exp(x) - 1) < 1e-8, `x = ${x}`);
});

test('frame score percentile: within one histogram bin of exact, not the maximum', () => {
  const scores = new Float32Array(1000);
  for (let i = 0; i < 1000; i++) scores[i] = i / 1000;
  scores[999] = 1; // one extreme pixel must not decide the frame score
  const p99 = scorePercentile(scores, 99);
  assert.ok(Math.abs(p99 - 0.989) <= 1 / 4096 + 1e-9, `p99 ${p99}`);
  assert.equal(scorePercentile(new Float32Array(10).fill(-3), 99), 1 / 4096, 'scores below 0 fall in the first bin');
});

test('frame summary: unknown fraction, region in map pixels, class areas by index', () => {
  const U = UNKNOWN_CLASS;
  const classMap = Uint8Array.from([0, 0, 1, U, 0, 2, U, U]);
  const ood = Float32Array.from([0.1, 0.1, 0.2, 0.9, 0.1, 0.3, 0.8, 0.95]);
  const summary = summarizeFrame(classMap, ood, 4, 2, 4);
  assert.equal(summary.unknownFraction, 3 / 8);
  assert.deepEqual(summary.largestRegion, { area: 3 / 8, x: 2, y: 0, width: 2, height: 2 });
  assert.deepEqual(summary.classAreas, [3 / 8, 1 / 8, 1 / 8, 0]);
  assert.ok(summary.score > 0.9 && summary.score <= 0.95 + 1 / 4096);
});
