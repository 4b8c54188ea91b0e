import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  countMarked,
  fillPolygon,
  MaskHistory,
  stampDisc,
  strokeSegment,
} from '../../src-renderer/src/teaching/mask-editor.js';

const size = { width: 10, height: 8 };

test('a brush disc marks the pixels within its radius and the eraser clears them', () => {
  const mask = new Uint8Array(80);
  stampDisc(mask, size, 5, 4, 1, 1);
  assert.equal(countMarked(mask), 5); // the centre and its 4 neighbours
  stampDisc(mask, size, 5, 4, 0.5, 0);
  assert.equal(countMarked(mask), 4);
  stampDisc(mask, size, 0, 0, 3, 1); // clipped at the edge, no wrap-around
  assert.equal(mask[9], 0);
});

test('a fast stroke leaves no gap between its ends', () => {
  const mask = new Uint8Array(80);
  strokeSegment(mask, size, [0, 4], [9, 4], 1, 1);
  for (let x = 0; x < 10; x++) assert.equal(mask[4 * 10 + x], 1, `pixel ${x}`);
});

test('a polygon fills the pixels whose centres are inside it', () => {
  const mask = new Uint8Array(80);
  fillPolygon(
    mask,
    size,
    [
      [2, 2],
      [6, 2],
      [6, 5],
      [2, 5],
    ],
    1,
  );
  assert.equal(countMarked(mask), 4 * 3);
  assert.equal(mask[2 * 10 + 2], 1);
  assert.equal(mask[5 * 10 + 2], 0);
});

test('undo and redo step through whole-mask snapshots; a new edit clears redo', () => {
  const history = new MaskHistory(size);
  history.checkpoint();
  stampDisc(history.mask, size, 5, 4, 1, 1);
  history.checkpoint();
  stampDisc(history.mask, size, 1, 1, 1, 1);
  assert.equal(countMarked(history.mask), 10);
  history.undo();
  assert.equal(countMarked(history.mask), 5);
  history.undo();
  assert.equal(countMarked(history.mask), 0);
  assert.equal(history.canUndo, false);
  history.redo();
  assert.equal(countMarked(history.mask), 5);
  history.replace(new Uint8Array(80).fill(1));
  assert.equal(history.canRedo, false);
  history.undo();
  assert.equal(countMarked(history.mask), 5);
});
