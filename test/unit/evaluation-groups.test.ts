import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readModelCard } from '../../src-main/engine/model-card.js';
import { ConfusionMatrix } from '../../src-main/evaluation/confusion.js';
import { camvidMapping, IGNORE_LABEL, OOD_LABEL } from '../../src-main/evaluation/labels.js';
import { repoRoot } from '../helpers/cli.js';

const FINE = ['road', 'car', 'truck', 'person'];

/** A shipped card rewritten as a 4-class model whose classes are finer than its labels' 3 groups. */
function writeGroupedCard(groups: { name: string; datasetId: number; classes: string[] }[]): string {
  const card = JSON.parse(readFileSync(join(repoRoot, 'models', 'camvid-open.json'), 'utf8')) as Record<
    string,
    unknown
  > & { output: { embeddingDim: number }; head: { prototypes: number[][] } };
  card.name = 'grouped';
  card.classes = FINE.map((name, index) => ({ index, name, datasetId: index, color: [index, 0, 0] }));
  card.unknownClasses = [];
  card.output.embeddingDim = FINE.length;
  card.head.prototypes = FINE.map((_, row) => FINE.map((__, col) => (row === col ? 3 : 0)));
  card.evaluationGroups = { dataset: 'CamVid', ignoreIndex: 11, groups };
  const dir = mkdtempSync(join(tmpdir(), 'dml-groups-'));
  writeFileSync(join(dir, 'grouped.json'), JSON.stringify(card));
  return dir;
}

const GROUPS = [
  { name: 'road', datasetId: 3, classes: ['road'] },
  { name: 'car', datasetId: 8, classes: ['car', 'truck'] },
  { name: 'pedestrian', datasetId: 9, classes: ['person'] },
];

test('a model of finer classes is scored on CamVid labels through its groups: a truck counts as a CamVid car', async () => {
  const card = await readModelCard(writeGroupedCard(GROUPS), 'grouped');
  const mapping = camvidMapping(card, undefined);
  assert.deepEqual(mapping.classes, ['road', 'car', 'pedestrian']);
  assert.deepEqual(
    [mapping.lut[3], mapping.lut[8], mapping.lut[9], mapping.lut[11], mapping.lut[0]],
    [0, 1, 2, 255, 255],
  );
  assert.deepEqual([...mapping.predictionLut!.slice(0, 4)], [0, 1, 1, 2]);
  assert.deepEqual(mapping.ood, []);
});

test('a group named in --unknown is scored as OOD and leaves mIoU', async () => {
  const card = await readModelCard(writeGroupedCard(GROUPS), 'grouped');
  const mapping = camvidMapping(card, ['pedestrian']);
  assert.deepEqual(mapping.classes, ['road', 'car']);
  assert.equal(mapping.lut[9], OOD_LABEL);
  assert.equal(mapping.predictionLut![3], IGNORE_LABEL);
  assert.throws(
    () => camvidMapping(card, ['bicyclist']),
    /--unknown bicyclist: CamVid has no such class for model grouped/,
  );
});

test('a card whose groups miss a class or name a class it lacks is refused, naming both', async () => {
  const missing = [GROUPS[0]!, { name: 'car', datasetId: 8, classes: ['car', 'lorry'] }, GROUPS[2]!];
  await assert.rejects(
    readModelCard(writeGroupedCard(missing), 'grouped'),
    (error: Error) => /class truck is in 0 groups/.test(error.message) && /names lorry/.test(error.message),
  );
});

test('confusion matrix: a prediction outside the evaluated classes is a miss for the true class, a hit for none', () => {
  const matrix = new ConfusionMatrix(2);
  matrix.add(Uint8Array.from([0, 0, 1, 1]), Uint8Array.from([0, 255, 1, 1]));
  const result = matrix.result();
  assert.deepEqual(result.iou, [50, 100]);
  assert.deepEqual(result.classAcc, [50, 100]);
  assert.equal(result.acc, 75);
});
