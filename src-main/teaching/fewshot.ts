/**
 * The few-shot benchmark (DMLNet's NPM protocol): teach held-out classes from K train frames with the most
 * pixels of the class, masks from the labels, then measure closed-set mIoU on val for old, novel and all
 * classes, and the OOD separation of the classes still unknown. See README.md (Teaching) for the conventions.
 */
import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
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
import { resizeNearest } from './images.js';
import { classifyMap, teachClass, type RadiusRule, type Shot, type TaughtModel } from './prototypes.js';

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
  per_class: Record<string, number>;
  per_class_before: Record<string, number>;
  /** For each class left unknown: AUROC and FPR95 (percent) of its pixels against the known and taught ones. */
  unknown: Record<string, { auroc: number; fpr95: number }>;
  auroc?: number;
  fpr95?: number;
  upper_bound?: {
    model: string;
    model_sha256: string;
    per_class: Record<string, number>;
    novel_ratio: Record<string, number | null>;
  };
  seconds: number;
}

interface Pair {
  name: string;
  image: string;
  label: string;
}

/** Image/label pairs of a folder in the CamVid layout (DIR/images/NAME.jpg|png, DIR/labels/NAME.png). */
export function camvidPairs(dir: string): Pair[] {
  const list = (sub: string) => {
    try {
      return readdirSync(join(dir, sub)).sort();
    } catch {
      throw new AppError(
        'dataset_invalid',
        `${join(dir, sub)} cannot be read: give a folder in the CamVid layout (images/ and labels/)`,
      );
    }
  };
  const labels = new Set(list('labels'));
  const pairs = list('images')
    .filter((file) => /\.(jpe?g|png)$/i.test(file))
    .map((file) => {
      const name = file.replace(/\.[^.]+$/, '');
      return {
        name,
        image: join(dir, 'images', file),
        label: join(dir, 'labels', `${name}.png`),
        hasLabel: labels.has(`${name}.png`),
      };
    });
  const missing = pairs.find((pair) => !pair.hasLabel);
  if (missing) throw new AppError('dataset_invalid', `${missing.image} has no label ${missing.label}`);
  if (pairs.length === 0) throw new AppError('dataset_invalid', `${join(dir, 'images')} holds no .jpg or .png images`);
  return pairs.map(({ name, image, label }) => ({ name, image, label }));
}

async function labelsAt(path: string, width: number, height: number): Promise<Uint8Array> {
  const label = await decodeLabelPng(path);
  return resizeNearest(label.data, label.width, label.height, width, height);
}

/** The K train frames with the largest area of the class (ties: name order), as DMLNet's authors chose shots. */
export async function chooseShots(pairs: Pair[], datasetId: number, count: number): Promise<Pair[]> {
  const areas: { pair: Pair; area: number }[] = [];
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
    .sort((a, b) => b.area - a.area || a.pair.name.localeCompare(b.pair.name))
    .slice(0, count)
    .map((entry) => entry.pair);
}

