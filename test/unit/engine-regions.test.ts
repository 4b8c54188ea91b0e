import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ModelCard, regionFrameThreshold } from '../../src-main/engine/model-card.js';
import { labelComponents } from '../../src-main/engine/regions.js';
import { UNKNOWN_CLASS } from '../../src-main/engine/types.js';
import {
  chessboardDistance,
  findUnknownRegions,
  isDrivableName,
  minRegionPixels,
  regionFrameScore,
  regionPlaces,
} from '../../src-main/engine/unknown-regions.js';
import { repoRoot } from '../helpers/cli.js';

// Hand-made class maps: s sky (0), b building (1), r road (3), p pavement (4), # unknown.
const CLASS_OF: Record<string, number> = { s: 0, b: 1, r: 3, p: 4, '#': UNKNOWN_CLASS };
const places = { drivable: [3], sky: [0] };

function classMap(rows: string[]): Uint8Array {
  return Uint8Array.from(rows.join('').split(''), (ch) => CLASS_OF[ch]!);
}

const scene = [
  '##ssssssssssss', // top-left corner, in sky: sky-or-top
  'ssssss##ssssss', // in the sky, not at the border
  'bbbbbbbbbbbbbb',
  'b##bbbbbbbbbbb', // among buildings, three rows above the road: away
  'bbbbbbbbbbbb##', // a third of its boundary on the road, the road 1 px below: beside
  'pppppppppppp##',
  'rrrrrrrrrrrrrr',
  'rrrr##rrrrrrrr', // on the road, at the bottom border
  'rrrr##rrrrrrrr',
];

/** The OOD map of the scene: each region its own score; the road blob's pixels differ so the mean is tested. */
function sceneScores(map: Uint8Array): Float32Array {
  const ood = new Float32Array(map.length).fill(0.1);
  const set = (x: number, y: number, value: number) => (ood[y * 14 + x] = value);
  [0, 1].forEach((x) => set(x, 0, 0.9));
  [6, 7].forEach((x) => set(x, 1, 0.95));
  [1, 2].forEach((x) => set(x, 3, 0.8));
  [12, 13].forEach((x) => [4, 5].forEach((y) => set(x, y, 0.85)));
  set(4, 7, 0.8);
  set(5, 7, 0.84);
  set(4, 8, 0.82);
  set(5, 8, 0.82);
  return ood;
}

test('components are numbered in raster order of their first pixel', () => {
  const map = classMap(['r#r#', 'r#rr', 'rrr#']);
  const { labels, count } = labelComponents(map, UNKNOWN_CLASS, 4, 3);
  assert.equal(count, 3);
  assert.deepEqual(Array.from(labels), [0, 1, 0, 2, 0, 1, 0, 0, 0, 0, 0, 3]);
});

test('regions: size, box, mean score, borders and where they lie, in raster order', () => {
  const map = classMap(scene);
  const regions = findUnknownRegions(map, sceneScores(map), places, 14, 9);
  const f = Math.fround;
  assert.deepEqual(
    regions.map((r) => [r.pixels, r.x, r.y, r.width, r.height, r.border, r.drivable, r.inSky, r.place]),
    [
      [2, 0, 0, 2, 1, ['top', 'left'], 'away', true, 'sky-or-top'],
      [2, 6, 1, 2, 1, [], 'away', true, 'sky-or-top'],
      [2, 1, 3, 2, 1, [], 'away', false, 'elsewhere'],
      [4, 12, 4, 2, 2, ['right'], 'beside', false, 'road'],
      [4, 4, 7, 2, 2, ['bottom'], 'on', false, 'road'],
    ],
  );
  assert.deepEqual(
    regions.map((r) => r.meanScore),
    [f(0.9), f(0.95), f(0.8), f(0.85), f((f(0.8) + f(0.84) + f(0.82) + f(0.82)) / 4)],
  );
  // Weights 0.5 (sky or top border), 0.75 (elsewhere), 1 (on or beside the road).
  assert.deepEqual(
    regions.map((r) => r.score),
    [f(0.5 * f(0.9)), f(0.5 * f(0.95)), f(0.75 * f(0.8)), f(0.85), regions[4]!.meanScore],
  );
  assert.equal(regionFrameScore(regions), f(0.85), 'the region beside the road, not the brighter one in the sky');
});

