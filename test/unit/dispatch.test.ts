import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createDispatcher, handlers } from '../../src-main/api/index.js';
import { createApp } from '../../src-main/app/create-app.js';
import { appVersion } from '../../src-main/core/version.js';

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
