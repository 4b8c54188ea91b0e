import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { ApiClient, PreloadBridge } from '../../src-shared/contract/index.js';
import { createDispatcher, handlers } from '../../src-main/api/index.js';
import type { AppContext } from '../../src-main/api/context.js';
import { createApp } from '../../src-main/app/create-app.js';
import { appVersion } from '../../src-main/core/version.js';
import { driveLikeFrame, writeSyntheticSession } from '../helpers/synthetic-library.js';
import { openLibrary } from '../../src-main/library/index.js';
import { ApiCallError } from '../../src-renderer/src/api/errors.js';
import { createElectronClient } from '../../src-renderer/src/api/electron-client.js';

let context: AppContext;
let analysisId: number;

/**
 * The preload bridge as the main side answers it: the real dispatcher's envelope, copied the way Electron's IPC
 * copies it (structured clone). Notifications, paths and dialogs are Electron's own and not part of this test.
 */
function bridgeTo(answer: (method: string, request: unknown) => Promise<unknown>): PreloadBridge {
  return {
    call: async (method, request) => structuredClone(await answer(method, request)) as never,
    onNotification: () => () => undefined,
    pathForFile: () => '',
    pickPaths: async () => [],
  };
}

let client: ApiClient;

before(async () => {
  const libraryPath = join(mkdtempSync(join(tmpdir(), 'dml-ipc-')), 'lib.sqlite');
  const store = await openLibrary(libraryPath);
  analysisId = (await writeSyntheticSession(store, { frames: 1000, frame: driveLikeFrame })).analysisId;
  await store.close();
  context = await createApp({ host: 'electron', libraryPath });
  const dispatch = createDispatcher(handlers, context);
  client = createElectronClient(bridgeTo((method, request) => dispatch(method, request)));
});

after(() => context.close());

test('an answer crosses the bridge as a value, packed arrays unpacked as they were stored', async () => {
  assert.equal((await client.call('health', {})).version, appVersion());
  const timeline = await client.call('timeline.get', { analysisId });
  assert.deepEqual(timeline, await context.library.frames.timeline(analysisId));
  assert.equal(timeline.timesMs.length, 1000);
});

test('an error crosses the bridge as data and becomes an ApiCallError with the main side code and sentence', async () => {
  const missing = await client.call('sessions.get', { sessionId: 999 }).catch((error: unknown) => error);
  assert.ok(missing instanceof ApiCallError);
  assert.deepEqual(
    [missing.method, missing.code, missing.message],
    ['sessions.get', 'not_found', 'Session 999 was not found'],
  );
  const invalid = await client.call('frames.get', { analysisId, frameIndex: -1 }).catch((error: unknown) => error);
  assert.ok(invalid instanceof ApiCallError);
  assert.equal(invalid.code, 'invalid_request');
  assert.match(invalid.message, /frameIndex/);
});

test('an answer that is no envelope, or a value outside the contract, is an internal error naming the method', async () => {
  const noEnvelope = createElectronClient(bridgeTo(async () => 'Error invoking remote method'));
  await assert.rejects(noEnvelope.call('health', {}), { name: 'ApiCallError', code: 'internal', message: /health/ });
  const outside = createElectronClient(bridgeTo(async () => ({ ok: true, value: { name: 'other' } })));
  await assert.rejects(outside.call('health', {}), {
    code: 'internal',
    message: /The health answer broke the API contract: name:/,
  });
});
