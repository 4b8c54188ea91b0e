import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeRegions, numberComponents, prototypeSpacing } from '../../src-main/engine/descriptors.js';
import { MetricKernel } from '../../src-main/engine/metric-kernel.js';
import {
  componentBoxes,
  componentRuns,
  labelAllComponents,
  labelComponents,
  runBoxes,
} from '../../src-main/engine/regions.js';
import { seededRandom } from '../../src-main/teaching/prototypes.js';
import { UNKNOWN_CLASS } from '../../src-main/engine/types.js';
import { decodeDescriptors, encodeDescriptors, unpackDescriptors } from '../../src-main/library/descriptor-codec.js';

/** Sums the descriptors' embedding planes (the head thread's own kernel, in the app). */
const kernel = new MetricKernel();

const U = UNKNOWN_CLASS;
const R = 3; // road
const B = 1; // building
// A 4 x 3 map (the size floor is 1 pixel at this size): two unknown regions, one road and one building component.
//   # # r r
//   # # r r
//   b b r #
const map = Uint8Array.from([U, U, R, R, U, U, R, R, B, B, R, U]);
// Two embedding channels per pixel, [x, y], written channel-major below.
const vectors: [number, number][] = [
  [1, 0],
  [3, 0],
  [10, 10],
  [10, 10],
  [1, 2],
  [3, 2],
  [10, 10],
  [10, 10],
  [0, 0],
  [0, 2],
  [10, 10],
  [-5, 4],
];
const embedding = Float32Array.from([...vectors.map((v) => v[0]), ...vectors.map((v) => v[1])]);
// Binary fractions: their means are exact in float32.
const ood = Float32Array.from([0.875, 0.625, 0, 0, 0.875, 0.625, 0, 0, 0.125, 0.375, 0, 0.5]);

test('one label for every component of a class map, numbered per class in raster order', () => {
  const components = labelAllComponents(map, 4, 3);
  assert.equal(components.count, 4);
  assert.deepEqual(Array.from(components.labels), [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 2, 4]);
  assert.deepEqual(numberComponents(componentRuns(map, 4, 3), map), [
    { classIndex: U, regionIndex: 0 },
    { classIndex: R, regionIndex: 0 },
    { classIndex: B, regionIndex: 0 },
    { classIndex: U, regionIndex: 1 },
  ]);
});

test('labelling every value at once by runs gives the components and boxes labelComponents gives per value', () => {
  const [width, height] = [60, 40];
  const random = seededRandom(3);
  for (const noise of [0, 0.05, 0.4]) {
    // Stripes and bands of 4 values, some pixels changed at random: runs that meet, merge and end.
    const map = Uint8Array.from({ length: width * height }, (_, i) =>
      random() < noise ? Math.floor(random() * 4) : (Math.floor((i % width) / 7) + Math.floor(i / width / 5)) % 4,
    );
    // The reference: each value's components, renumbered by their first pixel across all values.
    const perValue = new Map<number, Int32Array>();
    const numbering = new Map<string, number>();
    const expected = Array.from(map, (value, i) => {
      if (!perValue.has(value)) perValue.set(value, labelComponents(map, value, width, height).labels);
      const key = `${value}:${perValue.get(value)![i]}`;
      if (!numbering.has(key)) numbering.set(key, numbering.size + 1);
      return numbering.get(key)!;
    });
    const all = labelAllComponents(map, width, height);
    assert.equal(all.count, numbering.size);
    assert.deepEqual(Array.from(all.labels), expected);
    assert.deepEqual(runBoxes(componentRuns(map, width, height)), componentBoxes(all, width, height));
  }
});

test('descriptors: mean embedding, spread (RMS distance to the mean), size, box and mean score per region', () => {
  const { dim, scale, regions, means } = describeRegions(
    embedding,
    2,
    map,
    ood,
    { width: 4, height: 3, scale: 7 },
    kernel,
  );
  assert.equal(dim, 2);
  assert.equal(scale, 7);
  const rows = regions.map((region, i) => ({
    classIndex: region.classIndex,
    regionIndex: region.regionIndex,
    pixels: region.pixels,
    box: [region.x, region.y, region.width, region.height],
    mean: Array.from(means.subarray(i * 2, i * 2 + 2)),
    spread: region.spread,
    meanScore: region.meanScore,
  }));
  assert.deepEqual(rows, [
    // (1,0) (3,0) (1,2) (3,2): mean (2,1), every pixel sqrt(2) from it.
    {
      classIndex: U,
      regionIndex: 0,
      pixels: 4,
      box: [0, 0, 2, 2],
      mean: [2, 1],
      spread: Math.fround(Math.SQRT2),
      meanScore: 0.75,
    },
    { classIndex: R, regionIndex: 0, pixels: 5, box: [2, 0, 2, 3], mean: [10, 10], spread: 0, meanScore: 0 },
    // (0,0) (0,2): mean (0,1), each 1 away.
    {
      classIndex: B,
      regionIndex: 0,
      pixels: 2,
      box: [0, 2, 2, 1],
      mean: [0, 1],
      spread: 1,
      meanScore: 0.25,
    },
    {
      classIndex: U,
      regionIndex: 1,
      pixels: 1,
      box: [3, 2, 1, 1],
      mean: [-5, 4],
      spread: 0,
      meanScore: 0.5,
    },
  ]);
});

