import assert from 'node:assert/strict';
import { test } from 'node:test';
import { wandSelect } from '../../src-main/teaching/wand.js';
import { channelProjection, fitPca, project, symmetricEigen } from '../../src-main/teaching/pca.js';
import type { EmbeddingMap } from '../../src-main/teaching/prototypes.js';

/** A 1-channel 5x3 map laid out as text: digits are embedding values. */
function mapOf(lines: string[]): { embedding: EmbeddingMap; width: number; height: number } {
  const values = lines.join('').split('').map(Number);
  return {
    embedding: { dim: 1, pixels: values.length, data: Float32Array.from(values) },
    width: lines[0]!.length,
    height: lines.length,
  };
}

test('the wand selects the connected region within the distance, not a similar region elsewhere', () => {
  const map = mapOf(['11900', '12900', '99911']);
  const mask = wandSelect({ ...map, x: 0, y: 0, maxDistance: 1 });
  assert.deepEqual(Array.from(mask), [1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
  const tight = wandSelect({ ...map, x: 0, y: 0, maxDistance: 0.5 });
  assert.equal(
    tight.reduce((a, b) => a + b, 0),
    3,
  );
  assert.throws(() => wandSelect({ ...map, x: 5, y: 0, maxDistance: 1 }), /outside the 5x3 map/);
});

test('the symmetric eigen-decomposition recovers known eigenpairs', () => {
  const { values, vectors } = symmetricEigen([
    [2, 1],
    [1, 2],
  ]);
  assert.ok(Math.abs(values[0]! - 3) < 1e-9 && Math.abs(values[1]! - 1) < 1e-9);
  assert.ok(Math.abs(Math.abs(vectors[0]![0]!) - Math.SQRT1_2) < 1e-9);
});

test('PCA puts the axis of largest spread first and projects the mean to the origin', () => {
  const rows = Array.from({ length: 100 }, (_, i) => [i - 49.5, (i % 2) * 0.1, 5, 0]);
  const pca = fitPca(rows, 4);
  assert.ok(Math.abs(Math.abs(pca.axes[0]![0]!) - 1) < 1e-9);
  assert.ok(pca.explained[0]! > 0.99);
  const origin = project([0, 0.05, 5, 0], pca);
  assert.ok(
    origin.every((value) => Math.abs(value) < 1e-9),
    `origin projected to ${origin.join(', ')}`,
  );
});

test("a channel projection keeps raw coordinates and reports each channel's share of the variance", () => {
  const rows = [
    [0, 0, 1],
    [2, 0, 1],
  ];
  const projection = channelProjection(rows, 3, [2, 0, 1]);
  assert.deepEqual(project([3, 4, 5], projection), [5, 3, 4]);
  assert.deepEqual(projection.explained, [0, 1, 0]);
});
