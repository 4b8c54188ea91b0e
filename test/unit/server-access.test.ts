import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { test } from 'node:test';
import { accessPolicy } from '../../src-main/server/auth.js';

const request = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;

test('a one-machine server answers its loopback names on its port only', () => {
  const policy = accessPolicy(8080);
  for (const host of ['127.0.0.1:8080', 'localhost:8080', '[::1]:8080'])
    assert.ok(policy.hostAllowed(request({ host })), host);
  for (const host of ['127.0.0.1:9090', 'evil.example:8080', 'review.example.lan:8080', ''])
    assert.ok(!policy.hostAllowed(request({ host })), host);
  assert.ok(policy.originAllowed(request({ origin: 'http://localhost:8080' })));
  assert.ok(!policy.originAllowed(request({ origin: 'dmlr://app' })), 'no desktop clients unless asked');
  assert.equal(policy.crossOrigin(request({ origin: 'dmlr://app' })), undefined);
});

test('a team server answers the names it is given, with their port or without (a proxy), ignoring case', () => {
  const policy = accessPolicy(8080, { names: ['Review.Example.LAN', '10.0.0.5', '[fe80::1]', 'proxy.lan:443'] });
  for (const host of [
    'review.example.lan:8080',
    'REVIEW.example.lan',
    '10.0.0.5:8080',
    '10.0.0.5',
    '[fe80::1]:8080',
    'proxy.lan:443',
  ])
    assert.ok(policy.hostAllowed(request({ host })), host);
  for (const host of ['proxy.lan:8080', 'proxy.lan', 'review.example.lan:9999', 'evil.example'])
    assert.ok(!policy.hostAllowed(request({ host })), host);
  assert.ok(policy.originAllowed(request({ origin: 'https://review.example.lan' })));
  assert.ok(policy.originAllowed(request({ origin: 'http://10.0.0.5:8080' })));
  assert.ok(!policy.originAllowed(request({ origin: 'https://evil.example' })));
});

test('only a team server lets the desktop app call it cross-origin, and only the app', () => {
  const policy = accessPolicy(8080, { desktopClients: true });
  for (const origin of ['dmlr://app', 'http://127.0.0.1:41234', 'http://localhost:5173', 'http://[::1]:3000']) {
    assert.ok(policy.originAllowed(request({ origin })), origin);
    assert.equal(policy.crossOrigin(request({ origin })), origin);
  }
  for (const origin of ['dmlr://other', 'https://127.0.0.1:443', 'http://127.0.0.1.evil.example:80', 'null']) {
    assert.ok(!policy.originAllowed(request({ origin })), origin);
    assert.equal(policy.crossOrigin(request({ origin })), undefined);
  }
});
