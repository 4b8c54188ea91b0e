/**
 * The maths of teaching a class without retraining, in the model's metric space (DMLNet's NPM).
 *
 * Embeddings are channel-major, as the engine gives them: value (channel c, pixel p) = data[c * pixels + p].
 * Every distance here is a squared Euclidean distance, the quantity the metric head classifies with.
 */
import { AppError } from '../core/errors.js';

/** An embedding map: `dim` channels over `pixels` pixels, channel-major. */
export interface EmbeddingMap {
  dim: number;
  pixels: number;
  data: Float32Array;
}

/** One shot: a frame's embedding and the pixels marked as the new class (1 = marked), same pixel order. */
export interface Shot {
  embedding: EmbeddingMap;
  mask: Uint8Array;
}

/** How the acceptance radius is set (see docs/teaching.md, "The maths"). */
export type RadiusRule =
  | { kind: 'fixed'; squaredDistance: number }
  | { kind: 'spread'; percentile: number; scale: number }
  /** The radius that maximises the class's IoU against the masks on the shot frames themselves. */
  | { kind: 'fit' };

/** DMLNet's few-shot code: a pixel joins the novel class when its squared distance is under 1.5. */
export const DMLNET_RADIUS_RULE: RadiusRule = { kind: 'fixed', squaredDistance: 1.5 };
/** Ours (measured against the others in docs/models.md, few-shot): the radius that best reproduces the user's own masks. */
export const DEFAULT_RADIUS_RULE: RadiusRule = { kind: 'fit' };

export interface TaughtModel {
  prototypes: number[][];
  acceptanceRadius: number;
  /** Squared distances of the shots' marked pixels to their nearest prototype: median and maximum. */
  spread: { median: number; max: number; pixels: number };
}

export function squaredDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const diff = (a[i] as number) - (b[i] as number);
    sum += diff * diff;
  }
  return sum;
}

/** Copies the embedding of every marked pixel into a dense pixel-major matrix (rows = marked pixels). */
export function markedVectors(shot: Shot): Float32Array[] {
  const { dim, pixels, data } = shot.embedding;
  if (shot.mask.length !== pixels) {
    throw new AppError('invalid_mask', `The mask has ${shot.mask.length} pixels but the embedding has ${pixels}`);
  }
  const rows: Float32Array[] = [];
  for (let p = 0; p < pixels; p++) {
    if (!shot.mask[p]) continue;
    const row = new Float32Array(dim);
    for (let c = 0; c < dim; c++) row[c] = data[c * pixels + p] as number;
    rows.push(row);
  }
  return rows;
}

/**
 * `count` pixels of the map chosen at random without repeats (partial Fisher-Yates, seeded by the map's size, so
 * a frame always gives the same sample and a smaller sample is the start of a larger one), and their embeddings
 * as rows of `dim` values laid end to end.
 */
