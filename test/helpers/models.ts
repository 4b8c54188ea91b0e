import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { repoRoot } from './cli.js';

/**
 * The models the engine tests run on: models/ in the checkout, or DMLREVIEW_TEST_MODELS (another export folder);
 * absolute, as the Python tools (run from training/) take it.
 */
export const testModelsDir = resolve(process.env.DMLREVIEW_TEST_MODELS ?? join(repoRoot, 'models'));

/** Names of the models that have a card and reference tensors. Empty models/ fails the tests that need one. */
export function modelsWithReference(): string[] {
  const names = readdirSync(testModelsDir)
    .filter((file) => file.endsWith('.reference.json'))
    .map((file) => file.slice(0, -'.reference.json'.length));
  if (names.length === 0)
    throw new Error(
      `No NAME.reference.json in ${testModelsDir}: export a model first (cd training && python3 -m dmlnet.export)`,
    );
  return names.sort();
}

export const camvidRoot = join(repoRoot, '..', 'shared', 'datasets', 'camvid');

/** The `eval` command line for a test model over an images/labels folder pair, plus extra flags. */
export function evalArgs(
  name: string,
  images: string,
  labels: string,
  format: 'camvid' | 'anomaly',
  ...extra: string[]
) {
  return [
    'eval',
    '--model',
    join(testModelsDir, `${name}.onnx`),
    '--images',
    images,
    '--labels',
    labels,
    '--format',
    format,
    ...extra,
  ];
}
