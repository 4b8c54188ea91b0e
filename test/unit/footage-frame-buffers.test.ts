import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FrameBuffers } from '../../src-main/footage/index.js';

test('a buffer given back is taken again for a frame of its size, and only then', () => {
  const buffers = new FrameBuffers();
  const first = buffers.take(12);
  assert.equal(first.length, 12);
  buffers.give(first);
  assert.notEqual(buffers.take(6), first, 'a frame of another size gets a buffer of its own');
  assert.equal(buffers.take(12), first);
  assert.notEqual(buffers.take(12), first, 'a buffer is handed out once');
});

test('views into a larger buffer and buffers transferred away are not kept', () => {
  const buffers = new FrameBuffers();
  const view = new Uint8Array(new ArrayBuffer(24), 12, 12);
  buffers.give(view);
  assert.notEqual(buffers.take(12), view);
  const transferred = new Uint8Array(12);
  structuredClone(transferred, { transfer: [transferred.buffer] });
  buffers.give(transferred);
  assert.equal(buffers.take(12).length, 12);
  assert.notEqual(buffers.take(12), transferred);
});
