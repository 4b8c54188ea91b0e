import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createDispatcher, handlers } from '../../src-main/api/index.js';
import { createApp } from '../../src-main/app/create-app.js';
import { appVersion } from '../../src-main/core/version.js';
import { driveLikeFrame, writeSyntheticSession } from '../helpers/synthetic-library.js';
import { openLibrary } from '../../src-main/library/index.js';
import { mountTmpfs } from '../helpers/tmpfs.js';

async function dispatcher() {
  const context = await createApp({
    host: 'review-server',
    libraryPath: join(mkdtempSync(join(tmpdir(), 'dml-')), 'lib.sqlite'),
  });
  return { dispatch: createDispatcher(handlers, context), context };
}

test('health answers the package version', async () => {
  const { dispatch, context } = await dispatcher();
  const result = await dispatch('health', {});
  assert.equal(result.ok, true);
  assert.deepEqual(result.ok && (result.value as { version: string }).version, appVersion());
  await context.close();
});

test('an unknown method is a 404 naming the method', async () => {
  const { dispatch, context } = await dispatcher();
  const result = await dispatch('dropAllTables', {});
  assert.equal(result.ok, false);
  assert.ok(!result.ok && result.status === 404 && result.error.message.includes('dropAllTables'));
  await context.close();
});

test('a malformed payload is a 400 that says which field is wrong', async () => {
  const { dispatch, context } = await dispatcher();
  const result = await dispatch('health', { unexpected: true });
  assert.equal(result.ok, false);
  assert.ok(!result.ok && result.status === 400 && result.error.code === 'invalid_request');
  await context.close();
});

test(
  'on a library on a read-only disk, views answer and a write answers 409 library_read_only, naming write access',
  { skip: process.getuid?.() !== 0 && 'needs root to mount a read-only tmpfs' },
  async (t) => {
    const disk = mountTmpfs('size=8m');
    if (typeof disk === 'string') return t.skip(disk);
    try {
      const libraryPath = join(disk.dir, 'lib.sqlite');
      const store = await openLibrary(libraryPath);
      const session = await store.sessions.create('drive', [], null);
      const { analysisId } = await writeSyntheticSession(store, { frames: 3, frame: driveLikeFrame });
      await store.close();
      disk.remount('ro');
      const context = await createApp({ host: 'review-server', libraryPath });
      const dispatch = createDispatcher(handlers, context);
      const listed = await dispatch('sessions.list', {});
      assert.ok(listed.ok && (listed.value as unknown[]).length === 2, 'browsing works');
      assert.ok((await dispatch('timeline.get', { analysisId })).ok);
      // Refused before any work (import), or by SQLite itself (a flag): the same sentence either way.
      for (const [method, payload] of [
        ['sessions.import', { paths: ['/nonexistent.mp4'] }],
        ['flags.add', { analysisId, frameIndex: 1 }],
        ['analysis.start', { sessionId: session.id }],
      ] as const) {
        const write = await dispatch(method, payload);
        assert.ok(!write.ok, method);
        assert.equal(write.status, 409, `${method}: ${write.error.message}`);
        assert.equal(write.error.code, 'library_read_only');
        assert.match(write.error.message, /is open read-only .*analysis, flags and teaching need write access/);
      }
      await context.close();
    } finally {
      disk.unmount();
    }
  },
);
