import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AppError } from '../core/errors.js';
import { listModels } from './model-list.js';

/**
 * Refuses a model name with no card in modelsDir before anything reads it, naming the models that are there:
 * "No model "camvd" in models/: the models there are camvid, camvid-open" says what to type instead.
 */
export async function requireModelCard(modelsDir: string, name: string): Promise<void> {
  if (existsSync(join(modelsDir, `${name}.json`))) return;
  const present = (await listModels(modelsDir)).map((model) => model.name);
  const there = present.length ? `the models there are ${present.join(', ')}` : 'it holds no model card (NAME.json)';
  throw new AppError('model_missing', `No model "${name}" in ${modelsDir}: ${there}`);
}
