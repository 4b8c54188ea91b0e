import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  defaultEventSettings,
  defaultEventThreshold,
  detectEvents,
  type ScoredFrame,
} from '../../src-main/library/events.js';

/** Frames one second apart with the given scores. */
const frames = (scores: number[]): ScoredFrame[] =>
  scores.map((score, index) => ({ index, timeMs: index * 1000, score }));
// Persistence off (1 frame, 0 ms) except in the tests of persistence.
const settings = { threshold: 0.5, hysteresis: 0.1, minGapMs: 0, minFrames: 1, minDurationMs: 0 };

test('an event is a run of frames above the threshold, with its peak', () => {
  const events = detectEvents(frames([0.1, 0.6, 0.9, 0.7, 0.2, 0.1]), settings);
  assert.deepEqual(events, [
    {
      startFrame: 1,
      endFrame: 3,
      startMs: 1000,
      endMs: 3000,
      peakFrame: 2,
      peakMs: 2000,
      peakScore: 0.9,
      frameCount: 3,
    },
  ]);
});

test('hysteresis keeps an event open while the score stays above threshold - hysteresis', () => {
  const wavering = frames([0.6, 0.45, 0.55, 0.41, 0.39, 0.6]);
  const events = detectEvents(wavering, settings);
  assert.deepEqual(
    events.map((event) => [event.startFrame, event.endFrame]),
    [
      [0, 3],
      [5, 5],
    ],
  );
  const strict = detectEvents(wavering, { ...settings, hysteresis: 0 });
  assert.deepEqual(
    strict.map((event) => [event.startFrame, event.endFrame]),
    [
      [0, 0],
      [2, 2],
      [5, 5],
    ],
  );
});

test('a frame at exactly the threshold does not start an event', () => {
  assert.deepEqual(detectEvents(frames([0.5, 0.5, 0.2]), settings), []);
});

test('events closer than minGapMs merge, keeping the higher peak; farther ones stay apart', () => {
  const scores = frames([0.8, 0.1, 0.1, 0.95, 0.1, 0.1, 0.1, 0.1, 0.7]);
  const merged = detectEvents(scores, { ...settings, minGapMs: 3001 });
  assert.deepEqual(
    merged.map((event) => [event.startFrame, event.endFrame, event.peakFrame, event.frameCount]),
    [
      [0, 3, 3, 4],
      [8, 8, 8, 1],
    ],
  );
  const apart = detectEvents(scores, { ...settings, minGapMs: 3000 });
  assert.equal(apart.length, 3);
});

test('an event still open at the end of the drive is closed at the last frame', () => {
  const events = detectEvents(frames([0.1, 0.7, 0.8]), settings);
  assert.deepEqual(
    events.map((event) => [event.startFrame, event.endFrame, event.endMs]),
    [[1, 2, 2000]],
  );
});

test('persistence: a run needs minFrames analysed frames, and minDurationMs from its first to its last frame', () => {
  const scores = frames([0.9, 0.1, 0.8, 0.7, 0.1, 0.6, 0.6, 0.6, 0.1]);
  const spans = (extra: object) =>
    detectEvents(scores, { ...settings, ...extra }).map((event) => [event.startFrame, event.endFrame]);
  assert.deepEqual(spans({ minFrames: 2 }), [
    [2, 3],
    [5, 7],
  ]);
  assert.deepEqual(spans({ minFrames: 3 }), [[5, 7]]);
  assert.deepEqual(spans({ minDurationMs: 1000 }), [
    [2, 3],
    [5, 7],
  ]);
  assert.deepEqual(spans({ minDurationMs: 1001 }), [[5, 7]], 'frames 2-3 last 1000 ms');
});

test('persistence is judged before merging: two one-frame blinks close together are no event', () => {
  const blinks = frames([0.1, 0.9, 0.1, 0.9, 0.1]);
  assert.deepEqual(detectEvents(blinks, { ...settings, minGapMs: 5000, minFrames: 2 }), []);
  assert.equal(detectEvents(blinks, { ...settings, minGapMs: 5000 }).length, 1, 'without persistence they merge');
});

test('persistence at a high sampling rate: two frames 40 ms apart are a blink under the default 500 ms', () => {
  const fast = [0.1, 0.9, 0.9, 0.1].map((score, index) => ({ index, timeMs: index * 40, score }));
  const defaults = defaultEventSettings(0.5, 0.3);
  assert.deepEqual([defaults.hysteresis, defaults.minFrames, defaults.minDurationMs], [0.05, 2, 500]);
  assert.deepEqual(detectEvents(fast, defaults), []);
  const long = Array.from({ length: 20 }, (_, index) => ({ index, timeMs: index * 40, score: 0.9 }));
  assert.equal(detectEvents(long, defaults).length, 1, '20 frames over 760 ms persist');
});

test('no frames, no events', () => {
  assert.deepEqual(detectEvents([], settings), []);
});

test('default event threshold: the calibrated one, lowered to the top tenth of a drive that scores lower', () => {
  const drive = Array.from({ length: 101 }, (_, i) => i / 100); // 0.00 .. 1.00
  assert.equal(defaultEventThreshold(0.5, drive), 0.5, 'half the frames pass the calibrated threshold: it stands');
  assert.equal(defaultEventThreshold(0.95, drive), 0.9, 'only 5% pass: the 90th percentile of the drive instead');
  assert.equal(defaultEventThreshold(0.7, []), 0.7);
});
