/**
 * Teaching through the same API the teaching panel calls (dispatch -> handlers -> TeachingService), on the
 * real camvid-open model and real CamVid frames: pedestrian is unknown to the model; five train frames with
 * its largest area and their label masks teach it; val pedestrian IoU must rise from 0 to the measured level.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { encodeRle, type RleMask } from '../../src-shared/contract/index.js';
import { createDispatcher, handlers, type Dispatch } from '../../src-main/api/index.js';
import { createApp } from '../../src-main/app/create-app.js';
import type { AppContext } from '../../src-main/api/context.js';
import { decodeImageFile, decodeLabelPng, openEngine, type Engine } from '../../src-main/engine/index.js';
import { chooseShots } from '../../src-main/evaluation/fewshot.js';
import { listCamvidSamples } from '../../src-main/evaluation/samples.js';
import { camvidRoot as camvid, testModelsDir as modelsDir } from '../helpers/models.js';

const MODEL = 'camvid-open';
const PEDESTRIAN = 9;
const ROAD = 3;
/** Every 4th val frame: 26 frames across the whole drive, a quarter of the time of the full split. */
const VAL_STRIDE = 4;
/**
 * Under half the val pedestrian IoU the full `fewshot ... --teach pedestrian --shots 5` run measured on the shipped
 * camvid-open (6.2 on sha256 2c32085ac054, docs/models.md): a floor that catches a broken teaching path on
 * the val subset. Raise it with the figure of a better model.
 */
const MIN_PEDESTRIAN_IOU = 2.5;

let context: AppContext;
let dispatch: Dispatch;

async function call<T>(method: string, request: unknown): Promise<T> {
  const result = await dispatch(method, request);
  if (!result.ok) throw Object.assign(new Error(result.error.message), { code: result.error.code });
  return result.value as T;
}

async function labelMask(labelPath: string, id: number): Promise<RleMask> {
  const label = await decodeLabelPng(labelPath);
  return encodeRle(
    label.data.map((value) => (value === id ? 1 : 0)),
    label.width,
    label.height,
  );
}

async function pedestrianIou(engine: Engine): Promise<number> {
  const taughtIndex = engine.classes.findIndex((cls) => cls.name === 'pedestrian');
  let hit = 0;
  let union = 0;
  const pairs = listCamvidSamples(join(camvid, 'val'), '--val').filter((_, i) => i % VAL_STRIDE === 0);
  for (const pair of pairs) {
    const result = await engine.analyze(await decodeImageFile(pair.image));
    const { data } = await decodeLabelPng(pair.label);
    for (let p = 0; p < data.length; p++) {
      const truth = data[p] === PEDESTRIAN;
      const predicted = result.classMap[p] === taughtIndex;
      if (truth && predicted) hit++;
      if (truth || predicted) union++;
    }
  }
  return (100 * hit) / union;
}

before(async () => {
  context = await createApp({
    host: 'review-server',
    libraryPath: join(mkdtempSync(join(tmpdir(), 'dml-teach-')), 'library.sqlite'),
    modelsDir,
  });
  dispatch = createDispatcher(handlers, context);
});

after(() => context.close());

