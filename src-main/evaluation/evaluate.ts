import {
  decodeImageFile,
  decodeLabelPng,
  openEngine,
  readModelCard,
  type Engine,
  type ScoreName,
} from '../engine/index.js';
import { AppError } from '../core/errors.js';
import { ConfusionMatrix } from './confusion.js';
import {
  anomalyMapping,
  camvidMapping,
  IGNORE_LABEL,
  OOD_LABEL,
  type LabelFormat,
  type LabelMapping,
} from './labels.js';
import { componentMetrics, frameComponents, type ComponentMetrics } from './component-metrics.js';
import { concatScores, oodMetrics, type OodMetrics, type PixelMetrics } from './ood-metrics.js';
import { curveSampler, scoreHistogram, type CurveSample, type ScoreHistogram } from './curves.js';
import { resizeNearest, resizeScores } from './resample.js';
import { decodeJpegLikeLibjpeg } from './libjpeg-decode.js';
import { listSamples, type Sample } from './samples.js';

export interface EvaluationOptions {
  modelsDir: string;
  model: string;
  images: string;
  labels: string;
  format: LabelFormat;
  /** camvid: class names scored as OOD (default: the card's unknown classes). */
  unknown?: string[];
  /** anomaly: raw label ids of anomalies and of void. */
  oodIds?: number[];
  ignoreIds?: number[];
  score?: ScoreName;
  threads?: number;
  onImage?: (done: number, total: number) => void;
  /** Keep what a report draws: the curves, the score histogram, the best and worst images. */
  details?: boolean;
}

export interface ImageResult extends Partial<OodMetrics> {
  name: string;
  pixels: number;
  oodPixels: number;
}

export interface EvaluationResult {
  model: string;
  score: ScoreName;
  format: LabelFormat;
  ood: string[];
  images: number;
  /** Pooled over all labelled pixels, percent; null without both OOD and in-distribution pixels. */
  pooled: PixelMetrics | null;
  /** SegmentMeIfYouCan's component metrics at the pooled best-F1 pixel threshold; null without a threshold. */
  components: ComponentMetrics | null;
  /** Means over images that hold both OOD and in-distribution pixels (StreetHazards convention). */
  perImageMean: OodMetrics | null;
  imagesWithOod: number;
  /** Known classes (camvid format): closed-set prediction against ground truth. */
  segmentation: {
    miou: number | null;
    acc: number;
    classes: { name: string; iou: number | null; acc: number | null }[];
  } | null;
  perImage: ImageResult[];
  details?: EvaluationDetails;
}

/** An image's scores at its label's size and its relabelled truth, kept for the component metrics. */
export interface ScoredImage {
  name: string;
  width: number;
  height: number;
  scores: Float32Array;
  /** OOD_LABEL, IGNORE_LABEL or a known class per pixel. */
  truth: Uint8Array;
}

/** An image a report shows, with its own figures. */
export interface RankedImage extends ScoredImage, OodMetrics {
  /** The image file, to draw it under its maps. */
  path: string;
}

export interface EvaluationDetails {
  /** Points of the pooled pixel ROC / precision-recall sweep (curves.ts). */
  pixelCurve: CurveSample[];
  histogram: ScoreHistogram;
  /** Images with OOD pixels, by their own AUPR: the highest first, and the lowest first. */
  best: RankedImage[];
  worst: RankedImage[];
}

/** Best and worst images a report shows, each. */
const SHOWN_IMAGES = 3;

/** Splits labelled pixels' scores into OOD and in-distribution lists. */
function splitScores(scores: Float32Array, truth: Uint8Array) {
  let positives = 0;
  let negatives = 0;
  for (let p = 0; p < truth.length; p++) {
    if (truth[p] === OOD_LABEL) positives++;
    else if (truth[p] !== IGNORE_LABEL) negatives++;
  }
  const ood = new Float32Array(positives);
  const known = new Float32Array(negatives);
  for (let p = 0, i = 0, j = 0; p < truth.length; p++) {
    if (truth[p] === OOD_LABEL) ood[i++] = scores[p]!;
    else if (truth[p] !== IGNORE_LABEL) known[j++] = scores[p]!;
  }
  return { ood, known };
}

/** Components of every image, pixels predicted at a score at or above the threshold. */
function imageComponents(images: readonly ScoredImage[], threshold: number): ComponentMetrics {
  return componentMetrics(
    images.map((image) => {
      const predicted = Uint8Array.from(image.scores, (score) => (score >= threshold ? 1 : 0));
      return frameComponents(predicted, image.truth, image.width, image.height, image.name);
    }),
  );
}

function mean(values: OodMetrics[]): OodMetrics | null {
  if (values.length === 0) return null;
  const average = (key: keyof OodMetrics) => values.reduce((sum, value) => sum + value[key], 0) / values.length;
  return { auroc: average('auroc'), aupr: average('aupr'), fpr95: average('fpr95') };
}

