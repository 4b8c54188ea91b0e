import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { isPlainName, type ClassInfo } from '../../src-shared/contract/index.js';
import { AppError, errorMessage } from '../core/errors.js';

const Rgb = z.tuple([
  z.number().int().min(0).max(255),
  z.number().int().min(0).max(255),
  z.number().int().min(0).max(255),
]);
const Triple = z.tuple([z.number(), z.number(), z.number()]);
/** Names joined onto the models folder: a card must not point outside it (`../../x`). */
const FileName = z.string().refine(isPlainName, 'must be a file name inside the models folder, not a path');

/** The JSON card next to every model (written by training/dmlnet/export.py, format dmlreview-model-card/1). */
export const ModelCard = z.object({
  format: z.literal('dmlreview-model-card/1'),
  name: FileName,
  description: z.string(),
  onnx: FileName,
  sha256: z.string(),
  input: z.object({
    name: z.string().min(1),
    width: z.number().int().positive(),
    height: z.number().int().positive(),
    resize: z.literal('stretch'),
    mean: Triple,
    std: Triple.refine((std) => std.every((value) => value > 0), 'std must be positive'),
  }),
  output: z.object({
    name: z.string().min(1),
    stride: z.number().int().positive(),
    /** How the engine brings an output of stride > 1 to the input size; the exported network's own rule. */
    upsample: z.literal('bilinear-align-corners').optional(),
    kind: z.enum(['embedding', 'logits']),
    embeddingDim: z.number().int().positive(),
  }),
  head: z.object({
    type: z.enum(['fixed-prototypes', 'learned-centres', 'linear']),
    prototypes: z.array(z.array(z.number())).optional(),
  }),
  classes: z
    .array(
      z.object({ index: z.number().int().min(0).max(254), name: z.string(), datasetId: z.number().int(), color: Rgb }),
    )
    .min(1),
  unknownClasses: z.array(z.object({ name: z.string(), datasetId: z.number().int(), color: Rgb })),
  scores: z.object({
    default: z.enum(['eds', 'mmsp', 'combined', 'margin', 'msp', 'maxlogit']),
    /** EDS scale: P_EDS = (sMax - min(S, sMax)) / (sMax - sFloor); sFloor 0 is the plain 1 - S/sMax. */
    eds: z.object({ sMax: z.number(), sFloor: z.number().min(0).default(0) }),
    combined: z.object({ beta: z.number(), gamma: z.number() }),
    /** Margin scale: P = 1 - min(g, gMax) / gMax, g = mean_t d_t - min_t d_t (cards exported before it lack it). */
    margin: z.object({ gMax: z.number() }).optional(),
    /** Pixel threshold: a pixel scoring above it is unknown. */
    threshold: z.number(),
    /** Frame threshold: the default event threshold on the frame score (training/README.md, calibration). */
    frameThreshold: z.number().min(0).max(1),
    /** The frame score frameThreshold was calibrated on; cards exported before unknown regions lack it. */
    frameScore: z.enum(['regions', 'pixel-p90']).default('pixel-p90'),
  }),
  dataset: z.object({ name: z.string(), ignoreIndex: z.number().int() }),
  /**
   * For a model whose classes are finer than a dataset's (the road model's 19 Cityscapes classes against
   * CamVid's 11): each dataset class, its label id and the model classes it holds, so that eval can score the
   * model on that dataset's own labels.
   */
  evaluationGroups: z
    .object({
      dataset: z.string(),
      ignoreIndex: z.number().int().min(0).max(255),
      groups: z.array(
        z.object({ name: z.string(), datasetId: z.number().int().min(0).max(255), classes: z.array(z.string()) }),
      ),
    })
    .optional(),
});
export type ModelCard = z.infer<typeof ModelCard>;

/** Every model class in exactly one evaluation group, and only the model's classes. */
function groupProblems(card: ModelCard, groups: { name: string; classes: string[] }[]): string[] {
  const problems: string[] = [];
  for (const cls of card.classes) {
    const holders = groups.filter((group) => group.classes.includes(cls.name)).map((group) => group.name);
    if (holders.length !== 1)
      problems.push(
        `evaluationGroups: class ${cls.name} is in ${holders.length} groups (${holders.join(', ')}), not 1`,
      );
  }
  for (const group of groups)
    for (const name of group.classes)
      if (!card.classes.some((cls) => cls.name === name))
        problems.push(`evaluationGroups: group ${group.name} names ${name}, which is not one of the model's classes`);
  return problems;
}

