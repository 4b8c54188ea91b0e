import assert from 'node:assert/strict';
import { test } from 'node:test';
import { driveTimeOf, sourceAt, whyNotPlayable } from '../../src-renderer/src/session/source-video.js';

// Two clips end to end: 0-60 s and 60-90 s of the drive.
const clips = [
  { offsetMs: 0, durationMs: 60_000 },
  { offsetMs: 60_000, durationMs: 30_000 },
];

test('drive time maps to the clip that holds it and back', () => {
  assert.deepEqual(sourceAt(clips, 12_500), { position: 0, seconds: 12.5 });
  assert.deepEqual(sourceAt(clips, 60_000), { position: 1, seconds: 0 });
  assert.deepEqual(sourceAt(clips, 75_250), { position: 1, seconds: 15.25 });
  for (const ms of [0, 12_500, 59_999, 60_000, 89_000]) assert.equal(driveTimeOf(clips, sourceAt(clips, ms)), ms);
});

test('times outside the drive are held at its ends', () => {
  assert.deepEqual(sourceAt(clips, -500), { position: 0, seconds: 0 });
  assert.deepEqual(sourceAt(clips, 120_000), { position: 1, seconds: 30 });
  assert.deepEqual(sourceAt([], 1000), { position: 0, seconds: 0 });
});

test('image folders and empty sessions are not played from a video, and say why', () => {
  assert.equal(whyNotPlayable([{ kind: 'video' }, { kind: 'video' }]), undefined);
  assert.match(whyNotPlayable([{ kind: 'video' }, { kind: 'image-folder' }]) ?? '', /Image-folder.*analysed frames/);
  assert.match(whyNotPlayable([]) ?? '', /No source video/);
});