async function embedShots(engine: Engine, pairs: Pair[], datasetId: number): Promise<Shot[]> {
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

/** A confusion matrix over n classes; rows = truth, columns = prediction. */
export class Confusion {
  readonly counts: Float64Array;
  constructor(readonly n: number) {
    this.counts = new Float64Array(n * n);
  }
  add(truth: number, predicted: number): void {
    this.counts[truth * this.n + predicted]!++;
  }
  iou(c: number): number {
    let row = 0;
    let column = 0;
    for (let k = 0; k < this.n; k++) {
      row += this.counts[c * this.n + k]!;
      column += this.counts[k * this.n + c]!;
    }
    const hit = this.counts[c * this.n + c]!;
    const union = row + column - hit;
    return union > 0 ? (100 * hit) / union : NaN;
  }
}

/**
 * AUROC and FPR at 95% TPR (percent) from scores in 0..1 binned in 100,000 bins; ties within a bin count
 * half, so the AUROC is within 0.001 points of the exact rank statistic for these score ranges.
 */
export class BinnedRoc {
  static readonly BINS = 100_000;
  readonly positives = new Float64Array(BinnedRoc.BINS + 1);
  readonly negatives = new Float64Array(BinnedRoc.BINS + 1);
  add(score: number, positive: boolean): void {
    const bin = Math.min(BinnedRoc.BINS, Math.max(0, Math.round(score * BinnedRoc.BINS)));
    (positive ? this.positives : this.negatives)[bin]!++;
  }
  result(): { auroc: number; fpr95: number } {
    const totalPositive = this.positives.reduce((a, b) => a + b, 0);
    const totalNegative = this.negatives.reduce((a, b) => a + b, 0);
    if (!totalPositive || !totalNegative) return { auroc: NaN, fpr95: NaN };
    let negativesBelow = 0;
    let area = 0;
    let truePositives = 0;
    let fpr95 = NaN;
    for (let bin = 0; bin <= BinnedRoc.BINS; bin++) {
      area += this.positives[bin]! * (negativesBelow + this.negatives[bin]! / 2);
      negativesBelow += this.negatives[bin]!;
    }
    // Sweep the threshold down from the top: the first point with TPR >= 95% gives the FPR.
    let falsePositives = 0;
    for (let bin = BinnedRoc.BINS; bin >= 0; bin--) {
      truePositives += this.positives[bin]!;
      falsePositives += this.negatives[bin]!;
      if (truePositives >= 0.95 * totalPositive) {
        fpr95 = (100 * falsePositives) / totalNegative;
        break;
      }
    }
    return { auroc: (100 * area) / (totalPositive * totalNegative), fpr95 };
  }
}

const mean = (values: number[]) => {
  const finite = values.filter(Number.isFinite);
  return finite.length ? finite.reduce((a, b) => a + b, 0) / finite.length : NaN;
};
const round = (value: number) => Math.round(value * 100) / 100;

function unknownDatasetId(card: ModelCard, name: string): number {
  const unknown = card.unknownClasses.find((cls) => cls.name === name);
  if (unknown) return unknown.datasetId;
  const known = card.classes.some((cls) => cls.name === name);
  throw new AppError(
    'usage',
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
    throw new AppError('usage', `${card.name} outputs logits: few-shot teaching needs an embedding model`);
  const basePrototypes = card.head.prototypes;
  const taughtIds = options.teach.map((name) => unknownDatasetId(card, name));
  const trainPairs = camvidPairs(options.trainDir);
  const valPairs = camvidPairs(options.valDir).slice(0, options.valLimit ?? Infinity);
  const engine = await openEngine(options.model.modelsDir, options.model.name, {
    ...(options.score ? { score: options.score } : {}),
  });
  try {
    const shotFrames: Record<string, string[]> = {};
    const taught: TaughtModel[] = [];
    for (const [t, name] of options.teach.entries()) {
      const pairs = await chooseShots(trainPairs, taughtIds[t]!, options.shots);
      shotFrames[name] = pairs.map((pair) => pair.name);
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
    const perClass = Object.fromEntries(names.map((name, c) => [name, round(evaluation.after.iou(c))]));
    const perClassBefore = Object.fromEntries(
      card.classes.map((cls, c) => [cls.name, round(evaluation.before.iou(c))]),
    );
    const unknown = Object.fromEntries(
      [...evaluation.roc].map(([name, roc]) => [name, mapValues(roc.result(), round)]),
    );
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
      novel_miou: round(mean(options.teach.map((_, t) => evaluation.after.iou(known + t)))),
      old_miou: round(mean(card.classes.map((_, c) => evaluation.after.iou(c)))),
      all_miou: round(mean(names.map((_, c) => evaluation.after.iou(c)))),
      old_miou_before: round(mean(card.classes.map((_, c) => evaluation.before.iou(c)))),
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

function mapValues<T extends Record<string, number>>(value: T, fn: (x: number) => number): T {
  return Object.fromEntries(Object.entries(value).map(([key, x]) => [key, fn(x)])) as T;
}

async function evaluateVal(
  engine: Engine,
  card: ModelCard,
  valPairs: Pair[],
  taught: TaughtModel[],
  taughtIds: number[],
  basePrototypes: number[][],
  log: (line: string) => void,
) {
  const known = card.classes.length;
  const classCount = known + taught.length;
  // Dataset id -> evaluation class (known index, or known + taught position); -1: not evaluated (void, still unknown).
  const evalClass = new Int16Array(256).fill(-1);
  card.classes.forEach((cls) => (evalClass[cls.datasetId] = cls.index));
  taughtIds.forEach((id, t) => (evalClass[id] = known + t));
  const stillUnknown = card.unknownClasses.filter((cls) => !taughtIds.includes(cls.datasetId));
  const roc = new Map(stillUnknown.map((cls) => [cls.name, new BinnedRoc()]));
  const before = new Confusion(classCount);
  const after = new Confusion(classCount);
  for (const [i, pair] of valPairs.entries()) {
    const result = await engine.analyze(await decodeImageFile(pair.image), { keepEmbedding: true });
    const labels = await labelsAt(pair.label, result.width, result.height);
    const embedding = { dim: engine.embeddingDim, pixels: result.width * result.height, data: result.embedding! };
    const predicted = classifyMap(embedding, basePrototypes, taught);
    for (let p = 0; p < labels.length; p++) {
      const id = labels[p]!;
      const truth = evalClass[id]!;
      if (truth >= 0) {
        before.add(truth, result.nearestKnown[p]!);
        after.add(truth, predicted[p]!);
      }
      for (const cls of stillUnknown) {
        if (id === cls.datasetId) roc.get(cls.name)!.add(result.oodMap[p]!, true);
        else if (truth >= 0) roc.get(cls.name)!.add(result.oodMap[p]!, false);
      }
    }
    if ((i + 1) % 20 === 0) log(`val ${i + 1}/${valPairs.length}`);
  }
  return { before, after, roc };
}

/** Closed-set IoU of the all-class model on the same frames, and the taught classes' share of it. */
async function upperBound(
  ref: ModelRef,
  valPairs: Pair[],
  teach: string[],
  taughtPerClass: Record<string, number>,
  log: (line: string) => void,
) {
  const card = await readModelCard(ref.modelsDir, ref.name);
  const engine = await openEngine(ref.modelsDir, ref.name);
  try {
    const evalClass = new Int16Array(256).fill(-1);
    card.classes.forEach((cls) => (evalClass[cls.datasetId] = cls.index));
    const confusion = new Confusion(card.classes.length);
    for (const pair of valPairs) {
      const result = await engine.analyze(await decodeImageFile(pair.image));
      const labels = await labelsAt(pair.label, result.width, result.height);
      for (let p = 0; p < labels.length; p++) {
        const truth = evalClass[labels[p]!]!;
        if (truth >= 0) confusion.add(truth, result.nearestKnown[p]!);
      }
    }
    log(`upper bound ${card.name} evaluated`);
    const perClass = Object.fromEntries(card.classes.map((cls, c) => [cls.name, round(confusion.iou(c))]));
    // Null when the upper-bound model itself never finds the class (a ratio to 0 means nothing).
    const novelRatio = Object.fromEntries(
      teach.map((name) => [name, perClass[name]! > 0 ? round(taughtPerClass[name]! / perClass[name]!) : null]),
    );
    return { model: basename(card.name), model_sha256: card.sha256, per_class: perClass, novel_ratio: novelRatio };
  } finally {
    await engine.dispose();
  }
}