function mappingFor(options: EvaluationOptions, card: Awaited<ReturnType<typeof readModelCard>>): LabelMapping {
  if (options.format === 'camvid') return camvidMapping(card, options.unknown);
  return anomalyMapping(options.oodIds ?? [1], options.ignoreIds ?? [255]);
}

/** JPEGs as libjpeg decodes them (training's evaluation reads images with PIL); PNGs are lossless anyway. */
function decodeImage(path: string) {
  return /\.jpe?g$/i.test(path) ? decodeJpegLikeLibjpeg(path) : decodeImageFile(path);
}

/** One image through the engine: its scores and truth at the label's size, and its closed-set prediction counted. */
async function scoreImage(
  engine: Engine,
  sample: Sample,
  mapping: LabelMapping,
  confusion: ConfusionMatrix | null,
): Promise<ScoredImage> {
  const [frame, label] = await Promise.all([decodeImage(sample.image), decodeLabelPng(sample.label)]);
  if (frame.width !== label.width || frame.height !== label.height) {
    throw new AppError(
      'eval_label_invalid',
      `Image ${sample.image} is ${frame.width}x${frame.height} but its label ${sample.label} is ${label.width}x${label.height}`,
    );
  }
  const result = await engine.analyze(frame);
  const sameSize = result.width === label.width && result.height === label.height;
  const scores = sameSize
    ? result.oodMap
    : resizeScores(result.oodMap, result.width, result.height, label.width, label.height);
  const truth = label.data.map((value) => mapping.lut[value]!);
  const predicted = sameSize
    ? result.nearestKnown
    : resizeNearest(result.nearestKnown, result.width, result.height, label.width, label.height);
  const lut = mapping.predictionLut;
  confusion?.add(truth, lut ? predicted.map((index) => lut[index]!) : predicted);
  return { name: sample.name, width: label.width, height: label.height, scores, truth };
}

/** Runs the shipped engine over labelled images; OOD metrics are exact (see ood-metrics.ts). */
export async function runEvaluation(options: EvaluationOptions): Promise<EvaluationResult> {
  const card = await readModelCard(options.modelsDir, options.model);
  const mapping = mappingFor(options, card);
  const samples = listSamples(options.images, options.labels);
  const engine = await openEngine(options.modelsDir, options.model, {
    provider: 'cpu',
    threads: options.threads,
    score: options.score,
  });
  const confusion = mapping.hasClasses ? new ConfusionMatrix(mapping.classes.length) : null;
  const images: ScoredImage[] = [];
  try {
    for (const [index, sample] of samples.entries()) {
      images.push(await scoreImage(engine, sample, mapping, confusion));
      options.onImage?.(index + 1, samples.length);
    }
  } finally {
    await engine.dispose();
  }
  const split = images.map((image) => splitScores(image.scores, image.truth));
  const perImage: ImageResult[] = split.map(({ ood, known }, i) => ({
    name: images[i]!.name,
    pixels: ood.length + known.length,
    oodPixels: ood.length,
    ...oodMetrics(ood, known),
  }));
  const unknownScores = concatScores(split.map((part) => part.ood));
  const knownScores = concatScores(split.map((part) => part.known));
  const histogram = options.details ? scoreHistogram(unknownScores, knownScores) : undefined;
  const sampler = options.details ? curveSampler() : undefined;
  const pooled = oodMetrics(unknownScores, knownScores, sampler?.onPoint);
  const withOod = perImage.filter((image): image is ImageResult & OodMetrics => image.auroc !== undefined);
  const segmentation = confusion?.result();
  return {
    model: options.model,
    score: options.score ?? card.scores.default,
    format: options.format,
    ood: mapping.ood,
    images: samples.length,
    pooled,
    components: pooled ? imageComponents(images, pooled.bestF1Threshold) : null,
    perImageMean: mean(withOod),
    imagesWithOod: withOod.length,
    segmentation: segmentation
      ? {
          miou: segmentation.miou,
          acc: segmentation.acc,
          classes: mapping.classes.map((name, i) => ({
            name,
            iou: segmentation.iou[i] ?? null,
            acc: segmentation.classAcc[i] ?? null,
          })),
        }
      : null,
    perImage,
    details:
      histogram && sampler
        ? { pixelCurve: sampler.points, histogram, ...rankImages(images, perImage, samples) }
        : undefined,
  };
}

function rankImages(images: ScoredImage[], perImage: ImageResult[], samples: Sample[]) {
  const ranked = images
    .map((image, i): RankedImage | undefined => {
      const { auroc, aupr, fpr95 } = perImage[i]!;
      return auroc === undefined || aupr === undefined || fpr95 === undefined
        ? undefined
        : { ...image, path: samples[i]!.image, auroc, aupr, fpr95 };
    })
    .filter((image) => image !== undefined)
    .sort((a, b) => b.aupr - a.aupr);
  // Never the same image in both rows: with few images the worst row gets what the best row left.
  const shown = Math.min(SHOWN_IMAGES, Math.ceil(ranked.length / 2));
  return { best: ranked.slice(0, shown), worst: ranked.slice(Math.max(shown, ranked.length - shown)).reverse() };
}
