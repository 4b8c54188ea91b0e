/**
 * Exact OOD metrics with OOD as the positive class, the same definitions as training/dmlnet/metrics.py
 * (and sklearn): the ROC and precision-recall curves have one point per distinct score.
 *   AUROC  trapezoidal area under (FPR, TPR), starting at (0, 0)
 *   AUPR   average precision: sum over points of (R_n - R_{n-1}) * P_n
 *   FPR95  FPR at the first point, by descending threshold, whose TPR reaches 0.95
 *   best F1  the largest 2PR / (P + R) over the points, and the score at that point (a pixel at or above it is
 *          predicted OOD): SegmentMeIfYouCan's pixel threshold for its component metrics
 * Exact because both score lists are fully sorted (typed-array sort) and merged from the top; no binning.
 */
export interface OodMetrics {
  auroc: number;
  aupr: number;
  fpr95: number;
}

export interface PixelMetrics extends OodMetrics {
  /** Percent. */
  bestF1: number;
  bestF1Threshold: number;
}

/** Receives every point of the sweep, by descending threshold: for drawing the ROC and precision-recall curves. */
export type CurvePoint = (point: { threshold: number; tpr: number; fpr: number; precision: number }) => void;

/**
 * Metrics in percent from OOD (positive) and in-distribution (negative) scores; null unless both are present.
 * Sorts the arrays in place. `onPoint` sees the curve points the figures are computed from.
 */
export function oodMetrics(
  positives: Float32Array,
  negatives: Float32Array,
  onPoint?: CurvePoint,
): PixelMetrics | null {
  const totalPositives = positives.length;
  const totalNegatives = negatives.length;
  if (totalPositives === 0 || totalNegatives === 0) return null;
  positives.sort();
  negatives.sort();
  let i = totalPositives - 1;
  let j = totalNegatives - 1;
  let truePositives = 0;
  let falsePositives = 0;
  let previousTpr = 0;
  let previousFpr = 0;
  let auroc = 0;
  let aupr = 0;
  let fpr95 = Number.NaN;
  let bestF1 = 0;
  let bestF1Threshold = Number.NaN;
  while (i >= 0 || j >= 0) {
    const threshold = Math.max(i >= 0 ? positives[i]! : -Infinity, j >= 0 ? negatives[j]! : -Infinity);
    while (i >= 0 && positives[i] === threshold) {
      truePositives++;
      i--;
    }
    while (j >= 0 && negatives[j] === threshold) {
      falsePositives++;
      j--;
    }
    const tpr = truePositives / totalPositives;
    const fpr = falsePositives / totalNegatives;
    const precision = truePositives / (truePositives + falsePositives);
    onPoint?.({ threshold, tpr, fpr, precision });
    auroc += ((fpr - previousFpr) * (tpr + previousTpr)) / 2;
    aupr += (tpr - previousTpr) * precision;
    if (Number.isNaN(fpr95) && tpr >= 0.95) fpr95 = fpr;
    const f1 = (2 * truePositives) / (truePositives + falsePositives + totalPositives);
    if (f1 > bestF1) [bestF1, bestF1Threshold] = [f1, threshold];
    previousTpr = tpr;
    previousFpr = fpr;
  }
  return { auroc: 100 * auroc, aupr: 100 * aupr, fpr95: 100 * fpr95, bestF1: 100 * bestF1, bestF1Threshold };
}

/** The scores of the pixels `keep` selects, in pixel order. */
export function scoresWhere(scores: Float32Array, keep: (pixel: number) => boolean): Float32Array {
  let count = 0;
  for (let p = 0; p < scores.length; p++) if (keep(p)) count++;
  const out = new Float32Array(count);
  for (let p = 0, i = 0; p < scores.length; p++) if (keep(p)) out[i++] = scores[p]!;
  return out;
}

export function concatScores(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
