import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  decodeImageFile,
  encodeClassMapPng,
  encodeOodMapPng,
  quantizeScores,
  listModels,
  openEngine,
  readModelCard,
  UNKNOWN_CLASS,
  type FrameResult,
} from '../../src-main/engine/index.js';
import { OnnxModel } from '../../src-main/engine/onnx-model.js';
import { camvidRoot, modelsWithReference, testModelsDir } from '../helpers/models.js';

interface Reference {
  input: { shape: number[]; data: number[] };
  output: { name: string; shape: number[]; data: number[] };
}

for (const name of modelsWithReference()) {
  test(`${name}: onnxruntime output matches the exported PyTorch reference within 1e-4`, async () => {
    const reference = JSON.parse(readFileSync(join(testModelsDir, `${name}.reference.json`), 'utf8')) as Reference;
    const card = await readModelCard(testModelsDir, name);
    assert.equal(reference.output.name, card.output.name);
    const model = await OnnxModel.load(testModelsDir, card, 'cpu', 2);
    try {
      const [, , height = 0, width = 0] = reference.input.shape;
      const output = await model.run(Float32Array.from(reference.input.data), height, width);
      assert.deepEqual([1, output.channels, output.height, output.width], reference.output.shape);
      let worst = 0;
      reference.output.data.forEach((value, i) => (worst = Math.max(worst, Math.abs(output.data[i]! - value))));
      assert.ok(worst < 1e-4, `max abs difference ${worst}`);
    } finally {
      await model.release();
    }
  });

  test(`${name}: a first frame of noise, cut into many regions, comes back with its whole embedding`, async () => {
    // Many small regions make the head's buffers grow on the engine's first frame: the embedding kept for the
    // caller must be whole after that (an upsampled one lives in those buffers).
    const engine = await openEngine(testModelsDir, name, { provider: 'cpu', threads: 1, lanes: 1 });
    try {
      let seed = 11;
      const data = Uint8Array.from({ length: 480 * 360 * 3 }, () => (seed = (seed * 16807) % 2147483647) & 255);
      const result = await engine.analyze({ width: 480, height: 360, data }, { keepEmbedding: true });
      assert.equal(result.embedding?.length, engine.embeddingDim * result.width * result.height);
      assert.ok(result.embedding.every(Number.isFinite));
    } finally {
      await engine.dispose();
    }
  });

  test(`${name}: analysing a CamVid frame gives maps at the output size and a consistent summary`, async () => {
    const engine = await openEngine(testModelsDir, name, { provider: 'cpu', threads: 2 });
    try {
      const images = join(camvidRoot, 'val', 'images');
      const frame = await decodeImageFile(join(images, readdirSync(images).sort()[0]!));
      const result = await engine.analyze(frame, { keepEmbedding: true });
      assert.equal(result.classMap.length, result.width * result.height);
      assert.equal(result.embedding?.length, engine.embeddingDim * result.width * result.height);
      const unknown = result.classMap.filter((value) => value === UNKNOWN_CLASS).length;
      assert.equal(result.summary.unknownFraction, unknown / result.classMap.length);
      const areas = result.summary.classAreas.reduce((a, b) => a + b, 0);
      assert.ok(
        Math.abs(areas + result.summary.unknownFraction - 1) < 1e-9,
        'class areas and unknown area cover the frame',
      );
      assert.equal(result.summary.classAreas.length, engine.classes.length);
      const levels = quantizeScores(result.oodMap);
      for (const png of [encodeClassMapPng(result), encodeOodMapPng({ ...result, levels })]) {
        assert.equal(png.readUInt32BE(16), result.width);
        assert.equal(png.readUInt32BE(20), result.height);
      }
      const resized = await engine.analyze({ width: 200, height: 100, data: new Uint8Array(200 * 100 * 3).fill(90) });
      assert.equal(resized.width, result.width, 'frames of any size come back at the output size');
    } finally {
      await engine.dispose();
    }
  });
}

test('provider auto: runs on a GPU provider or on CPU with the reason the GPU one was not used', async () => {
  const engine = await openEngine(testModelsDir, modelsWithReference()[0]!, { provider: 'auto', threads: 1 });
  try {
    if (engine.provider.name === 'cpu' && process.platform === 'linux' && process.arch === 'x64') {
      assert.match(engine.provider.notes.join('; '), /^cuda: /);
    } else {
      assert.notEqual(engine.provider.name, '');
    }
  } finally {
    await engine.dispose();
  }
  const cpu = await openEngine(testModelsDir, modelsWithReference()[0]!, { provider: 'cpu', threads: 1 });
  assert.deepEqual(cpu.provider, { name: 'cpu', notes: ['cpu: chosen in settings'] });
  await cpu.dispose();
});

test('listModels: every model in the folder is listed with status ok and its classes', async () => {
  const models = await listModels(testModelsDir);
  for (const name of modelsWithReference()) {
    const info = models.find((model) => model.name === name);
    assert.equal(info?.status, 'ok', info?.error ?? `${name} missing`);
    assert.ok(info.classes.length > 0);
  }
});

test('two lanes analyse frames side by side with the same results as one lane, taught classes included', async () => {
  const name = modelsWithReference()[0]!;
  const images = join(camvidRoot, 'val', 'images');
  const frames = await Promise.all(
    readdirSync(images)
      .sort()
      .slice(0, 4)
      .map((file) => decodeImageFile(join(images, file))),
  );
  const one = await openEngine(testModelsDir, name, { provider: 'cpu', threads: 1, lanes: 1 });
  const two = await openEngine(testModelsDir, name, { provider: 'cpu', threads: 2, lanes: 2 });
  try {
    assert.equal(two.laneCount, 2);
    assert.equal(two.framesInFlight, 4);
    // A taught prototype on the embedding of the first frame's first pixel: that pixel joins the class.
    const { embedding } = await one.analyze(frames[0]!, { keepEmbedding: true });
    const pixels = embedding!.length / one.embeddingDim;
    const prototype = Array.from({ length: one.embeddingDim }, (_, c) => embedding![c * pixels]!);
    const taught = [
      { name: 'probe', color: [1, 2, 3] as [number, number, number], prototypes: [prototype], acceptanceRadius: 1 },
    ];
    one.setTaughtClasses(taught);
    two.setTaughtClasses(taught);
    const sequential: FrameResult[] = [];
    for (const frame of frames) sequential.push(await one.analyze(frame));
    const sideBySide = await Promise.all(frames.map((frame) => two.analyze(frame)));
    const taughtIndex = one.classes.length - 1;
    assert.equal(sequential[0]!.classMap[0], taughtIndex, 'the taught class takes its own pixel');
    sideBySide.forEach((result, i) => {
      assert.deepEqual(result.classMap, sequential[i]!.classMap, `frame ${i}: class map`);
      assert.deepEqual(result.oodMap, sequential[i]!.oodMap, `frame ${i}: OOD map`);
      assert.deepEqual(result.summary, sequential[i]!.summary, `frame ${i}: summary`);
    });
  } finally {
    await Promise.all([one.dispose(), two.dispose()]);
  }
});
