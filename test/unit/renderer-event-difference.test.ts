import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EventInfo } from '../../src-shared/contract/index.js';
import { eventDifference } from '../../src-renderer/src/compare/event-difference.js';

let nextId = 1;
const event = (analysisId: number, startMs: number, endMs: number): EventInfo => ({
  id: nextId++,
  analysisId,
  startMs,
  endMs,
  peakMs: startMs,
  peakScore: 0.5,
  peakFrame: 0,
  frameCount: 1,
});
const a = (startMs: number, endMs: number) => event(1, startMs, endMs);
const b = (startMs: number, endMs: number) => event(2, startMs, endMs);
const ids = (events: EventInfo[]) => events.map((item) => item.id);

test('events overlapping in time are found by both; the rest belong to one side, in drive order', () => {
  const eventsA = [a(5000, 6000), a(0, 1000), a(9000, 9500)];
  const eventsB = [b(500, 2000), b(3000, 4000), b(9500, 9800)];
  const { stretches, counts } = eventDifference(eventsA, eventsB);
  assert.deepEqual(
    stretches.map((stretch) => [stretch.kind, stretch.startMs, stretch.endMs]),
    [
      ['both', 0, 2000],
      ['only-b', 3000, 4000],
      ['only-a', 5000, 6000],
      // Spans include both ends: a B event starting on the last frame of an A event overlaps it.
      ['both', 9000, 9800],
    ],
  );
  assert.deepEqual(counts, { both: 2, 'only-a': 1, 'only-b': 1 });
  assert.deepEqual(ids(stretches[0]!.a), [eventsA[1]!.id]);
  assert.deepEqual(ids(stretches[0]!.b), [eventsB[0]!.id]);
});

test('one long event of B chains the short events of A it covers into one stretch', () => {
  const eventsA = [a(0, 100), a(200, 300), a(1000, 1100)];
  const eventsB = [b(50, 250)];
  const { stretches, counts } = eventDifference(eventsA, eventsB);
  assert.equal(stretches.length, 2);
  assert.deepEqual(ids(stretches[0]!.a), [eventsA[0]!.id, eventsA[1]!.id]);
  assert.deepEqual([stretches[0]!.startMs, stretches[0]!.endMs], [0, 300]);
  assert.deepEqual(counts, { both: 1, 'only-a': 1, 'only-b': 0 });
});

test('an event touching nothing stays alone, and no events give no stretches', () => {
  assert.deepEqual(eventDifference([], []).stretches, []);
  const { counts } = eventDifference([a(0, 10)], [b(11, 20)]);
  assert.deepEqual(counts, { both: 0, 'only-a': 1, 'only-b': 1 });
});
