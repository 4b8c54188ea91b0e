import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  classifyMap,
  DMLNET_RADIUS_RULE,
  fitRadius,
  kMeans,
  nearestExisting,
  npmPrototype,
  percentile,
  teachClass,
  type EmbeddingMap,
  type Shot,
} from '../../src-main/teaching/prototypes.js';
import { AppError } from '../../src-main/core/errors.js';

/** Builds a channel-major embedding map from pixel-major rows. */
function embeddingOf(rows: number[][]): EmbeddingMap {
  const dim = rows[0]!.length;
  const data = new Float32Array(dim * rows.length);
  rows.forEach((row, p) => row.forEach((value, c) => (data[c * rows.length + p] = value)));
  return { dim, pixels: rows.length, data };
}

const base = [
  [3, 0],
  [0, 3],
];

test('NPM is the mean of per-shot means, not of all pixels', () => {
  // Shot 1 has three pixels at (1, 1), shot 2 one pixel at (3, 3): the pixel mean would be (1.5, 1.5).
  const shots: Shot[] = [
    {
      embedding: embeddingOf([
        [1, 1],
        [1, 1],
        [1, 1],
        [9, 9],
      ]),
      mask: Uint8Array.from([1, 1, 1, 0]),
    },
    {
      embedding: embeddingOf([
        [3, 3],
        [9, 9],
      ]),
      mask: Uint8Array.from([1, 0]),
    },
  ];
  const model = teachClass(shots, { radius: DMLNET_RADIUS_RULE });
  assert.deepEqual(model.prototypes, [[2, 2]]);
  assert.equal(model.acceptanceRadius, 1.5);
  assert.equal(model.spread.pixels, 4);
  assert.deepEqual(
    npmPrototype([[Float32Array.from([0, 2])], [Float32Array.from([2, 0]), Float32Array.from([2, 0])]], 2),
    [1, 1],
  );
});

test("the spread rule sets the radius at the percentile of the shots' squared distances", () => {
  // Marked pixels at squared distances 0, 1, 4, 9, 16 from the prototype (0, 2) ... built symmetric so the mean is exact.
  const rows = [
    [-3, -3],
    [3, 3],
    [-1, -1],
    [1, 1],
    [0, 0],
  ];
  const shot: Shot = { embedding: embeddingOf(rows), mask: new Uint8Array(rows.length).fill(1) };
  const model = teachClass([shot], { radius: { kind: 'spread', percentile: 50, scale: 2 } });
  assert.deepEqual(model.prototypes, [[0, 0]]);
  // distances 18, 18, 2, 2, 0 -> median 2, times scale 2
  assert.equal(model.acceptanceRadius, 4);
  assert.equal(model.spread.max, 18);
});

test('the fit rule picks the radius with the best IoU against the masks on the shot frames', () => {
  // 1-D pixels; squared distances to the prototype 0: 0.01 m, 0.04 m, 0.25, 0.36 m, 0.49, 0.64 (m = marked).
  const values = [0.1, 0.2, 0.5, 0.6, 0.7, 0.8];
  const shot: Shot = { embedding: embeddingOf(values.map((v) => [v])), mask: Uint8Array.from([1, 1, 0, 1, 0, 0]) };
  // Taking 4 pixels gives IoU 3/4, the best; the radius sits halfway between the 4th and 5th distances.
  assert.ok(Math.abs(fitRadius([shot], [[0]], [[10]]) - 0.425) < 1e-6);
  // A built-in prototype at 0.65 claims the four pixels near it: only the first two remain, both taken.
  const radius = fitRadius([shot], [[0]], [[0.65]]);
  assert.ok(radius > 0.04 && radius < 0.0401, `radius ${radius}`);
});

test('percentile interpolates between order statistics', () => {
  assert.equal(percentile([4, 1, 3, 2], 50), 2.5);
  assert.equal(percentile([4, 1, 3, 2], 100), 4);
  assert.equal(percentile([5], 95), 5);
});

