import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppError } from '../../src-main/core/errors.js';
import { componentMetrics, frameComponents, SIOU_THRESHOLDS } from '../../src-main/evaluation/component-metrics.js';
import { IGNORE_LABEL, OOD_LABEL } from '../../src-main/evaluation/labels.js';

const W = 60;
const H = 40;

/** Sets a rectangle (inclusive bounds) of a W x H map. */
function fill(map: Uint8Array, x0: number, x1: number, y0: number, y1: number, value: number) {
  for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) map[y * W + x] = value;
}

/**
 * Ground truth: G1 200 px and G2 100 px (kept), G3 90 px (under 100: void). Prediction: P1 600 px over G1, G2
 * and the gap between; P4 600 px over G3; P3 500 px on nothing; P2 150 px (under 500: dropped).
 */
function scene() {
  const truth = new Uint8Array(W * H); // 0: in-distribution
  fill(truth, 0, 19, 0, 9, OOD_LABEL); // G1
  fill(truth, 30, 39, 0, 9, OOD_LABEL); // G2
  fill(truth, 50, 58, 0, 9, OOD_LABEL); // G3
  const predicted = new Uint8Array(W * H);
  fill(predicted, 0, 39, 0, 14, 1); // P1
  fill(predicted, 45, 59, 0, 39, 1); // P4
  fill(predicted, 0, 24, 20, 39, 1); // P3
  fill(predicted, 30, 39, 25, 39, 1); // P2
  return { truth, predicted };
}

test('sIoU per ground-truth component is adjusted: the other component under the same prediction is left out', () => {
  const { truth, predicted } = scene();
  const { siou, ppv } = frameComponents(predicted, truth, W, H);
  // G1: 200 / (600 + 200 - 200 - 100 of G2) = 0.4; G2: 100 / (600 + 100 - 100 - 200 of G1) = 0.25.
  assert.deepEqual(siou, [200 / 500, 100 / 400]);
  // P1: 300 of 600 on anomalies; P4: its 90 px on G3 are void now, 0 of 510; P3: 0 of 500. P2 is gone.
  assert.deepEqual(ppv, [0.5, 0, 0]);
});

test("mean F1 over tau 0.25..0.75: TP at sIoU > tau, FP at PPV <= tau (the paper's inequalities)", () => {
  const { truth, predicted } = scene();
  const metrics = componentMetrics([frameComponents(predicted, truth, W, H)]);
  assert.equal(SIOU_THRESHOLDS.length, 11);
  // tau 0.25, 0.30, 0.35: TP 1 (G1), FN 1 (G2 at 0.25 is not above 0.25), FP 2 -> F1 2/5; from 0.40 on TP 0.
  assert.ok(Math.abs(metrics.meanF1! - (100 * (3 * 0.4)) / 11) < 1e-9, `mean F1 ${metrics.meanF1}`);
  assert.ok(Math.abs(metrics.siou! - 32.5) < 1e-9);
  assert.ok(Math.abs(metrics.ppv! - 100 / 6) < 1e-9);
  assert.deepEqual([metrics.truthComponents, metrics.predictedComponents], [2, 3]);
});

test('void pixels take no part: a prediction cut by a void line falls apart into components under 500 px', () => {
  const truth = new Uint8Array(W * H);
  const predicted = new Uint8Array(W * H);
  fill(predicted, 0, 40, 0, 14, 1); // 615 px
  assert.equal(frameComponents(predicted, truth, W, H).ppv.length, 1);
  fill(truth, 20, 20, 0, H - 1, IGNORE_LABEL); // a void column through it: 300 + 300 px
  assert.deepEqual(frameComponents(predicted, truth, W, H).ppv, []);
});

test('counts are summed over images; no component of either kind leaves the figures undefined', () => {
  const { truth, predicted } = scene();
  const empty = { siou: [], ppv: [] };
  const twice = componentMetrics([
    frameComponents(predicted, truth, W, H),
    empty,
    frameComponents(predicted, truth, W, H),
  ]);
  assert.ok(Math.abs(twice.meanF1! - (100 * 1.2) / 11) < 1e-9, 'the same ratios with every count doubled');
  const none = componentMetrics([empty]);
  assert.deepEqual(
    { ...none, byThreshold: undefined },
    { siou: null, ppv: null, meanF1: null, truthComponents: 0, predictedComponents: 0, byThreshold: undefined },
  );
  assert.ok(none.byThreshold.every((point) => point.f1 === null && point.precision === null && point.recall === null));
  // Per threshold, F1 is the harmonic mean of the component precision and recall the report plots.
  for (const point of twice.byThreshold)
    if (point.precision && point.recall)
      assert.ok(Math.abs(point.f1! - (2 * point.precision * point.recall) / (point.precision + point.recall)) < 1e-12);
  // A prediction with no ground truth at all: every F1 is 0, not undefined.
  assert.equal(componentMetrics([{ siou: [], ppv: [0] }]).meanF1, 0);
});

test('a prediction and ground truth of different sizes are refused, naming the image and both sizes', () => {
  assert.throws(
    () => frameComponents(new Uint8Array(W * H), new Uint8Array(30 * 20), W, H, 'frame_001.png'),
    (error: unknown) =>
      error instanceof AppError &&
      error.code === 'eval_size_mismatch' &&
      /frame_001\.png: the prediction has 2400 pixels and the ground truth 600, but the map is 60x40/.test(
        error.message,
      ),
  );
});