test('teaching pedestrian from 5 train frames takes val pedestrian IoU from 0 to the measured level', async () => {
  const engine = await openEngine(modelsDir, MODEL);
  try {
    assert.equal(
      engine.classes.findIndex((cls) => cls.name === 'pedestrian'),
      -1,
      'pedestrian must be unknown to camvid-open',
    );
    const shots = await chooseShots(listCamvidSamples(join(camvid, 'train'), '--train'), PEDESTRIAN, 5);
    const request = {
      model: MODEL,
      name: 'pedestrian',
      shots: await Promise.all(
        shots.map(async (pair) => ({
          frame: { imagePath: pair.image },
          mask: await labelMask(pair.label, PEDESTRIAN),
        })),
      ),
    };
    const preview = await call<{ shots: { maskRecall: number }[]; acceptanceRadius: number }>(
      'teaching.preview',
      request,
    );
    assert.equal(preview.shots.length, 5);
    // The fit radius trades recall on the shots for precision elsewhere: about half the marked pixels on this model.
    const recall = preview.shots.reduce((sum, shot) => sum + shot.maskRecall, 0) / preview.shots.length;
    assert.ok(
      recall > 0.3,
      `the new class takes part of the marked pixels on its own shots: ${preview.shots.map((s) => s.maskRecall.toFixed(2)).join(', ')}`,
    );

    const taught = await call<{ knowledgeVersion: number; taughtClass: { id: number; shots: unknown[] } }>(
      'teaching.teach',
      { ...request, color: [220, 20, 60], author: 'test' },
    );
    assert.equal(taught.knowledgeVersion, 1);
    assert.equal(taught.taughtClass.shots.length, 5);

    // An analysis takes its classes the way the jobs do: the knowledge in force for this model.
    const knowledge = await context.library.knowledge.activePrototypes(engine.modelSha256);
    assert.equal(knowledge.version, 1);
    engine.setTaughtClasses(knowledge.classes);
    const iou = await pedestrianIou(engine);
    assert.ok(
      iou >= MIN_PEDESTRIAN_IOU,
      `val pedestrian IoU after teaching is ${iou.toFixed(1)}, expected >= ${MIN_PEDESTRIAN_IOU}`,
    );

    const listed = await call<{ classes: { name: string }[] }>('teaching.classes.list', { model: MODEL });
    assert.deepEqual(
      listed.classes.map((cls) => cls.name),
      ['pedestrian'],
    );
  } finally {
    await engine.dispose();
  }
});

test('bad teaching input is refused with a clear reason and stores nothing', async () => {
  const [pair] = listCamvidSamples(join(camvid, 'train'), '--train');
  const frame = { imagePath: pair!.image };
  const empty = encodeRle(new Uint8Array(480 * 360), 480, 360);
  const before = await call<{ knowledgeVersion: number | null }>('teaching.classes.list', { model: MODEL });
  const refused = async (request: unknown, code: string, pattern: RegExp) => {
    const result = await dispatch('teaching.teach', request);
    assert.ok(!result.ok, 'should be refused');
    assert.equal(result.error.code, code, result.error.message);
    assert.match(result.error.message, pattern);
  };
  await refused(
    { model: MODEL, name: 'cone', color: [1, 2, 3], shots: [{ frame, mask: empty }] },
    'empty_mask',
    /shot 1 marks no pixel/,
  );
  await refused(
    { model: MODEL, name: 'Car', color: [1, 2, 3], shots: [{ frame, mask: await labelMask(pair!.label, 8) }] },
    'conflict',
    /already a class of model/,
  );
  await refused(
    {
      model: MODEL,
      name: 'cone',
      color: [1, 2, 3],
      shots: [{ frame, mask: encodeRle(new Uint8Array(4).fill(1), 2, 2) }],
    },
    'invalid_mask',
    /output size 480x360/,
  );
  await refused(
    {
      model: MODEL,
      name: 'cone',
      color: [1, 2, 3],
      shots: [{ frame: { imagePath: '/nonexistent/frame.jpg' }, mask: empty }],
    },
    'image_missing',
    /nonexistent/,
  );
  const after = await call<{ knowledgeVersion: number | null }>('teaching.classes.list', { model: MODEL });
  assert.equal(after.knowledgeVersion, before.knowledgeVersion);
});

test('a class marked on road pixels warns that its prototype is nearly on top of road, with the distance', async () => {
  const [pair] = listCamvidSamples(join(camvid, 'train'), '--train');
  const preview = await call<{ warnings: { code: string; className: string; distance: number; message: string }[] }>(
    'teaching.preview',
    {
      model: MODEL,
      name: 'tarmac',
      shots: [{ frame: { imagePath: pair!.image }, mask: await labelMask(pair!.label, ROAD) }],
    },
  );
  const warning = preview.warnings.find((entry) => entry.code === 'near_existing_class');
  assert.equal(warning?.className, 'road');
  assert.ok(warning.distance >= 0 && warning.message.includes(warning.distance.toFixed(2)));
});

