import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isEventName, isMethodName, methodNames, methods } from '../../src-shared/contract/index.js';

test('every method has a request and a response schema', () => {
  assert.ok(methodNames.length > 0);
  for (const name of methodNames) {
    assert.ok(methods[name].request, `${name} request`);
    assert.ok(methods[name].response, `${name} response`);
  }
});

test('method and event names are checked against the contract, not the prototype chain', () => {
  assert.equal(isMethodName('health'), true);
  assert.equal(isMethodName('toString'), false);
  assert.equal(isMethodName('__proto__'), false);
  assert.equal(isMethodName(42), false);
  assert.equal(isEventName('notice'), true);
  assert.equal(isEventName('constructor'), false);
});

test('health refuses extra request fields and a wrong answer shape', () => {
  assert.equal(methods.health.request.safeParse({}).success, true);
  assert.equal(methods.health.request.safeParse({ drop: 'tables' }).success, false);
  assert.equal(methods.health.response.safeParse({ name: 'dmlreview', version: 1 }).success, false);
});
