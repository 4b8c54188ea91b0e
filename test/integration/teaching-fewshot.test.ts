import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { camvidRoot, testModelsDir } from '../helpers/models.js';

const base = [
  'fewshot',
  '--model',
  join(testModelsDir, 'camvid-open.onnx'),
  '--train',
  join(camvidRoot, 'train'),
  '--val',
  join(camvidRoot, 'val'),
];

test('fewshot --json ends with one JSON object with the benchmark keys', { timeout: 300_000 }, async () => {
  const args = ['--teach', 'pedestrian', '--shots', '1', '--val-limit', '3', '--score', 'combined', '--json'];
  const result = await runCli([...base, ...args], { timeoutMs: 300_000 });
  assert.equal(result.code, 0, result.stderr);
  const report = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
  for (const key of ['novel_miou', 'old_miou', 'all_miou', 'per_class', 'auroc', 'fpr95'])
    assert.ok(key in report, `missing ${key}`);
  const perClass = report.per_class as Record<string, number>;
  assert.ok('pedestrian' in perClass && 'road' in perClass && !('bicyclist' in perClass));
  assert.deepEqual(
    report.shot_frames,
    { pedestrian: ['0016E5_08370'] },
    'the train frame with the most pedestrian pixels',
  );
  assert.equal(report.val_frames, 3);
  assert.equal(report.score, 'combined', 'the score behind auroc and fpr95');
});

test('fewshot refuses to teach a class the model knows, naming the ones it can teach', async () => {
  const result = await runCli([...base, '--teach', 'car', '--shots', '1']);
  assert.equal(result.code, 2);
  assert.match(
    result.stderr,
    /car is already a known class of camvid-open: teach one of its unknown classes \(pedestrian, bicyclist\)/,
  );
  const missing = await runCli(['fewshot', '--teach', 'pedestrian']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /Missing --model, --train, --val, --shots/);
});
