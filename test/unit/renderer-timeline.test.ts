import assert from 'node:assert/strict';
import { test } from 'node:test';
import { envelope, lowerBound, nearestFrame, scoreAxis } from '../../src-renderer/src/session/timeline-draw.js';

test('the envelope keeps every spike: the max of each pixel column over all frames in it', () => {
  const times = Array.from({ length: 100_000 }, (_, index) => index * 100);
  const scores = times.map((_, index) => (index === 54_321 ? 0.99 : 0.2));
  const env = envelope(times, scores, { startMs: 0, endMs: 10_000_000 }, 800);
  assert.equal(env.columns, 800);
  const peakColumn = Math.floor(((54_321 * 100) / 10_000_000) * 800);
  assert.ok(Math.abs(env.max[peakColumn]! - 0.99) < 1e-6);
  assert.equal(Array.from(env.max).filter((value) => value > 0.5).length, 1);
  assert.ok(
    Array.from(env.max).every((value) => !Number.isNaN(value)),
    'every column holds frames at this density',
  );
});

test('a zoomed view leaves columns without frames empty and ignores frames outside it', () => {
  const times = [0, 1000, 2000, 3000];
  const env = envelope(times, [0.1, 0.9, 0.3, 0.8], { startMs: 900, endMs: 2100 }, 12);
  const filled = Array.from(env.max).filter((value) => !Number.isNaN(value));
  assert.deepEqual(
    filled.map((value) => Math.round(value * 10) / 10),
    [0.9, 0.3],
  );
});

test('seeking by time finds the nearest frame', () => {
  const times = [0, 100, 250, 1000];
  assert.equal(lowerBound(times, 101), 2);
  assert.equal(nearestFrame(times, 170), 1);
  assert.equal(nearestFrame(times, 180), 2);
  assert.equal(nearestFrame(times, -50), 0);
  assert.equal(nearestFrame(times, 5000), 3);
});

test('the score axis spans the data and the threshold, at least 0.1 tall, inside 0..1', () => {
  const flat = scoreAxis([0.79, 0.8, 0.81], 0.77);
  assert.ok(flat.low <= 0.77 && flat.high >= 0.81 && flat.high - flat.low >= 0.1 - 1e-9);
  assert.ok(flat.high - flat.low < 0.2, 'a flat drive is not squeezed into a full 0..1 axis');
  const wide = scoreAxis([0, 1], 0.5);
  assert.deepEqual(wide, { low: 0, high: 1 });
});
