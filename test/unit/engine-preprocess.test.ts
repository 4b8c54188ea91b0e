import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PNG } from 'pngjs';
import { encodeGrayPng } from '../../src-main/engine/png.js';
import { Preprocessor } from '../../src-main/engine/preprocess.js';

const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];
const normalise = (value: number, c: number) => (value / 255 - MEAN[c]!) / STD[c]!;

/** A width x 1 frame whose three channels hold the given values (plus 10, 20 for G and B). */
function rowFrame(values: number[]) {
  const data = new Uint8Array(values.length * 3);
  values.forEach((value, i) => data.set([value, value + 10, value + 20], i * 3));
  return { width: values.length, height: 1, data };
}

test('preprocess: same size only normalises, into NCHW planes', () => {
  const pre = new Preprocessor(2, 1, MEAN, STD);
  const tensor = pre.run(rowFrame([0, 255 - 20]));
  const expected = [
    normalise(0, 0),
    normalise(235, 0),
    normalise(10, 1),
    normalise(245, 1),
    normalise(20, 2),
    normalise(255, 2),
  ];
  expected.forEach((value, i) => assert.ok(Math.abs(tensor[i]! - value) < 1e-5, `element ${i}`));
});

test('preprocess: bilinear resize follows PyTorch (align_corners=false, edge clamp) up and down', () => {
  const up = new Preprocessor(4, 1, MEAN, STD).run(rowFrame([0, 200]));
  // source x = (i + 0.5) / 2 - 0.5, clamped: 0, 0.25, 0.75, 1
  [0, 50, 150, 200].forEach((value, i) => assert.ok(Math.abs(up[i]! - normalise(value, 0)) < 1e-5, `up ${i}`));
  const down = new Preprocessor(2, 1, MEAN, STD).run(rowFrame([0, 100, 200, 220]));
  // source x = (i + 0.5) * 2 - 0.5 = 0.5, 2.5: means of neighbours
  [50, 210].forEach((value, i) => assert.ok(Math.abs(down[i]! - normalise(value, 0)) < 1e-5, `down ${i}`));
});

test('preprocess: reuses one buffer across frames of any size', () => {
  const pre = new Preprocessor(4, 1, MEAN, STD);
  const first = pre.run(rowFrame([0, 200]));
  const second = pre.run(rowFrame([1, 2, 3, 4, 5, 6]));
  assert.equal(first, second);
});

test('preprocess: frames of the wrong size or channel count are refused with what they hold', () => {
  const pre = new Preprocessor(4, 1, MEAN, STD);
  assert.throws(
    () => pre.run({ width: 2, height: 2, data: new Uint8Array(16) }),
    /Frame 2x2 must hold 12 bytes of RGB \(3 channels\), got 4 channels per pixel/,
  );
  assert.throws(() => pre.run({ width: 2, height: 2, data: new Uint8Array(7) }), /got 7 bytes/);
  assert.throws(() => pre.run({ width: 0, height: 2, data: new Uint8Array(0) }), /not a positive integer size/);
});

test('png: an 8-bit grayscale PNG that decoders read back exactly', () => {
  const values = Uint8Array.from({ length: 7 * 5 }, (_, i) => (i * 37) % 256);
  const decoded = PNG.sync.read(encodeGrayPng(values, 7, 5));
  assert.equal(decoded.width, 7);
  assert.equal(decoded.height, 5);
  values.forEach((value, i) => assert.equal(decoded.data[i * 4], value, `pixel ${i}`));
});
