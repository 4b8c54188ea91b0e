/**
 * SegmentMeIfYouCan's component-level metrics (Chan et al. 2021, "SegmentMeIfYouCan", section 4; the
 * road-anomaly-benchmark code, metrics/instance_segmentation.py), the same definitions as
 * training/dmlnet/metrics.py:
 * - pixels scoring at or above the pixel threshold are predicted anomalous, except void pixels; predicted and
 *   ground-truth anomalies form 8-connected components; predicted components under 500 px are dropped, ground
 *   truth components under 100 px become void; what follows counts only non-void pixels;
 * - sIoU of a ground-truth component k: |k ∩ P(k)| / |(k ∪ P(k)) \ A(k)|, P(k) the predicted components that
 *   touch k, A(k) the pixels of other ground-truth components (a prediction covering two objects is not
 *   punished twice for the second);
 * - PPV of a predicted component p: |p ∩ ground-truth anomaly| / |p|;
 * - at each tau in 0.25, 0.30, ..., 0.75: TP = components with sIoU > tau, FN the rest, FP = predicted
 *   components with PPV <= tau; F1(tau) = 2 TP / (2 TP + FN + FP), counts summed over the images; mean F1 is its
 *   mean over the 11 taus.
 * The paper's inequalities and PPV are used; the benchmark's code counts TP at sIoU >= tau and FP by an
 * adjusted IoU of the predicted component (< tau) instead of PPV. The pixel threshold (evaluate.ts) is the one
 * of the best pixel F1, and a pixel is predicted at a score >= it, the set whose F1 that is (the code uses >).
 */
import { AppError } from '../core/errors.js';
import { componentBoxes, labelComponents } from '../engine/regions.js';
import { IGNORE_LABEL, OOD_LABEL } from './labels.js';

export const SIOU_THRESHOLDS = [25, 30, 35, 40, 45, 50, 55, 60, 65, 70, 75].map((percent) => percent / 100);
export const MIN_PREDICTED_PIXELS = 500;
export const MIN_TRUTH_PIXELS = 100;

export interface ComponentScores {
  /** One per ground-truth component (at least MIN_TRUTH_PIXELS). */
  siou: number[];
  /** One per predicted component (at least MIN_PREDICTED_PIXELS, with a non-void pixel). */
  ppv: number[];
}

export interface ComponentMetrics {
  /** Means over every component of every image, percent; null without such components. */
  siou: number | null;
  ppv: number | null;
  /** Mean of F1 over the sIoU thresholds, percent; null when no image has a component of either kind. */
  meanF1: number | null;
  truthComponents: number;
  predictedComponents: number;
  /**
   * Per sIoU threshold: component precision TP / (TP + FP) and recall TP / (TP + FN), whose harmonic mean is
   * F1(tau); null where a ratio has no components to count.
   */
  byThreshold: { tau: number; precision: number | null; recall: number | null; f1: number | null }[];
}

/** Component labels with those under `minPixels` removed (0). */
function keptComponents(mask: Uint8Array, value: number, width: number, height: number, minPixels: number) {
  const components = labelComponents(mask, value, width, height);
  const small = componentBoxes(components, width, height).map((box) => box.pixels < minPixels);
  const labels = components.labels.map((label) => (label > 0 && small[label - 1] ? 0 : label));
  return { labels, count: components.count };
}

/**
 * Over non-void pixels: each component's size, each (truth, predicted) overlap, and each predicted
 * component's pixels on any truth component.
 */
function tallyOverlaps(
  truthLabels: Int32Array,
  predLabels: Int32Array,
  roi: Uint8Array,
  truthCount: number,
  predCount: number,
) {
  const truthSize = new Float64Array(truthCount + 1);
  const predSize = new Float64Array(predCount + 1);
  const overlap = new Map<number, number>(); // key truth * (predCount + 1) + pred
  for (let i = 0; i < roi.length; i++) {
    if (!roi[i]) continue;
    const t = truthLabels[i]!;
    const p = predLabels[i]!;
    truthSize[t]!++;
    predSize[p]!++;
    if (t > 0 && p > 0) {
      const key = t * (predCount + 1) + p;
      overlap.set(key, (overlap.get(key) ?? 0) + 1);
    }
  }
  const onTruth = new Float64Array(predCount + 1);
  for (const [key, pixels] of overlap) onTruth[key % (predCount + 1)]! += pixels;
  return { truthSize, predSize, overlap, onTruth };
}

