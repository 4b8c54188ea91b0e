/**
 * The few-shot benchmark (DMLNet's NPM protocol): teach held-out classes from K train frames with the most
 * pixels of the class, masks from the labels, then measure closed-set mIoU on val for old, novel and all
 * classes, and the OOD separation of the classes still unknown (exact AUROC and FPR95, ood-metrics.ts). See
 * docs/models.md ("Few-shot teaching on the shipped models") for the conventions.
 */
import { basename } from 'node:path';
import { AppError } from '../core/errors.js';
import {
  decodeImageFile,
  decodeLabelPng,
  openEngine,
  readModelCard,
  type Engine,
  type ModelCard,
  type ScoreName,
} from '../engine/index.js';
import { resizeNearest } from '../teaching/images.js';
import { classifyMap, teachClass, type RadiusRule, type Shot, type TaughtModel } from '../teaching/prototypes.js';
import { ConfusionMatrix } from './confusion.js';
import { concatScores, oodMetrics, scoresWhere } from './ood-metrics.js';
import { listCamvidSamples, sampleStem, type Sample } from './samples.js';

export interface ModelRef {
  modelsDir: string;
  name: string;
}

export interface FewshotOptions {
  model: ModelRef;
  trainDir: string;
  valDir: string;
  teach: string[];
  shots: number;
  prototypesPerClass: number;
  radius: RadiusRule;
  /** The OOD score for the class left unknown; default: the card's. */
  score?: ScoreName;
  /** A model that knows every class (the upper bound), evaluated on the same val frames. */
  upperBound?: ModelRef;
  /** Evaluate on the first N val frames only (tests); default all. */
  valLimit?: number;
  log?: (line: string) => void;
}

export interface FewshotReport {
  model: string;
  model_sha256: string;
  taught: string[];
  shots: number;
  shot_frames: Record<string, string[]>;
  prototypes_per_class: number;
  radius_rule: string;
  /** The OOD score behind auroc and fpr95. */
  score: string;
  acceptance_radius: Record<string, number>;
  val_frames: number;
  novel_miou: number;
  old_miou: number;
  all_miou: number;
  old_miou_before: number;
  /** IoU in percent; null for a class absent from both the labels and the predictions. */
  per_class: Record<string, number | null>;
  per_class_before: Record<string, number | null>;
  /** For each class left unknown: AUROC and FPR95 (percent) of its pixels against the known and taught ones. */
  unknown: Record<string, { auroc: number; fpr95: number }>;
  auroc?: number;
  fpr95?: number;
  upper_bound?: {
    model: string;
    model_sha256: string;
    per_class: Record<string, number | null>;
    novel_ratio: Record<string, number | null>;
  };
  seconds: number;
}

async function labelsAt(path: string, width: number, height: number): Promise<Uint8Array> {
  const label = await decodeLabelPng(path);
  return resizeNearest(label.data, label.width, label.height, width, height);
}

/** The K train frames with the largest area of the class (ties: name order), as DMLNet's authors chose shots. */
export async function chooseShots(pairs: Sample[], datasetId: number, count: number): Promise<Sample[]> {
  const areas: { pair: Sample; area: number }[] = [];
  for (const pair of pairs) {
    const { data } = await decodeLabelPng(pair.label);
    let area = 0;
    for (let i = 0; i < data.length; i++) if (data[i] === datasetId) area++;
    if (area > 0) areas.push({ pair, area });
  }
  if (areas.length < count)
    throw new AppError(
      'dataset_invalid',
      `Only ${areas.length} train frames contain class id ${datasetId}; ${count} shots were asked for`,
    );
  return areas
    .sort((a, b) => b.area - a.area || sampleStem(a.pair).localeCompare(sampleStem(b.pair)))
    .slice(0, count)
    .map((entry) => entry.pair);
}

async function embedShots(engine: Engine, pairs: Sample[], datasetId: number): Promise<Shot[]> {
  const shots: Shot[] = [];
  for (const pair of pairs) {
    const result = await engine.analyze(await decodeImageFile(pair.image), { keepEmbedding: true });
    const labels = await labelsAt(pair.label, result.width, result.height);
    shots.push({
      embedding: { dim: engine.embeddingDim, pixels: result.width * result.height, data: result.embedding! },
      mask: labels.map((id) => (id === datasetId ? 1 : 0)),
    });
  }
  return shots;
}