test('regions under the size floor get no descriptor, and keep their numbering for the ones that do', () => {
  // 480 x 360: the floor is 500 pixels. A 25 x 25 unknown square (625 px) after a 10 x 10 one (100 px).
  const width = 480;
  const height = 360;
  const big = new Uint8Array(width * height).fill(R);
  for (let y = 0; y < 10; y++) for (let x = 0; x < 10; x++) big[y * width + x] = U;
  for (let y = 100; y < 125; y++) for (let x = 100; x < 125; x++) big[y * width + x] = U;
  const flat = new Float32Array(width * height * 3).fill(1);
  const { regions } = describeRegions(
    flat,
    3,
    big,
    new Float32Array(width * height),
    { width, height, scale: 1 },
    kernel,
  );
  assert.deepEqual(
    regions.map((region) => [region.classIndex, region.regionIndex, region.pixels]),
    [
      [R, 0, width * height - 725],
      [U, 1, 625],
    ],
  );
});

test('prototype spacing: the median squared distance from each prototype to its nearest neighbour', () => {
  // Nearest squared distances: 1, 1, 9.
  assert.equal(
    prototypeSpacing([
      [0, 0],
      [1, 0],
      [0, 3],
    ]),
    1,
  );
  // 1, 1, 4, 4: the median of an even count is the mean of the middle two.
  assert.equal(
    prototypeSpacing([
      [0, 0],
      [1, 0],
      [10, 0],
      [12, 0],
    ]),
    2.5,
  );
});

test('the stored blob gives back every field, the means within half an int8 step of their largest component', () => {
  const described = describeRegions(embedding, 2, map, ood, { width: 4, height: 3, scale: 7 }, kernel);
  const decoded = decodeDescriptors(encodeDescriptors(described), 'a test frame');
  assert.equal(decoded.dim, 2);
  assert.equal(decoded.scale, 7);
  assert.deepEqual(decoded.regions, described.regions);
  described.regions.forEach((_, i) => {
    const row = Array.from(described.means.subarray(i * 2, i * 2 + 2));
    const step = Math.max(...row.map(Math.abs)) / 127;
    row.forEach((value, d) => assert.ok(Math.abs(decoded.means[i * 2 + d]! - value) <= step / 2 + 1e-6));
  });
  assert.throws(() => decodeDescriptors(Buffer.alloc(5), 'frame 3 of analysis 1'), /frame 3 of analysis 1 are damaged/);
});

test('a search unpacks a blob into columns from any row, the same values as decoding it', () => {
  const described = describeRegions(embedding, 2, map, ood, { width: 4, height: 3, scale: 7 }, kernel);
  const blob = encodeDescriptors(described);
  const decoded = decodeDescriptors(blob, 'a test frame');
  const rows = 2 + decoded.regions.length;
  const columns = {
    means: new Float32Array(rows * 2),
    frameIndex: new Int32Array(rows),
    classIndex: new Uint8Array(rows),
    regionIndex: new Uint16Array(rows),
    pixels: new Uint32Array(rows),
    boxes: new Uint16Array(rows * 4),
  };
  assert.equal(unpackDescriptors(blob, 'a test frame', 17, columns, 2), decoded.regions.length);
  decoded.regions.forEach((region, i) => {
    const row = 2 + i;
    assert.equal(columns.frameIndex[row], 17);
    assert.equal(columns.classIndex[row], region.classIndex);
    assert.equal(columns.regionIndex[row], region.regionIndex);
    assert.equal(columns.pixels[row], region.pixels);
    assert.deepEqual(Array.from(columns.boxes.subarray(row * 4, row * 4 + 4)), [
      region.x,
      region.y,
      region.width,
      region.height,
    ]);
    assert.deepEqual(
      Array.from(columns.means.subarray(row * 2, row * 2 + 2)),
      Array.from(decoded.means.subarray(i * 2, i * 2 + 2)),
    );
  });
  assert.equal(columns.pixels[0], 0, 'rows before `row` untouched');
});
