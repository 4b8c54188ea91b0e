import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openEngine, type RgbFrame } from '../../src-main/engine/index.js';
import { modelsWithReference, testModelsDir } from '../helpers/models.js';

function patternFrame(width: number, height: number): RgbFrame {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7 + (i >> 9)) & 0xff;
  return { width, height, data };
}

test('a lent frame travels without a copy, comes back unchanged, and gives the same result as a copied one', async () => {
  const engine = await openEngine(testModelsDir, modelsWithReference()[0]!, { provider: 'cpu', threads: 2 });
  try {
    const copied = patternFrame(engine.inputWidth, engine.inputHeight);
    const lent = patternFrame(engine.inputWidth, engine.inputHeight);
    const original = lent.data.slice();
    const expected = await engine.analyze(copied, { encodeMaps: true });
    assert.equal(copied.data.length, original.length, 'a frame not lent stays with the caller');

    const pending = engine.analyze(lent, { encodeMaps: true, lendFrame: true });
    assert.equal(lent.data.length, 0, 'the lent buffer is with the engine meanwhile');
    const result = await pending;
    assert.ok(result.lentFrame, 'the result gives the frame back');
    assert.deepEqual(result.lentFrame.data, original);
    assert.equal(result.lentFrame.data.byteLength, result.lentFrame.data.buffer.byteLength);
    assert.deepEqual(result.summary, expected.summary);
    assert.deepEqual(result.mapPngs, expected.mapPngs);

    // A view into a larger buffer cannot travel alone: it is copied, and the caller keeps it.
    const whole = new Uint8Array(original.length + 16);
    whole.set(original, 16);
    const view = { width: lent.width, height: lent.height, data: whole.subarray(16) };
    const fromView = await engine.analyze(view, { encodeMaps: true, lendFrame: true });
    assert.equal(view.data.length, original.length);
    assert.deepEqual(fromView.summary, expected.summary);
  } finally {
    await engine.dispose();
  }
});