test('the wand and the metric-space view answer on a real frame', async () => {
  const pairs = listCamvidSamples(join(camvid, 'val'), '--val');
  const pair = pairs[0]!;
  const label = await decodeLabelPng(pair.label);
  const road = label.data.findIndex((value) => value === ROAD);
  const x = road % label.width;
  const y = Math.floor(road / label.width);
  const wand = await call<{ pixels: number; mask: RleMask }>('teaching.wand', {
    model: MODEL,
    frame: { imagePath: pair.image },
    x,
    y,
    maxDistance: 1,
  });
  assert.ok(wand.pixels > 100 && wand.pixels < 480 * 360, `wand selected ${wand.pixels} pixels`);
  const cloud = await call<{ count: number; positions: string; prototypes: { name: string }[] }>(
    'teaching.embeddings',
    { model: MODEL, frame: { imagePath: pair.image } },
  );
  assert.equal(cloud.count, 20_000);
  assert.equal(Buffer.from(cloud.positions, 'base64').length, 20_000 * 3 * 4);
  assert.ok(cloud.prototypes.some((prototype) => prototype.name === 'road'));
  // Three chosen channels instead of PCA: the fixed prototypes T*e_t keep their own coordinates.
  const axes = await call<{ prototypes: { name: string; position: number[] }[] }>('teaching.embeddings', {
    model: MODEL,
    frame: { imagePath: pair.image },
    samples: 1000,
    axes: [0, 1, 2],
  });
  assert.deepEqual(axes.prototypes.find((prototype) => prototype.name === 'sky')?.position, [3, 0, 0]);
  const wrong = await dispatch('teaching.embeddings', {
    model: MODEL,
    frame: { imagePath: pair.image },
    axes: [0, 1, 99],
  });
  assert.ok(!wrong.ok && /channels 0 to 8/.test(wrong.error.message));
});

test('the neighbours layout keeps more of the embedding than PCA on a real frame', async () => {
  const pair = listCamvidSamples(join(camvid, 'val'), '--val')[0]!;
  type Cloud = { count: number; explained: number[]; neighboursKept: number | null; prototypes: { name: string }[] };
  const frame = { imagePath: pair.image };
  const layout = await call<Cloud>('teaching.embeddings', { model: MODEL, frame, axes: 'neighbours' });
  assert.equal(layout.count, 5_000, 'the neighbours layout draws 5,000 points unless asked for fewer');
  assert.deepEqual(layout.explained, []);
  // 0.58-0.63 on 51 val frames, against 0.31-0.48 for PCA's three axes (docs/models.md).
  assert.ok(layout.neighboursKept! > 0.45, `kept ${layout.neighboursKept}`);
  assert.ok(layout.prototypes.some((prototype) => prototype.name === 'road'));
  const pca = await call<Cloud>('teaching.embeddings', { model: MODEL, frame, samples: 5_000 });
  assert.equal(pca.neighboursKept, null);
  const tooMany = await dispatch('teaching.embeddings', { model: MODEL, frame, axes: 'neighbours', samples: 20_000 });
  assert.ok(!tooMany.ok && /at most 5,000 points/.test(tooMany.error.message), JSON.stringify(tooMany));
});

test('the neighbours layout places the prototypes of the classes in its sample, and only those', async () => {
  const pair = listCamvidSamples(join(camvid, 'val'), '--val')[0]!;
  type Cloud = { classes: string; classNames: string[]; prototypes: { name: string }[] };
  const request = { model: 'road', frame: { imagePath: pair.image } };
  const layout = await call<Cloud>('teaching.embeddings', { ...request, axes: 'neighbours' });
  const sampled = new Set(Buffer.from(layout.classes, 'base64'));
  const inSample = layout.classNames.filter((_, index) => sampled.has(index));
  assert.deepEqual(
    layout.prototypes.map((prototype) => prototype.name),
    inSample,
  );
  // A CamVid street holds few of the 19 Cityscapes classes (no train on this frame).
  assert.ok(inSample.includes('road') && !inSample.includes('train'), inSample.join(', '));
  const pca = await call<Cloud>('teaching.embeddings', { ...request, samples: 5_000 });
  assert.equal(pca.prototypes.length, 19, 'PCA places every prototype: its projection is defined for any vector');
});

test('a knowledge base exported for camvid-open is refused by the camvid model', async () => {
  const document = await call<object>('teaching.export', { model: MODEL });
  const result = await dispatch('teaching.import', { model: 'camvid', document: JSON.stringify(document) });
  assert.ok(!result.ok);
  assert.equal(result.error.code, 'knowledge_model_mismatch');
});
