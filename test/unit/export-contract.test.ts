import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createDispatcher, handlers, type Dispatch } from '../../src-main/api/index.js';
import { createApp } from '../../src-main/app/create-app.js';
import type { AppContext } from '../../src-main/api/context.js';

let context: AppContext;
let dispatch: Dispatch;

before(async () => {
  context = await createApp({
    host: 'review-server',
    libraryPath: join(mkdtempSync(join(tmpdir(), 'dml-export-api-')), 'lib.sqlite'),
  });
  dispatch = createDispatcher(handlers, context);
});

after(() => context.close());

async function refused(payload: unknown, field: RegExp) {
  const result = await dispatch('export.flagged', payload);
  assert.equal(result.ok, false, JSON.stringify(payload));
  assert.ok(!result.ok);
  assert.equal(result.status, 400);
  assert.equal(result.error.code, 'invalid_request');
  assert.match(result.error.message, field);
}

test('export.flagged refuses malformed requests before any handler runs, naming the field', async () => {
  await refused({ folder: '/tmp' }, /sessionId/);
  await refused({ sessionId: 1 }, /folder/);
  await refused({ sessionId: 0, folder: '/tmp' }, /sessionId/);
  await refused({ sessionId: 1, folder: '' }, /folder/);
  await refused({ sessionId: 1, folder: '/tmp', name: '../escape' }, /name: must be a plain folder name/);
  await refused({ sessionId: 1, folder: '/tmp', name: '..' }, /name/);
  await refused({ sessionId: 1, folder: '/tmp', overwrite: true }, /overwrite|Unrecognized/i);
});

test('a well-formed export of a session that does not exist is a 404 naming it', async () => {
  const result = await dispatch('export.flagged', { sessionId: 999, folder: tmpdir() });
  assert.ok(!result.ok);
  assert.equal(result.status, 404);
  assert.match(result.error.message, /Session 999/);
});
