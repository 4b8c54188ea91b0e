import assert from 'node:assert/strict';
import { test } from 'node:test';
import { labelComponents } from '../../src-main/engine/index.js';
import { cellEdges, traceOutline } from '../../src-main/export/formats/contour.js';
import { encodeMask } from '../../src-main/export/formats/rle.js';
import { nearestCells, upsampleValues } from '../../src-main/export/images.js';
import { decodeCocoRle, fillHoles, fillPolygon } from '../helpers/export-readers.js';
import { random } from '../helpers/random.js';

function randomMask(width: number, height: number, density: number, seed: number): Uint8Array {
  const next = random(seed);
  return new Uint8Array(width * height).map(() => (next() < density ? 1 : 0));
}

test('COCO RLE: column-major runs starting outside, decoded by the COCO reader to the same mask', () => {
  for (let seed = 1; seed <= 40; seed++) {
    const [width, height] = [3 + (seed % 17), 2 + (seed % 11)];
    const mask = randomMask(width, height, (seed % 9) / 8, seed);
    const { rle, area, bbox } = encodeMask(mask, width, height, 1);
    assert.deepEqual(rle.size, [height, width]);
    assert.deepEqual(decodeCocoRle(rle), mask, `seed ${seed}`);
    assert.equal(
      area,
      mask.reduce((sum, v) => sum + v, 0),
    );
    if (area === 0) assert.deepEqual(bbox, [0, 0, 0, 0]);
    else {
      const xs = [...mask.keys()].filter((i) => mask[i]).map((i) => i % width);
      const ys = [...mask.keys()].filter((i) => mask[i]).map((i) => Math.floor(i / width));
      assert.deepEqual(bbox, [
        Math.min(...xs),
        Math.min(...ys),
        Math.max(...xs) - Math.min(...xs) + 1,
        Math.max(...ys) - Math.min(...ys) + 1,
      ]);
    }
  }
  // Column-major: a 2x2 mask with only its top-right pixel set has runs 2 outside, 1 inside, 1 outside.
  assert.deepEqual(decodeCocoRle({ size: [2, 2], counts: [2, 1, 1] }), Uint8Array.from([0, 1, 0, 0]));
  assert.equal(encodeMask(Uint8Array.from([0, 1, 0, 0]), 2, 2, 1).rle.counts, '211');
});

test('an outline fills to its 8-connected region with holes closed, at the map size and scaled to the source', () => {
  // Diagonal pinches, a hole, and a thin spur.
  const pinched = Uint8Array.from([
    1,
    0,
    0,
    0,
    0,
    0, //
    0,
    1,
    1,
    1,
    0,
    0, //
    0,
    1,
    0,
    1,
    0,
    1, //
    0,
    1,
    1,
    1,
    1,
    0, //
    0,
    0,
    0,
    0,
    0,
    0,
  ]);
  const cases: [Uint8Array, number, number][] = [[pinched, 6, 5]];
  for (let seed = 1; seed <= 30; seed++) cases.push([randomMask(9, 7, 0.55, seed), 9, 7]);
  for (const [mask, width, height] of cases) {
    const { labels, count } = labelComponents(mask, 1, width, height);
    for (let label = 1; label <= count; label++) {
      const outline = traceOutline(labels, label, width, height);
      const want = fillHoles(
        Uint8Array.from(labels, (value) => (value === label ? 1 : 0)),
        width,
        height,
      );
      assert.deepEqual(fillPolygon(outline, width, height), want, `label ${label} of ${[...mask].join('')}`);
      // Scaled to a source of another size, by the overlays' rule, the outline still covers exactly its pixels.
      const [sourceWidth, sourceHeight] = [Math.round(width * 2.3), Math.round(height * 1.6)];
      const [xEdges, yEdges] = [cellEdges(sourceWidth, width), cellEdges(sourceHeight, height)];
      const scaledOutline = outline.map(([x, y]) => [xEdges[x]!, yEdges[y]!] as [number, number]);
      assert.deepEqual(
        fillPolygon(scaledOutline, sourceWidth, sourceHeight),
        upsampleValues(want, { width, height }, sourceWidth, sourceHeight),
      );
    }
  }
  // The pinched shape is one 8-connected region and one polygon through both pinches.
  assert.equal(labelComponents(pinched, 1, 6, 5).count, 1);
});

test('cell edges are where nearestCells moves to the next cell', () => {
  for (const [size, cells] of [
    [800, 480],
    [450, 360],
    [100, 480],
    [7, 3],
  ] as const) {
    const cellOf = nearestCells(size, cells);
    const edges = cellEdges(size, cells);
    for (let x = 0; x < size; x++)
      assert.ok(edges[cellOf[x]!]! <= x && x < edges[cellOf[x]! + 1]!, `${size}/${cells} at ${x}`);
  }
});
