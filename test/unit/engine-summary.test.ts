import assert from 'node:assert/strict';
import { test } from 'node:test';
import { largestRegion } from '../../src-main/engine/regions.js';
import { quantizeScores } from '../../src-main/engine/maps.js';
import { MetricHead } from '../../src-main/engine/metric-head.js';
import {
  histogramPercentile,
  pixelPercentileScore,
  summarizeFrame,
  tallyFrame,
} from '../../src-main/engine/summary.js';
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

test('frame score percentile: within one histogram bin of exact, not the maximum', () => {
  const scores = new Float32Array(1000);
  for (let i = 0; i < 1000; i++) scores[i] = i / 1000;
  scores[999] = 1; // one extreme pixel must not decide the frame score
  const p99 = histogramPercentile(tallyFrame(new Uint8Array(1000), scores).scoreHistogram, 99);
  assert.ok(Math.abs(p99 - 0.989) <= 1 / 4096 + 1e-9, `p99 ${p99}`);
  const negative = tallyFrame(new Uint8Array(10), new Float32Array(10).fill(-3)).scoreHistogram;
  assert.equal(histogramPercentile(negative, 99), 1 / 4096, 'scores below 0 fall in the first bin');
});

test('frame summary: unknown fraction, largest region in map pixels, class areas by index, regions', () => {
  const U = UNKNOWN_CLASS;
  const classMap = Uint8Array.from([0, 0, 1, U, 0, 2, U, U]);
  const ood = Float32Array.from([0.1, 0.1, 0.2, 0.9, 0.1, 0.3, 0.8, 0.95]);
  const context = { width: 4, height: 2, classCount: 4, places: { drivable: [0], sky: [] } };
  const { summary, regions } = summarizeFrame(classMap, ood, tallyFrame(classMap, ood), context);
  assert.equal(summary.unknownFraction, 3 / 8);
  assert.deepEqual(summary.largestRegion, { area: 3 / 8, x: 2, y: 0, width: 2, height: 2 });
  assert.deepEqual(summary.classAreas, [3 / 8, 1 / 8, 1 / 8, 0]);
  assert.equal(regions.length, 1);
  // 3 pixels of an 8-pixel map pass the minimum (500 px of 480x360, scaled: 1 px); it touches the top border.
  assert.equal(summary.score, Math.fround(0.5 * Math.fround((0.9 + 0.8 + 0.95) / 3)));
  assert.equal(summary.score, regions[0]!.score, 'the frame score is the best region score');
});

test('frame summary without unknown pixels: no region, score 0', () => {
  const classMap = Uint8Array.from([0, 1, 1, 0]);
  const ood = Float32Array.from([0.1, 0.2, 0.3, 0.4]);
  const context = { width: 2, height: 2, classCount: 2, places: { drivable: [0], sky: [1] } };
  const { summary, regions } = summarizeFrame(classMap, ood, tallyFrame(classMap, ood), context);
  assert.deepEqual([summary.score, summary.largestRegion, regions], [0, null, []]);
});

test('the old pixel-percentile frame score is the 90th percentile of the histogram', () => {
  const scores = Float32Array.from({ length: 100 }, (_, i) => i / 100);
  const p90 = pixelPercentileScore(tallyFrame(new Uint8Array(100), scores));
  assert.ok(Math.abs(p90 - 0.89) <= 1 / 4096 + 1e-9, `p90 ${p90}`);
});

test('the kernel tallies its maps and quantizes scores as the TypeScript helpers do, padding left out', () => {
  // 1,003 pixels of a 2-D embedding with prototypes 3 e_t: scores spread over [0, 1], some unknown.
  const pixels = 1003;
  const output = new Float32Array(2 * pixels);
  for (let p = 0; p < pixels; p++) {
    output[p] = 3 * Math.abs(Math.sin(p * 0.37));
    output[pixels + p] = 3 * Math.abs(Math.cos(p * 0.11));
  }
  const head = new MetricHead({
    kind: 'embedding',
    knownCount: 2,
    dim: 2,
    prototypes: [
      [3, 0],
      [0, 3],
    ],
    score: 'combined',
    sMax: 36,
    sFloor: 9,
    beta: 20,
    gamma: 0.8,
    threshold: 0.5,
    source: 'test.onnx',
  });
  const out = head.apply(output, pixels);
  const expected = tallyFrame(out.classMap, out.ood);
  assert.deepEqual(out.tallies.classCounts, expected.classCounts);
  assert.deepEqual(out.tallies.scoreHistogram, expected.scoreHistogram);
  assert.deepEqual(out.oodBytes, quantizeScores(out.ood), 'display levels as maps.ts computes them');
  assert.ok(expected.classCounts[UNKNOWN_CLASS]! > 0 && expected.classCounts[0]! > 0 && expected.classCounts[1]! > 0);
});