/** Rules zod cannot express: class indices in order, an upsampling rule for a coarse output, prototypes K x D, a usable EDS scale, evaluation groups. */
function consistencyProblems(card: ModelCard): string[] {
  const problems: string[] = [];
  card.classes.forEach((cls, position) => {
    if (cls.index !== position) problems.push(`classes[${position}].index is ${cls.index}, expected ${position}`);
  });
  const classCount = card.classes.length;
  const dim = card.output.embeddingDim;
  if (card.output.stride > 1 && !card.output.upsample)
    problems.push(
      `output.stride is ${card.output.stride} but output.upsample, how to bring it to the input size, is missing`,
    );
  if (card.evaluationGroups) problems.push(...groupProblems(card, card.evaluationGroups.groups));
  if (card.output.kind === 'logits') {
    if (dim !== classCount)
      problems.push(`output.embeddingDim ${dim} must equal the ${classCount} classes for a logits model`);
    return problems;
  }
  const prototypes = card.head.prototypes;
  if (!prototypes) return [...problems, 'head.prototypes is missing for an embedding model'];
  if (prototypes.length !== classCount)
    problems.push(`head.prototypes has ${prototypes.length} rows for ${classCount} classes`);
  const badRow = prototypes.findIndex((row) => row.length !== dim);
  if (badRow >= 0)
    problems.push(`head.prototypes[${badRow}] has ${prototypes[badRow]?.length} values, output.embeddingDim is ${dim}`);
  const { sMax, sFloor } = card.scores.eds;
  if (!(sMax > 0)) problems.push(`scores.eds.sMax must be positive, got ${sMax}`);
  else if (!(sFloor < sMax)) problems.push(`scores.eds.sFloor (${sFloor}) must be below sMax (${sMax})`);
  const margin = card.scores.margin;
  if (margin && !(margin.gMax > 0)) problems.push(`scores.margin.gMax must be positive, got ${margin.gMax}`);
  if (card.scores.default === 'margin' && !margin)
    problems.push('scores.default is margin but scores.margin is missing');
  return problems;
}

/**
 * The default event threshold for analyses, which score frames by unknown regions. A card calibrated on the
 * old pixel-percentile frame score has a threshold on another scale (every frame with a region by the road
 * would pass it), so it is refused with what to do.
 */
export function regionFrameThreshold(card: ModelCard): number {
  if (card.scores.frameScore === 'regions') return card.scores.frameThreshold;
  throw new AppError(
    'model_outdated',
    `Model ${card.name}'s frame threshold was calibrated on the old pixel-percentile frame score: run (cd training && /usr/bin/python3 -m tools.recalibrate_frame_threshold MODELS_DIR ${card.name}) with MODELS_DIR absolute or relative to training/, or export the model again with training/dmlnet/export.py`,
  );
}

/** The card's classes as the app lists them. */
export function cardClasses(card: ModelCard): ClassInfo[] {
  return card.classes.map((cls) => ({ index: cls.index, name: cls.name, color: cls.color, taught: false }));
}

export function cardPath(modelsDir: string, name: string): string {
  if (!isPlainName(name))
    throw new AppError(
      'model_missing',
      `"${name}" is not a model name: name a model of the models folder ${modelsDir}, not a path`,
    );
  return join(modelsDir, `${name}.json`);
}

/** Reads and validates NAME.json; every problem names the file and the field. */
export async function readModelCard(modelsDir: string, name: string): Promise<ModelCard> {
  const path = cardPath(modelsDir, name);
  // Only a regular file: a FIFO or device named NAME.json would block the read or never end it.
  await refuseSpecialFile(path);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new AppError('model_missing', `Model card ${path} cannot be read (${errorMessage(error)})`, { cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new AppError('model_invalid', `Model card ${path} is not valid JSON (${errorMessage(error)})`, {
      cause: error,
    });
  }
  const parsed = ModelCard.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw new AppError('model_invalid', `Model card ${path} is invalid: ${issues.join('; ')}`);
  }
  const problems = consistencyProblems(parsed.data);
  if (problems.length > 0)
    throw new AppError('model_invalid', `Model card ${path} is inconsistent: ${problems.join('; ')}`);
  return parsed.data;
}

async function refuseSpecialFile(path: string): Promise<void> {
  const info = await stat(path).catch(() => undefined);
  if (info && !info.isFile())
    throw new AppError(
      'model_invalid',
      `Model card ${path} is not a regular file: replace it with the model's JSON card`,
    );
}