const mean = (values: number[]) => {
  const finite = values.filter(Number.isFinite);
  return finite.length ? finite.reduce((a, b) => a + b, 0) / finite.length : NaN;
};
const round = (value: number) => Math.round(value * 100) / 100;
const roundIou = (value: number | null) => (value === null ? null : round(value));
/** Label pixels outside the evaluated classes: void, and the classes left unknown. */
const NOT_EVALUATED = 255;

function unknownDatasetId(card: ModelCard, name: string): number {
  const unknown = card.unknownClasses.find((cls) => cls.name === name);
  if (unknown) return unknown.datasetId;
  const known = card.classes.some((cls) => cls.name === name);
  throw new AppError(
    'fewshot_class_invalid',
    known
      ? `${name} is already a known class of ${card.name}: teach one of its unknown classes (${card.unknownClasses.map((cls) => cls.name).join(', ')})`
      : `${name} is not a class of ${card.name}'s dataset; its unknown classes are ${card.unknownClasses.map((cls) => cls.name).join(', ')}`,
  );
}

function describeRule(rule: RadiusRule): string {
  if (rule.kind === 'fixed') return `fixed squared distance ${rule.squaredDistance}`;
  if (rule.kind === 'spread') return `spread: p${rule.percentile} of the shots' squared distances x ${rule.scale}`;
  return 'fit: best IoU against the masks on the shot frames';
}

export async function runFewshot(options: FewshotOptions): Promise<FewshotReport> {
  const started = Date.now();
  const log = options.log ?? (() => {});
  const card = await readModelCard(options.model.modelsDir, options.model.name);
  if (card.output.kind !== 'embedding' || !card.head.prototypes)
    throw new AppError(
      'model_not_embedding',
      `${card.name} outputs logits: few-shot teaching needs an embedding model`,
    );
  const basePrototypes = card.head.prototypes;
  const taughtIds = options.teach.map((name) => unknownDatasetId(card, name));
  const trainPairs = listCamvidSamples(options.trainDir, '--train');
  const valPairs = listCamvidSamples(options.valDir, '--val').slice(0, options.valLimit ?? Infinity);
  const engine = await openEngine(options.model.modelsDir, options.model.name, {
    ...(options.score ? { score: options.score } : {}),
  });
  try {
    const shotFrames: Record<string, string[]> = {};
    const taught: TaughtModel[] = [];
    for (const [t, name] of options.teach.entries()) {
      const pairs = await chooseShots(trainPairs, taughtIds[t]!, options.shots);
      shotFrames[name] = pairs.map(sampleStem);
      log(`${name}: shots ${shotFrames[name].join(', ')}`);
      taught.push(
        teachClass(await embedShots(engine, pairs, taughtIds[t]!), {
          k: options.prototypesPerClass,
          radius: options.radius,
          basePrototypes,
        }),
      );
    }
    engine.setTaughtClasses(taught.map((model, t) => ({ name: options.teach[t]!, color: [255, 0, 255], ...model })));
    const evaluation = await evaluateVal(engine, card, valPairs, taught, taughtIds, basePrototypes, log);
    const names = [...card.classes.map((cls) => cls.name), ...options.teach];
    const known = card.classes.length;
    const after = evaluation.after.result().iou;
    const before = evaluation.before.result().iou;
    const perClass = Object.fromEntries(names.map((name, c) => [name, roundIou(after[c]!)]));
    const perClassBefore = Object.fromEntries(card.classes.map((cls, c) => [cls.name, roundIou(before[c]!)]));
    const unknown = Object.fromEntries(
      [...evaluation.positives].map(([name, positives]) => {
        const metrics = oodMetrics(concatScores(positives), evaluation.negatives);
        return [name, { auroc: round(metrics?.auroc ?? NaN), fpr95: round(metrics?.fpr95 ?? NaN) }];
      }),
    );
    const meanIou = (classes: number[]) => round(mean(classes.map((c) => after[c] ?? NaN)));
    const report: FewshotReport = {
      model: card.name,
      model_sha256: card.sha256,
      taught: options.teach,
      shots: options.shots,
      shot_frames: shotFrames,
      prototypes_per_class: options.prototypesPerClass,
      radius_rule: describeRule(options.radius),
      score: engine.score,
      acceptance_radius: Object.fromEntries(
        taught.map((model, t) => [options.teach[t]!, Math.round(model.acceptanceRadius * 1e4) / 1e4]),
      ),
      val_frames: valPairs.length,
      novel_miou: meanIou(options.teach.map((_, t) => known + t)),
      old_miou: meanIou(card.classes.map((_, c) => c)),
      all_miou: meanIou(names.map((_, c) => c)),
      old_miou_before: round(mean(card.classes.map((_, c) => before[c] ?? NaN))),
      per_class: perClass,
      per_class_before: perClassBefore,
      unknown,
      seconds: 0,
    };
    const single = Object.values(unknown);
    if (single.length === 1) Object.assign(report, single[0]);
    if (options.upperBound)
      report.upper_bound = await upperBound(options.upperBound, valPairs, options.teach, perClass, log);
    report.seconds = round((Date.now() - started) / 1000);
    return report;
  } finally {
    await engine.dispose();
  }
}

