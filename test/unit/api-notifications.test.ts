import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NotificationBus } from '../../src-main/api/notifications.js';
import type { AnalysisInfo } from '../../src-shared/contract/index.js';

test('a notification that breaks the contract is logged and not sent; emit does not throw', () => {
  const log: string[] = [];
  const bus = new NotificationBus((line) => log.push(line));
  const received: unknown[] = [];
  bus.subscribe((_event, payload) => received.push(payload));
  // A class index past 254, as an analysis with 300 taught classes recorded before imports were checked.
  const broken: AnalysisInfo = {
    id: 1,
    sessionId: 1,
    modelName: 'camvid-open',
    modelSha256: 'a'.repeat(64),
    knowledgeVersion: 1,
    sampleFps: 2,
    threshold: 0.7,
    frameScore: 'regions',
    status: 'queued',
    framesDone: 0,
    framesTotal: 10,
    fps: 0,
    etaSeconds: null,
    message: null,
    classes: [{ index: 300, name: 'cone 291', color: [0, 0, 0], taught: true }],
    createdAt: new Date().toISOString(),
    finishedAt: null,
  };
  assert.doesNotThrow(() => bus.emit('analysis.progress', broken));
  assert.deepEqual(received, []);
  assert.equal(log.length, 1);
  assert.match(log[0]!, /notification analysis\.progress not sent, it breaks the API contract: .*classes\.0\.index/);
});

test('a listener that throws is logged; the other listeners still get the notification', () => {
  const log: string[] = [];
  const bus = new NotificationBus((line) => log.push(line));
  const received: unknown[] = [];
  bus.subscribe(() => {
    throw new Error('socket gone');
  });
  bus.subscribe((_event, payload) => received.push(payload));
  bus.emit('sessions.changed', { sessionId: 3 });
  assert.deepEqual(received, [{ sessionId: 3 }]);
  assert.match(log[0]!, /a listener of notification sessions\.changed failed: socket gone/);
});