test('a pixel joins a taught class only inside the radius and closer than every built-in prototype', () => {
  const taught = [{ prototypes: [[1.5, 1.5]], acceptanceRadius: 1 }];
  const pixels = embeddingOf([
    [1.5, 1.5], // on the taught prototype -> taught (index 2)
    [1.5, 2.4], // d_taught 0.81 < 1, d_base1 = 2.61 -> taught
    [3, 0], // on base prototype 0 -> 0
    [0.2, 0.2], // d_taught 3.38 > radius -> nearest base (tie broken to 0)
    [2.4, 0.6], // d_taught 1.62 > 1 -> base 0 although taught is nearer than nothing else
  ]);
  assert.deepEqual(Array.from(classifyMap(pixels, base, taught)), [2, 2, 0, 0, 0]);
  // A prototype inside the radius but farther than a built-in one loses.
  const close = [{ prototypes: [[2, 0]], acceptanceRadius: 10 }];
  assert.deepEqual(Array.from(classifyMap(embeddingOf([[2.9, 0]]), base, close)), [0]);
});

test('between two taught classes the closer one wins', () => {
  const taught = [
    { prototypes: [[1, 1]], acceptanceRadius: 2 },
    { prototypes: [[1.6, 1.6]], acceptanceRadius: 2 },
  ];
  assert.deepEqual(
    Array.from(
      classifyMap(
        embeddingOf([
          [1.1, 1.1],
          [1.5, 1.5],
        ]),
        base,
        taught,
      ),
    ),
    [2, 3],
  );
});

test('k-means separates two well-apart clusters and is deterministic', () => {
  const rows = [
    ...Array.from({ length: 20 }, (_, i) => Float32Array.from([10 + (i % 3) * 0.1, 0])),
    ...Array.from({ length: 20 }, (_, i) => Float32Array.from([-10 - (i % 3) * 0.1, 0])),
  ];
  const centres = kMeans(rows, 2, 2)
    .map((c) => c[0]!)
    .sort((a, b) => a - b);
  assert.ok(
    Math.abs(centres[0]! + 10.095) < 0.01 && Math.abs(centres[1]! - 10.095) < 0.01,
    `centres ${centres.join(', ')}`,
  );
  assert.deepEqual(kMeans(rows, 2, 2), kMeans(rows, 2, 2));
  // k larger than the distinct points gives no more centres than there are rows.
  assert.equal(kMeans(rows.slice(0, 2), 2, 3).length, 2);
});

test('teaching with k = 2 covers a two-look class that one prototype would miss', () => {
  const rows = [
    [4, 4],
    [4, 4],
    [-4, 4],
    [-4, 4],
  ];
  const shot: Shot = { embedding: embeddingOf(rows), mask: new Uint8Array(4).fill(1) };
  const one = teachClass([shot], { radius: DMLNET_RADIUS_RULE });
  const two = teachClass([shot], { k: 2, radius: DMLNET_RADIUS_RULE });
  assert.deepEqual(one.prototypes, [[0, 4]]);
  assert.equal(two.prototypes.length, 2);
  assert.equal(two.spread.max, 0);
  const test = embeddingOf([
    [4, 4.2],
    [-4, 4.2],
  ]);
  assert.deepEqual(Array.from(classifyMap(test, base, [one])), [1, 1]);
  assert.deepEqual(Array.from(classifyMap(test, base, [two])), [2, 2]);
});

test('an empty mask is refused with a message naming the shot', () => {
  const shots: Shot[] = [
    { embedding: embeddingOf([[1, 1]]), mask: Uint8Array.from([1]) },
    { embedding: embeddingOf([[1, 1]]), mask: Uint8Array.from([0]) },
  ];
  assert.throws(
    () => teachClass(shots),
    (error: unknown) => error instanceof AppError && error.code === 'empty_mask' && /shot 2/.test(error.message),
  );
  assert.throws(
    () => teachClass([]),
    (error: unknown) => error instanceof AppError && error.code === 'no_shots',
  );
  assert.throws(
    () => teachClass([{ embedding: embeddingOf([[1, 1]]), mask: Uint8Array.from([1, 1]) }]),
    (error: unknown) => error instanceof AppError && error.code === 'invalid_mask',
  );
});

test('nearestExisting names the closest class and its squared distance', () => {
  const near = nearestExisting(
    [2.9, 0.1],
    [
      { name: 'sky', prototypes: [[3, 0]] },
      { name: 'building', prototypes: [[0, 3]] },
    ],
  );
  assert.ok(near);
  assert.equal(near.name, 'sky');
  assert.ok(Math.abs(near.squaredDistance - 0.02) < 1e-9);
});