test('regions under the minimum size score 0; the minimum is 500 px at 480x360 and scales with the map', () => {
  assert.deepEqual([minRegionPixels(480, 360), minRegionPixels(960, 720), minRegionPixels(48, 36)], [500, 2000, 5]);
  const width = 48;
  const map = new Uint8Array(width * 36).fill(3);
  const ood = new Float32Array(map.length).fill(0.9);
  for (const x of [10, 11, 12, 13]) map[20 * width + x] = UNKNOWN_CLASS; // 4 px
  for (const x of [30, 31, 32]) for (const y of [20, 21]) map[y * width + x] = UNKNOWN_CLASS; // 6 px
  const regions = findUnknownRegions(map, ood, places, width, 36);
  assert.deepEqual(
    regions.map((r) => [r.pixels, r.score]),
    [
      [4, 0],
      [6, Math.fround(0.9)],
    ],
  );
  assert.equal(regionFrameScore([]), 0, 'no region, score 0');
});

test('a frame without a drivable class has no region by the road', () => {
  const map = classMap(scene);
  const regions = findUnknownRegions(map, sceneScores(map), { drivable: [], sky: [0] }, 14, 9);
  assert.ok(regions.every((region) => region.drivable === 'away'));
});

test('chessboard distance is exact: brute force over every pixel agrees', () => {
  const width = 23;
  const height = 17;
  const map = new Uint8Array(width * height);
  let seed = 7;
  for (let i = 0; i < map.length; i++) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    map[i] = seed % 29 === 0 ? 3 : 1;
  }
  const distance = chessboardDistance(map, [3], width, height);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      let best = Infinity;
      for (let v = 0; v < height; v++)
        for (let u = 0; u < width; u++)
          if (map[v * width + u] === 3) best = Math.min(best, Math.max(Math.abs(u - x), Math.abs(v - y)));
      assert.equal(distance[y * width + x], best, `pixel ${x},${y}`);
    }
});

test('drivable and sky classes are found by name, CamVid and Cityscapes alike', () => {
  const camvid = ['sky', 'building', 'pole', 'road', 'pavement', 'tree', 'sign', 'fence', 'car'];
  assert.deepEqual(regionPlaces(camvid.map((name, index) => ({ index, name }))), { drivable: [3], sky: [0] });
  const cityscapes = ['road', 'sidewalk', 'building', 'wall', 'fence', 'pole', 'traffic light', 'sky', 'car'];
  assert.deepEqual(regionPlaces(cityscapes.map((name, index) => ({ index, name }))), { drivable: [0], sky: [7] });
  assert.ok(isDrivableName('Lane Marking - General') && isDrivableName('parking') && isDrivableName('Road'));
  assert.ok(!isDrivableName('sidewalk') && !isDrivableName('railroad') && !isDrivableName('pavement'));
});

test('a card calibrated on the old pixel-percentile frame score is refused for analyses, with what to run', () => {
  const shipped = JSON.parse(readFileSync(join(repoRoot, 'models', 'camvid-open.json'), 'utf8')) as {
    scores: Record<string, unknown>;
  };
  const card = ModelCard.parse(shipped);
  assert.equal(regionFrameThreshold(card), card.scores.frameThreshold);
  const { frameScore: _frameScore, ...oldScores } = shipped.scores;
  const old = ModelCard.parse({ ...shipped, scores: oldScores });
  assert.throws(
    () => regionFrameThreshold(old),
    /camvid-open's frame threshold was calibrated on the old pixel-percentile frame score: run .*-m tools\.recalibrate_frame_threshold MODELS_DIR camvid-open\) with MODELS_DIR absolute or relative to training\//,
  );
});