export function sampledRows(
  embedding: EmbeddingMap,
  count: number,
): { pixels: Uint32Array<ArrayBuffer>; rows: Float32Array<ArrayBuffer> } {
  const { dim, pixels, data } = embedding;
  const chosen = Math.min(count, pixels);
  const random = seededRandom(pixels);
  const order = Uint32Array.from({ length: pixels }, (_, i) => i);
  for (let i = 0; i < chosen; i++) {
    const j = i + Math.floor(random() * (pixels - i));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const picked = order.slice(0, chosen);
  const rows = new Float32Array(chosen * dim);
  picked.forEach((p, i) => {
    for (let c = 0; c < dim; c++) rows[i * dim + c] = data[c * pixels + p]!;
  });
  return { pixels: picked, rows };
}

export function meanVector(rows: ArrayLike<number>[], dim: number): number[] {
  const mean = new Array<number>(dim).fill(0);
  for (const row of rows) for (let c = 0; c < dim; c++) mean[c] = (mean[c] as number) + (row[c] as number);
  return mean.map((sum) => sum / rows.length);
}

/** NPM: the mean of the per-shot mean embeddings, so a shot with a large object does not outweigh the others. */
export function npmPrototype(shotVectors: Float32Array[][], dim: number): number[] {
  const perShot = shotVectors.map((rows) => meanVector(rows, dim));
  return meanVector(perShot, dim);
}

/** A reproducible random stream (mulberry32), so k-means and sampling give the same answer every run. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function nearest(row: ArrayLike<number>, centres: number[][]): { index: number; distance: number } {
  let index = 0;
  let distance = Infinity;
  centres.forEach((centre, i) => {
    const d = squaredDistance(row, centre);
    if (d < distance) {
      distance = d;
      index = i;
    }
  });
  return { index, distance };
}

/** k-means++ seeding then Lloyd iterations; deterministic for a given seed. Returns k centres (fewer if rows are few). */
export function kMeans(rows: Float32Array[], dim: number, k: number, seed = 1, iterations = 25): number[][] {
  const random = seededRandom(seed);
  const first = rows[Math.floor(random() * rows.length)] as Float32Array;
  const centres: number[][] = [Array.from(first)];
  while (centres.length < Math.min(k, rows.length)) {
    const weights = rows.map((row) => nearest(row, centres).distance);
    const total = weights.reduce((a, b) => a + b, 0);
    if (total === 0) break;
    let pick = random() * total;
    const chosen = weights.findIndex((w) => (pick -= w) <= 0);
    centres.push(Array.from(rows[chosen === -1 ? rows.length - 1 : chosen] as Float32Array));
  }
  for (let iteration = 0; iteration < iterations; iteration++) {
    const groups = centres.map(() => [] as Float32Array[]);
    for (const row of rows) groups[nearest(row, centres).index]?.push(row);
    const next = groups.map((group, i) => (group.length ? meanVector(group, dim) : (centres[i] as number[])));
    const moved = next.some((centre, i) => squaredDistance(centre, centres[i] as number[]) > 1e-12);
    centres.splice(0, centres.length, ...next);
    if (!moved) break;
  }
  return centres;
}

/** The p-th percentile (0..100) by linear interpolation between order statistics. */
export function percentile(values: Float64Array | number[], p: number): number {
  const sorted = Float64Array.from(values).sort();
  if (sorted.length === 0) return NaN;
  const rank = (p / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.min(sorted.length - 1, low + 1);
  return (sorted[low] as number) + (rank - low) * ((sorted[high] as number) - (sorted[low] as number));
}

/**
 * Builds a taught class from its shots. k = 1 is NPM; k > 1 clusters all marked pixels into k prototypes
 * (k-means) so a class with distinct looks (a pedestrian's legs and torso, say) keeps each.
 */
export function teachClass(
  shots: Shot[],
  options: { k?: number; radius?: RadiusRule; basePrototypes?: number[][] } = {},
): TaughtModel {
  const k = options.k ?? 1;
  const rule = options.radius ?? DEFAULT_RADIUS_RULE;
  if (shots.length === 0) throw new AppError('no_shots', 'Teaching needs at least one frame with a mask');
  const dim = (shots[0] as Shot).embedding.dim;
  const shotVectors = shots.map((shot, i) => {
    if (shot.embedding.dim !== dim)
      throw new AppError('invalid_mask', `Shot ${i + 1} has embedding size ${shot.embedding.dim}, expected ${dim}`);
    const rows = markedVectors(shot);
    if (rows.length === 0)
      throw new AppError('empty_mask', `The mask of shot ${i + 1} marks no pixel: paint the object first`);
    return rows;
  });
  const all = shotVectors.flat();
  const prototypes = k <= 1 ? [npmPrototype(shotVectors, dim)] : kMeans(subsample(all, 20_000, 7), dim, k);
  const distances = Float64Array.from(all, (row) => nearest(row, prototypes).distance);
  const acceptanceRadius =
    rule.kind === 'fixed'
      ? rule.squaredDistance
      : rule.kind === 'spread'
        ? percentile(distances, rule.percentile) * rule.scale
        : fitRadius(shots, prototypes, options.basePrototypes ?? []);
  return {
    prototypes,
    acceptanceRadius,
    spread: { median: percentile(distances, 50), max: percentile(distances, 100), pixels: all.length },
  };
}

/**
 * The squared radius with the best IoU between "taken by the class" and the masks over every pixel of the
 * shot frames. Pixels the mask leaves out count against the class, so a radius that also takes road or
 * building is rejected by the user's own frames, without looking at any evaluation data.
 */
export function fitRadius(shots: Shot[], prototypes: number[][], basePrototypes: number[][]): number {
  const candidates: { distance: number; marked: boolean }[] = [];
  let markedTotal = 0;
  for (const shot of shots) {
    const { dim, pixels, data } = shot.embedding;
    const vector = new Float32Array(dim);
    for (let p = 0; p < pixels; p++) {
      for (let c = 0; c < dim; c++) vector[c] = data[c * pixels + p] as number;
      const marked = shot.mask[p] === 1;
      if (marked) markedTotal++;
      const distance = nearest(vector, prototypes).distance;
      // A pixel closer to a built-in prototype is never taken, whatever the radius.
      if (basePrototypes.length === 0 || distance < nearest(vector, basePrototypes).distance)
        candidates.push({ distance, marked });
    }
  }
  candidates.sort((a, b) => a.distance - b.distance);
  let best = { iou: -1, radius: 0 };
  let taken = 0;
  let hit = 0;
  candidates.forEach((candidate, i) => {
    taken++;
    if (candidate.marked) hit++;
    const next = candidates[i + 1];
    if (next && next.distance === candidate.distance) return;
    const iou = hit / (markedTotal + taken - hit);
    // The radius sits halfway to the next candidate, so the chosen pixels are strictly inside it.
    if (iou > best.iou)
      best = { iou, radius: next ? (candidate.distance + next.distance) / 2 : candidate.distance * 1.0001 + 1e-9 };
  });
  return best.radius;
}

export function subsample<T>(items: T[], limit: number, seed: number): T[] {
  if (items.length <= limit) return items;
  const random = seededRandom(seed);
  const copy = items.slice();
  for (let i = 0; i < limit; i++) {
    const j = i + Math.floor(random() * (copy.length - i));
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy.slice(0, limit);
}

/** A taught class as the classifier sees it. */
export interface TaughtClassifierEntry {
  prototypes: number[][];
  acceptanceRadius: number;
}

/**
 * The class of one pixel embedding: the nearest built-in prototype, unless a taught class is within its
 * acceptance radius and closer than every built-in prototype (then the closest such taught class).
 * Returns the built-in index, or basePrototypes.length + taught index.
 */
export function classifyVector(
  vector: ArrayLike<number>,
  basePrototypes: number[][],
  taught: TaughtClassifierEntry[],
): number {
  const base = nearest(vector, basePrototypes);
  let best = base.index;
  let bestDistance = base.distance;
  taught.forEach((entry, t) => {
    const d = nearest(vector, entry.prototypes).distance;
    if (d < entry.acceptanceRadius && d < bestDistance) {
      best = basePrototypes.length + t;
      bestDistance = d;
    }
  });
  return best;
}

/** classifyVector over a whole embedding map; returns one class index per pixel. */
export function classifyMap(
  embedding: EmbeddingMap,
  basePrototypes: number[][],
  taught: TaughtClassifierEntry[],
): Uint8Array {
  const { dim, pixels, data } = embedding;
  const out = new Uint8Array(pixels);
  const vector = new Float32Array(dim);
  for (let p = 0; p < pixels; p++) {
    for (let c = 0; c < dim; c++) vector[c] = data[c * pixels + p] as number;
    out[p] = classifyVector(vector, basePrototypes, taught);
  }
  return out;
}

/** Squared distance from a new prototype to the nearest existing one, to warn when a class would duplicate another. */
export function nearestExisting(prototype: number[], existing: { name: string; prototypes: number[][] }[]) {
  let best: { name: string; squaredDistance: number } | null = null;
  for (const entry of existing) {
    const d = nearest(prototype, entry.prototypes).distance;
    if (!best || d < best.squaredDistance) best = { name: entry.name, squaredDistance: d };
  }
  return best;
}
