// The fleet's fault tests and benchmark judge a run by differences() against an uninterrupted run: it must
// see every way a run can go wrong, or those tests could not fail.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { differences, type StoredRun } from '../../bench/fleet-harness.js';

const reference: StoredRun = {
  status: 'done',
  framesDone: 4,
  frameRows: 4,
  timesMs: [0, 1000, 2000, 3000],
  scores: [0.1, 0.2, 0.3, 0.4],
};

test('the same frames: no differences', () => {
  assert.deepEqual(differences(reference, structuredClone(reference)), []);
});

test('a frame stored twice, a frame lost, a count, a status or a score that differs: each is named', () => {
  const twice = { ...reference, framesDone: 5, frameRows: 5, timesMs: [0, 1000, 1000, 2000, 3000] };
  assert.match(differences(reference, twice).join('; '), /framesDone 5.*1 frames stored twice \(times 1000 ms/);
  const lost = { ...reference, framesDone: 3, frameRows: 3, timesMs: [0, 1000, 3000], scores: [0.1, 0.2, 0.4] };
  assert.match(differences(reference, lost).join('; '), /1 frames lost \(times 2000 ms/);
  assert.match(differences(reference, { ...reference, status: 'partial' }).join(), /status partial/);
  assert.match(
    differences(reference, { ...reference, scores: [0.1, 0.2, 0.35, 0.4] }).join(),
    /1 frames with another time or score/,
  );
  assert.match(
    differences(reference, { ...reference, timesMs: [0, 1000, 2500, 3000] }).join('; '),
    /1 frames lost.*1 frames at times/,
  );
});
