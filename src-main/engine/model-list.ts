import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ModelInfo } from '../../src-shared/contract/index.js';
import { AppError, errorMessage } from '../core/errors.js';
import { cardClasses, readModelCard, type ModelCard } from './model-card.js';

/**
 * The model the app analyses with unless the user picks another: the road model, which knows the 19 Cityscapes
 * classes (a truck, bus, rider or traffic light is not an anomaly) and keeps what the Cityscapes network learnt,
 * so its classes hold on other cameras than CamVid's (docs/models.md).
 */
export const DEFAULT_MODEL = 'road';

/** sha256 of model files, keyed by path + size + mtime, so listing models does not rehash unchanged files. */
const hashCache = new Map<string, string>();

async function fileSha256(path: string): Promise<string> {
  const info = await stat(path);
  const key = `${path}:${info.size}:${info.mtimeMs}`;
  const cached = hashCache.get(key);
  if (cached) return cached;
  const hash = createHash('sha256')
    .update(await readFile(path))
    .digest('hex');
  hashCache.set(key, hash);
  return hash;
}

/** The file-level checks that need no onnxruntime session: the .onnx exists and is the file the card describes. */
async function checkModelFile(modelsDir: string, card: ModelCard): Promise<void> {
  const path = join(modelsDir, card.onnx);
  let actual: string;
  try {
    actual = await fileSha256(path);
  } catch (error) {
    throw new AppError('model_missing', `Model file ${path} cannot be read (${errorMessage(error)})`);
  }
  if (card.sha256 && actual !== card.sha256) {
    throw new AppError(
      'model_invalid',
      `Model file ${path} does not match its card (sha256 ${actual.slice(0, 12)}..., card ${card.sha256.slice(0, 12)}...): truncated or replaced`,
    );
  }
}

function brokenModel(name: string, problem: string): ModelInfo {
  return {
    name,
    description: '',
    status: 'error',
    error: problem,
    sha256: '',
    inputWidth: 0,
    inputHeight: 0,
    embeddingDim: 0,
    classes: [],
    unknownClasses: [],
    defaultThreshold: 0,
    isDefault: name === DEFAULT_MODEL,
  };
}

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

/**
 * The card of a model whose files are in order (card valid, .onnx present and the file the card describes),
 * checked without loading it: callers check this before they record work that will need the model.
 */
export async function checkModel(modelsDir: string, name: string): Promise<ModelCard> {
  await requireModelCard(modelsDir, name);
  const card = await readModelCard(modelsDir, name);
  await checkModelFile(modelsDir, card);
  return card;
}

async function describeModel(modelsDir: string, name: string): Promise<ModelInfo> {
  try {
    const card = await checkModel(modelsDir, name);
    return {
      name,
      description: card.description,
      status: 'ok',
      error: null,
      sha256: card.sha256,
      inputWidth: card.input.width,
      inputHeight: card.input.height,
      embeddingDim: card.output.embeddingDim,
      classes: cardClasses(card),
      unknownClasses: card.unknownClasses.map((cls) => cls.name),
      defaultThreshold: card.scores.threshold,
      isDefault: name === DEFAULT_MODEL,
    };
  } catch (error) {
    return brokenModel(name, errorMessage(error));
  }
}

/** Every model in modelsDir (a card NAME.json or a NAME.onnx); broken ones carry their problem instead of throwing. */
export async function listModels(modelsDir: string): Promise<ModelInfo[]> {
  let files: string[];
  try {
    files = await readdir(modelsDir);
  } catch {
    return [];
  }
  const names = new Set<string>();
  for (const file of files) {
    if (file.endsWith('.reference.json')) continue;
    const match = /^(.+)\.(json|onnx)$/.exec(file);
    if (match?.[1]) names.add(match[1]);
  }
  return Promise.all([...names].sort().map((name) => describeModel(modelsDir, name)));
}
