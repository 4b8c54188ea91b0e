import type { CurvePoint } from './ood-metrics.js';

export interface CurveSample {
  threshold: number;
  tpr: number;
  fpr: number;
  precision: number;
}

/**
 * Keeps the sweep's points a plot can show: one whenever the curve has moved by `step` (in TPR + FPR) since
 * the last kept one, and the last point. The exact curve has a point per distinct score (millions); the kept
 * ones lie on it, so the drawn curve is the one the figures come from.
 */
export function curveSampler(step = 0.002): { onPoint: CurvePoint; points: CurveSample[] } {
  const points: CurveSample[] = [];
  let pending: CurveSample | undefined;
  const onPoint: CurvePoint = (point) => {
    const last = points.at(-1);
    if (!last || Math.abs(point.tpr - last.tpr) + Math.abs(point.fpr - last.fpr) >= step) {
      points.push(point);
      pending = undefined;
    } else pending = point;
  };
  return {
    onPoint,
    get points() {
      return pending ? [...points, pending] : points;
    },
  };
}

export interface ScoreHistogram {
  /** Lower edge of the first bin and upper edge of the last. */
  min: number;
  max: number;
  /** Fraction of the OOD (unknown) and of the in-distribution (known) pixels in each bin. */
  unknown: number[];
  known: number[];
}

/** Histograms of both pixel sets over one shared range, each normalised to sum 1. */
export function scoreHistogram(unknown: Float32Array, known: Float32Array, bins = 50): ScoreHistogram {
  let [min, max] = [Infinity, -Infinity];
  for (const values of [unknown, known])
    for (const value of values) [min, max] = [Math.min(min, value), Math.max(max, value)];
  if (!Number.isFinite(min)) [min, max] = [0, 1];
  if (min >= 0 && max <= 1) [min, max] = [0, 1];
  const width = (max - min) / bins || 1;
  const count = (values: Float32Array) => {
    const counts = new Array<number>(bins).fill(0);
    for (const value of values) counts[Math.min(bins - 1, Math.floor((value - min) / width))]!++;
    return counts.map((n) => (values.length ? n / values.length : 0));
  };
  return { min, max, unknown: count(unknown), known: count(known) };
}