async function evaluateVal(
  engine: Engine,
  card: ModelCard,
  valPairs: Sample[],
  taught: TaughtModel[],
  taughtIds: number[],
  basePrototypes: number[][],
  log: (line: string) => void,
) {
  const known = card.classes.length;
  const classCount = known + taught.length;
  // Dataset id -> evaluation class (known index, or known + taught position).
  const evalClass = new Uint8Array(256).fill(NOT_EVALUATED);
  card.classes.forEach((cls) => (evalClass[cls.datasetId] = cls.index));
  taughtIds.forEach((id, t) => (evalClass[id] = known + t));
  const stillUnknown = card.unknownClasses.filter((cls) => !taughtIds.includes(cls.datasetId));
  // OOD scores of each class left unknown (positives) against those of every evaluated pixel (negatives).
  const positives = new Map<string, Float32Array[]>(stillUnknown.map((cls) => [cls.name, []]));
  const negatives: Float32Array[] = [];
  const before = new ConfusionMatrix(classCount);
  const after = new ConfusionMatrix(classCount);
  for (const [i, pair] of valPairs.entries()) {
    const result = await engine.analyze(await decodeImageFile(pair.image), { keepEmbedding: true });
    const labels = await labelsAt(pair.label, result.width, result.height);
    const embedding = { dim: engine.embeddingDim, pixels: result.width * result.height, data: result.embedding! };
    const truth = labels.map((id) => evalClass[id]!);
    before.add(truth, result.nearestKnown);
    after.add(truth, classifyMap(embedding, basePrototypes, taught));
    negatives.push(scoresWhere(result.oodMap, (p) => truth[p] !== NOT_EVALUATED));
    for (const cls of stillUnknown)
      positives.get(cls.name)!.push(scoresWhere(result.oodMap, (p) => labels[p] === cls.datasetId));
    if ((i + 1) % 20 === 0) log(`val ${i + 1}/${valPairs.length}`);
  }
  return { before, after, positives, negatives: concatScores(negatives) };
}

/** Closed-set IoU of the all-class model on the same frames, and the taught classes' share of it. */
async function upperBound(
  ref: ModelRef,
  valPairs: Sample[],
  teach: string[],
  taughtPerClass: Record<string, number | null>,
  log: (line: string) => void,
) {
  const card = await readModelCard(ref.modelsDir, ref.name);
  const engine = await openEngine(ref.modelsDir, ref.name);
  try {
    const evalClass = new Uint8Array(256).fill(NOT_EVALUATED);
    card.classes.forEach((cls) => (evalClass[cls.datasetId] = cls.index));
    const confusion = new ConfusionMatrix(card.classes.length);
    for (const pair of valPairs) {
      const result = await engine.analyze(await decodeImageFile(pair.image));
      const labels = await labelsAt(pair.label, result.width, result.height);
      confusion.add(
        labels.map((id) => evalClass[id]!),
        result.nearestKnown,
      );
    }
    log(`upper bound ${card.name} evaluated`);
    const iou = confusion.result().iou;
    const perClass = Object.fromEntries(card.classes.map((cls, c) => [cls.name, roundIou(iou[c]!)]));
    // Null when the upper-bound model itself never finds the class (a ratio to 0 means nothing).
    const novelRatio = Object.fromEntries(
      teach.map((name) => {
        const reached = perClass[name];
        const taughtIou = taughtPerClass[name];
        return [name, reached && taughtIou != null ? round(taughtIou / reached) : null];
      }),
    );
    return { model: basename(card.name), model_sha256: card.sha256, per_class: perClass, novel_ratio: novelRatio };
  } finally {
    await engine.dispose();
  }
}
