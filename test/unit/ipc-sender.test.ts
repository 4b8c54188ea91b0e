import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isTrustedSender } from '../../src-main/electron/sender.js';

test('only the app page may call the API over IPC', () => {
  assert.equal(isTrustedSender('dmlr://app/index.html'), true);
  assert.equal(isTrustedSender('dmlr://app/'), true);
  for (const url of [
    undefined,
    null,
    '',
    'file:///etc/passwd',
    'https://example.com/',
    'dmlr://media/frame/1/2.jpg',
    'dmlr://app.evil/',
    'http://app/',
    'not a url',
  ]) {
    assert.equal(isTrustedSender(url), false, String(url));
  }
});
