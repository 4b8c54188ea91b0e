import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromAppOnly, isTrustedSender, type SenderFrame } from '../../src-main/electron/sender.js';

const mainFrame = (url: string): SenderFrame => ({ url, parent: null });

test('only the app page may call the API over IPC', () => {
  assert.equal(isTrustedSender(mainFrame('dmlr://app/index.html')), true);
  assert.equal(isTrustedSender(mainFrame('dmlr://app/')), true);
  assert.equal(isTrustedSender(undefined), false);
  assert.equal(isTrustedSender(null), false);
  for (const url of [
    '',
    'file:///etc/passwd',
    'https://example.com/',
    'dmlr://media/frame/1/2.jpg',
    'dmlr://app.evil/',
    'http://app/',
    'not a url',
  ]) {
    assert.equal(isTrustedSender(mainFrame(url)), false, url);
  }
});

test('a sub-frame is refused even when it is loaded from the app origin', () => {
  const top = mainFrame('dmlr://app/index.html');
  assert.equal(isTrustedSender({ url: 'dmlr://app/index.html', parent: top }), false);
  assert.equal(isTrustedSender({ url: 'https://example.com/', parent: top }), false);
});

test('a frame that throws on every read (one Electron disposed of) is refused, not an exception', () => {
  const disposed = {
    get url(): string {
      throw new Error('Render frame was disposed before WebFrameMain could be accessed');
    },
    parent: null,
  };
  assert.equal(isTrustedSender(disposed), false);
});

test('a handler wrapped by fromAppOnly runs for the app page only and gets the call arguments', () => {
  const calls: unknown[][] = [];
  const handler = fromAppOnly('test:channel', (...args: unknown[]) => {
    calls.push(args);
    return 'answered';
  });
  assert.equal(handler({ senderFrame: mainFrame('dmlr://app/') }, 'health', { a: 1 }), 'answered');
  assert.deepEqual(calls, [['health', { a: 1 }]]);
  for (const senderFrame of [
    null,
    mainFrame('https://example.com/'),
    { url: 'dmlr://app/', parent: mainFrame('dmlr://app/') },
  ]) {
    assert.throws(() => handler({ senderFrame }, 'health', {}), /IPC refused on test:channel/);
  }
  assert.equal(calls.length, 1, 'no refused call reached the handler');
});