/** sIoU and PPV of one image's components; maps of different sizes are refused, naming both sizes. */
export function frameComponents(
  predicted: Uint8Array,
  truth: Uint8Array,
  width: number,
  height: number,
  where = 'the image',
): ComponentScores {
  if (predicted.length !== width * height || truth.length !== width * height) {
    throw new AppError(
      'eval_size_mismatch',
      `Component metrics of ${where}: the prediction has ${predicted.length} pixels and the ground truth ${truth.length}, but the map is ${width}x${height} (${width * height})`,
    );
  }
  const pred = predicted.map((value, i) => (value && truth[i] !== IGNORE_LABEL ? 1 : 0));
  const predLabels = keptComponents(pred, 1, width, height, MIN_PREDICTED_PIXELS);
  const truthLabels = keptComponents(truth, OOD_LABEL, width, height, MIN_TRUTH_PIXELS);
  // Ground-truth components too small to count become void, as void pixels are: out of every count.
  const roi = truth.map((value, i) =>
    value === IGNORE_LABEL || (value === OOD_LABEL && truthLabels.labels[i] === 0) ? 0 : 1,
  );
  const tally = tallyOverlaps(truthLabels.labels, predLabels.labels, roi, truthLabels.count, predLabels.count);
  return {
    siou: truthSiou(tally, truthLabels.count, predLabels.count),
    ppv: predictedPpv(tally, predLabels.count),
  };
}

type Tally = ReturnType<typeof tallyOverlaps>;

function truthSiou({ truthSize, predSize, overlap, onTruth }: Tally, truthCount: number, predCount: number) {
  const siou: number[] = [];
  for (let t = 1; t <= truthCount; t++) {
    if (truthSize[t] === 0) continue;
    let intersection = 0;
    let predicted = 0;
    let onOthers = 0;
    for (let p = 1; p <= predCount; p++) {
      const shared = overlap.get(t * (predCount + 1) + p) ?? 0;
      if (shared === 0) continue;
      intersection += shared;
      predicted += predSize[p]!;
      onOthers += onTruth[p]! - shared;
    }
    siou.push(intersection / (predicted + truthSize[t]! - intersection - onOthers));
  }
  return siou;
}

function predictedPpv({ predSize, onTruth }: Tally, predCount: number): number[] {
  const ppv: number[] = [];
  for (let p = 1; p <= predCount; p++) if (predSize[p]! > 0) ppv.push(onTruth[p]! / predSize[p]!);
  return ppv;
}

const mean = (values: number[]) => (values.length ? (100 * values.reduce((a, b) => a + b, 0)) / values.length : null);

/** The dataset's figures from every image's components. */
export function componentMetrics(images: readonly ComponentScores[]): ComponentMetrics {
  const siou = images.flatMap((image) => image.siou);
  const ppv = images.flatMap((image) => image.ppv);
  const byThreshold = SIOU_THRESHOLDS.map((tau) => {
    const tp = siou.filter((value) => value > tau).length;
    const fp = ppv.filter((value) => value <= tau).length;
    const denominator = 2 * tp + (siou.length - tp) + fp;
    return {
      tau,
      precision: tp + fp > 0 ? tp / (tp + fp) : null,
      recall: siou.length > 0 ? tp / siou.length : null,
      f1: denominator > 0 ? (2 * tp) / denominator : null,
    };
  });
  const defined = byThreshold.map((point) => point.f1).filter((value): value is number => value !== null);
  return {
    siou: mean(siou),
    ppv: mean(ppv),
    meanF1: defined.length === SIOU_THRESHOLDS.length ? mean(defined) : null,
    truthComponents: siou.length,
    predictedComponents: ppv.length,
    byThreshold,
  };
}
