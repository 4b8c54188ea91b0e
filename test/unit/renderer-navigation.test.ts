import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EventInfo } from '../../src-shared/contract/index.js';
import { eventToward, frameAtOrBefore, stepSpeed } from '../../src-renderer/src/session/navigation.js';

const event = (id: number, startFrame: number, peakFrame: number, endFrame: number): EventInfo => ({
  id,
  analysisId: 1,
  startMs: startFrame * 1000,
  endMs: endFrame * 1000,
  peakMs: peakFrame * 1000,
  peakScore: 0.9,
  peakFrame,
  frameCount: endFrame - startFrame + 1,
});

// Ranked by peak score, as events.list returns them: not in drive order.
const events = [event(2, 40, 44, 50), event(1, 0, 3, 8), event(3, 70, 71, 75)];

test('N visits every event by its peak in drive order, P comes back, from inside events too', () => {
  const visited: number[] = [];
  let frame = 0;
  for (let next = eventToward(events, frame, 1); next; next = eventToward(events, frame, 1)) {
    visited.push(next.id);
    frame = next.peakFrame;
  }
  assert.deepEqual(visited, [1, 2, 3], 'an event starting at frame 0 is not skipped by N from frame 0');
  const back: number[] = [];
  for (let previous = eventToward(events, frame, -1); previous; previous = eventToward(events, frame, -1)) {
    back.push(previous.id);
    frame = previous.peakFrame;
  }
  assert.deepEqual(back, [2, 1]);
  // Inside event 2 before its peak: N goes to its peak, P to the event before.
  assert.equal(eventToward(events, 42, 1)?.id, 2);
  assert.equal(eventToward(events, 42, -1)?.id, 1);
  // N, N, P from frame 0 lands on three different frames' worth of events, not the same one.
  const n1 = eventToward(events, 0, 1)!;
  const n2 = eventToward(events, n1.peakFrame, 1)!;
  const p = eventToward(events, n2.peakFrame, -1)!;
  assert.deepEqual([n1.id, n2.id, p.id], [1, 2, 1]);
  assert.equal(eventToward([], 0, 1), undefined);
});

test('the frame at a time is the last one shown at or before it', () => {
  const times = [0, 40, 80, 120];
  assert.equal(frameAtOrBefore(times, -5), 0);
  assert.equal(frameAtOrBefore(times, 0), 0);
  assert.equal(frameAtOrBefore(times, 79.9), 1);
  assert.equal(frameAtOrBefore(times, 80), 2);
  assert.equal(frameAtOrBefore(times, 10_000), 3);
});

test('speeds step through 0.25x to 4x and stop at the ends', () => {
  assert.equal(stepSpeed(1, 1), 2);
  assert.equal(stepSpeed(4, 1), 4);
  assert.equal(stepSpeed(0.25, -1), 0.25);
  assert.equal(stepSpeed(1, -1), 0.5);
});
