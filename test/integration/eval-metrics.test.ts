import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { PNG } from 'pngjs';
import { oodMetrics } from '../../src-main/evaluation/index.js';
import { ConfusionMatrix } from '../../src-main/evaluation/confusion.js';
import { runCli } from '../helpers/cli.js';
import { camvidRoot, modelsWithReference, evalArgs } from '../helpers/models.js';

test('OOD metrics: a hand-computed case with ties', () => {
  // Scores 0.9 (OOD), 0.8 (OOD, known: a tie), 0.1 (known). Points: (0, .5), (.5, 1), (1, 1).
  const result = oodMetrics(Float32Array.from([0.9, 0.8]), Float32Array.from([0.8, 0.1]));
  assert.ok(result);
  assert.ok(Math.abs(result.auroc - 100 * (0.5 * 0.75 + 0.5 * 1)) < 1e-9, `auroc ${result.auroc}`);
  assert.ok(Math.abs(result.aupr - 100 * (0.5 * 1 + 0.5 * (2 / 3))) < 1e-9, `aupr ${result.aupr}`);
  assert.equal(result.fpr95, 50);
  // F1 = 2TP / (TP + FP + P): 2/3 at 0.9, 4/5 at 0.8 (both OOD and one known), 2/3 at 0.1.
  assert.ok(Math.abs(result.bestF1 - 80) < 1e-9, `best F1 ${result.bestF1}`);
  assert.equal(result.bestF1Threshold, Math.fround(0.8));
  assert.equal(oodMetrics(new Float32Array(0), Float32Array.from([1])), null);
});

test('OOD metrics: equal to sklearn (roc_auc_score, average_precision_score, roc_curve) on 20k tied scores', () => {
  const count = 20_000;
  const scores = Float32Array.from(
    { length: count },
    (_, i) => Math.round(((Math.sin(i * 12.9898) * 43758.5453) % 1) * 500) / 500,
  );
  const labels = Uint8Array.from({ length: count }, (_, i) =>
    scores[i]! + ((Math.cos(i * 7.233) * 9999) % 1) * 0.8 > 0.5 ? 1 : 0,
  );
  const ours = oodMetrics(
    scores.filter((_, i) => labels[i] === 1),
    scores.filter((_, i) => labels[i] === 0),
  );
  const script = `
import json, sys, numpy as np
from sklearn.metrics import roc_auc_score, average_precision_score, roc_curve
d = json.load(sys.stdin); s = np.asarray(d["s"], dtype=np.float32); y = np.asarray(d["y"])
fpr, tpr, _ = roc_curve(y, s)
print(json.dumps({"auroc": 100 * roc_auc_score(y, s), "aupr": 100 * average_precision_score(y, s), "fpr95": 100 * float(fpr[np.searchsorted(tpr, 0.95)])}))`;
  const sklearn = JSON.parse(
    execFileSync('/usr/bin/python3', ['-c', script], {
      input: JSON.stringify({ s: [...scores], y: [...labels] }),
      encoding: 'utf8',
    }),
  ) as Record<string, number>;
  assert.ok(ours);
  for (const key of ['auroc', 'aupr', 'fpr95'] as const)
    assert.ok(Math.abs(ours[key] - sklearn[key]!) < 1e-9, `${key}: ${ours[key]} vs sklearn ${sklearn[key]}`);
});

test('confusion matrix: IoU, per-class accuracy and mIoU over classes present', () => {
  const matrix = new ConfusionMatrix(3);
  matrix.add(Uint8Array.from([0, 0, 1, 1, 254, 255]), Uint8Array.from([0, 1, 1, 1, 2, 2]));
  const result = matrix.result();
  assert.deepEqual(result.iou, [50, (100 * 2) / 3, null]);
  assert.deepEqual(result.classAcc, [50, 100, null]);
  assert.equal(result.miou, (50 + 200 / 3) / 2);
  assert.equal(result.acc, 75);
});

test('eval --format anomaly: images of another size, OOD / void ids, JSON and CSV', { timeout: 120_000 }, async () => {
  const name = modelsWithReference()[0]!;
  const root = mkdtempSync(join(tmpdir(), 'dml-anomaly-'));
  const images = join(root, 'images');
  const labels = join(root, 'labels');
  mkdirSync(images);
  mkdirSync(labels);
  const sources = readdirSync(join(camvidRoot, 'val', 'images'))
    .sort()
    .slice(0, 2);
  // Half-size copies (240x180) of two CamVid frames, labels: pedestrian/bicyclist = 2 (anomaly), void = 255, rest 0.
  const script = `
import sys
from PIL import Image
import numpy as np
for src, lab, out_img, out_lab in zip(*[iter(sys.argv[1:])] * 4):
    Image.open(src).convert("RGB").resize((240, 180), Image.BILINEAR).save(out_img)
    l = np.asarray(Image.open(lab).resize((240, 180), Image.NEAREST))
    a = np.zeros_like(l); a[(l == 9) | (l == 10)] = 2; a[l == 11] = 255
    Image.fromarray(a.astype(np.uint8), "L").save(out_lab)`;
  const args = sources.flatMap((file) => {
    const stem = file.replace(/\.[^.]+$/, '');
    return [
      join(camvidRoot, 'val', 'images', file),
      join(camvidRoot, 'val', 'labels', `${stem}.png`),
      join(images, `${stem}.png`),
      join(labels, `${stem}.png`),
    ];
  });
  execFileSync('/usr/bin/python3', ['-c', script, ...args]);
  const csv = join(root, 'rows.csv');
  const cli = await runCli(
    evalArgs(
      name,
      images,
      labels,
      'anomaly',
      '--ood-ids',
      '2',
      '--ignore-ids',
      '255',
      '--score',
      'mmsp',
      '--csv',
      csv,
      '--json',
    ),
  );
  assert.equal(cli.code, 0, cli.stderr);
  const json = JSON.parse(cli.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
  assert.equal(json.images, 2);
  assert.equal(json.miou, null, 'no classes in the anomaly layout');
  for (const key of ['auroc', 'aupr', 'fpr95', 'auroc_image', 'aupr_image', 'fpr95_image', 'pixel_f1'])
    assert.equal(typeof json[key], 'number', key);
  // Half-size pedestrians are small: some components may be too small to count, but the keys are always there.
  for (const key of ['siou', 'ppv', 'mean_f1'])
    assert.ok(key in json && (json[key] === null || typeof json[key] === 'number'), key);
  const rows = readFileSync(csv, 'utf8').trim().split('\n').slice(1);
  for (const [i, row] of rows.entries()) {
    const [, labelled, ood] = row.split(',').map(Number);
    const label = PNG.sync.read(readFileSync(join(labels, sources[i]!.replace(/\.[^.]+$/, '.png'))));
    let expectedLabelled = 0;
    let expectedOod = 0;
    for (let p = 0; p < label.width * label.height; p++) {
      const value = label.data[p * 4]!;
      if (value !== 255) expectedLabelled++;
      if (value === 2) expectedOod++;
    }
    assert.equal(labelled, expectedLabelled, 'void pixels are left out');
    assert.equal(ood, expectedOod);
  }
  copyFileSync(join(images, sources[0]!.replace(/\.[^.]+$/, '.png')), join(images, 'orphan.png'));
  const missing = await runCli(evalArgs(name, images, labels, 'anomaly'));
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /Image .*orphan\.png has no label \(expected .*labels\/orphan\.png\)/);
});
