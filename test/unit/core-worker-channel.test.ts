import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { AppError } from '../../src-main/core/errors.js';
import { WorkerChannel, type WorkerReply } from '../../src-main/core/worker-channel.js';

type Request = { id: number; value: number };
type Reply = WorkerReply & { doubled?: number };

// Doubles positive values after a delay that shrinks with the value (so replies come back out of order),
// answers 0 with a failure, and exits on a negative value.
const workerSource = `
const { parentPort } = require('node:worker_threads');
parentPort.on('message', ({ id, value }) => {
  if (value < 0) process.exit(3);
  if (value === 0) return parentPort.postMessage({ id, ok: false, code: 'bad-value', message: 'zero' });
  setTimeout(() => parentPort.postMessage({ id, ok: true, doubled: 2 * value }), 40 / value);
});`;

const channel = () => new WorkerChannel<Request, Reply>(new Worker(workerSource, { eval: true }), 'the doubler');

test('replies reach their own requests, in whatever order they arrive', async () => {
  const doubler = channel();
  const replies = await Promise.all([1, 2, 4].map((value) => doubler.request({ id: 0, value })));
  assert.deepEqual(
    replies.map((reply) => reply.doubled),
    [2, 4, 8],
  );
  assert.equal(doubler.load, 0);
  await doubler.close();
});

test('a failed reply rejects as an AppError with its code; the channel still works', async () => {
  const doubler = channel();
  await assert.rejects(doubler.request({ id: 0, value: 0 }), (error: unknown) => {
    assert.ok(error instanceof AppError);
    assert.equal(error.code, 'bad-value');
    return true;
  });
  assert.equal((await doubler.request({ id: 0, value: 3 })).doubled, 6);
  await doubler.close();
});

test('a thread that stops rejects what waits and every later request, naming the thread', async () => {
  const doubler = channel();
  const waiting = doubler.request({ id: 0, value: 1 });
  await assert.rejects(doubler.request({ id: 0, value: -1 }), /the doubler stopped \(exit code 3\)/);
  await assert.rejects(waiting, /the doubler stopped/);
  await assert.rejects(doubler.request({ id: 0, value: 2 }), /the doubler stopped/);
});

test('after close, requests reject instead of waiting forever', async () => {
  const doubler = channel();
  await doubler.close();
  await assert.rejects(doubler.request({ id: 0, value: 1 }), /the doubler was closed/);
});
