/**
 * The metric-space view's neighbours layout: UMAP (McInnes, Healy & Melville, 2018) to three dimensions, written
 * here for the view's few thousand points. PCA keeps the directions of largest variance, which the classes that
 * fill a frame own, and squashes small ones (a pedestrian) into them; this layout keeps each pixel's nearest
 * neighbours in the embedding near it in the view, so a lasso round a cluster takes what the embedding groups.
 * Exact neighbours (no approximate search) and a PCA start: the same rows always give the same layout.
 */
import { fitPca, projectAll, rowsOf } from './pca.js';
import { seededRandom, squaredDistance } from './prototypes.js';

/** Each point's k nearest other points, nearest first: indices and distances, point i at [i * k, (i + 1) * k). */
export interface NeighbourLists {
  k: number;
  indices: Int32Array;
  distances: Float32Array;
}

export interface LayoutOptions {
  neighbours: number;
  epochs: number;
  seed: number;
}

export const DEFAULT_LAYOUT: LayoutOptions = { neighbours: 15, epochs: 200, seed: 1 };
/** The neighbours a figure of merit (neighboursKept) compares: the view's lasso works at about this scale. */
export const KEPT_NEIGHBOURS = 10;

// The view's similarity curve 1 / (1 + a d^2b): a as umap-learn fits it for min_dist 0.1 and spread 1, b fixed at 1
// (it fits 0.895). With b = 1 a step needs no power, which made the layout 3.7x faster, and it kept the same share of
// neighbours (0.58) on five val frames (docs/teaching.md, "The neighbours layout").
const CURVE_A = 1.576943460405378;
const NEGATIVE_SAMPLES = 5;
const GRADIENT_CLIP = 4;
// umap-learn's start: the initial layout spans [0, 10] on its widest axis.
const START_EXTENT = 10;

/**
 * Exact k nearest neighbours of `count` rows of `dim` values (row-major), by Euclidean distance. Each pair's
 * distance is computed once and offered to both points' lists.
 */
export function nearestNeighbours(rows: Float32Array, dim: number, k: number): NeighbourLists {
  const count = rows.length / dim;
  if (!Number.isInteger(count) || count <= k)
    throw new RangeError(`Nearest neighbours: ${count} points of ${dim} values cannot give ${k} neighbours each`);
  const indices = new Int32Array(count * k).fill(-1);
  const squared = new Float32Array(count * k).fill(Infinity);
  for (let i = 0; i < count; i++) {
    for (let j = i + 1; j < count; j++) {
      let d = 0;
      for (let c = 0; c < dim; c++) {
        const difference = rows[i * dim + c]! - rows[j * dim + c]!;
        d += difference * difference;
      }
      offer(indices, squared, i * k, k, j, d);
      offer(indices, squared, j * k, k, i, d);
    }
  }
  return { k, indices, distances: squared.map(Math.sqrt) };
}

/** Inserts candidate j at squared distance d into the sorted list at [start, start + k) if it is near enough. */
function offer(indices: Int32Array, squared: Float32Array, start: number, k: number, j: number, d: number): void {
  if (d >= squared[start + k - 1]!) return;
  let slot = start + k - 1;
  for (; slot > start && squared[slot - 1]! > d; slot--) {
    squared[slot] = squared[slot - 1]!;
    indices[slot] = indices[slot - 1]!;
  }
  squared[slot] = d;
  indices[slot] = j;
}

/** Edges of the fuzzy neighbour graph, each undirected pair listed in both directions. */
export interface FuzzyGraph {
  from: Int32Array;
  to: Int32Array;
  weight: Float32Array;
}

/**
 * UMAP's fuzzy graph: point i's membership to neighbour j is exp(-(d - rho_i) / sigma_i), with rho_i its nearest
 * distance and sigma_i chosen so that the memberships sum to log2(k); the two directions of a pair combine as a
 * fuzzy union, a + b - ab.
 */
export function fuzzyGraph(lists: NeighbourLists): FuzzyGraph {
  const { k, indices, distances } = lists;
  const count = indices.length / k;
  const directed = new Map<number, number>();
  for (let i = 0; i < count; i++) {
    const row = distances.subarray(i * k, (i + 1) * k);
    const rho = row.find((d) => d > 0) ?? 0;
    const sigma = membershipScale(row, rho, Math.log2(k));
    for (let n = 0; n < k; n++) {
      const j = indices[i * k + n]!;
      directed.set(i * count + j, Math.exp(-Math.max(0, row[n]! - rho) / sigma));
    }
  }
  const from: number[] = [];
  const to: number[] = [];
  const weight: number[] = [];
  for (const [key, a] of directed) {
    const i = Math.floor(key / count);
    const j = key - i * count;
    const b = directed.get(j * count + i);
    if (b !== undefined && j < i) continue; // the pair was written from j's side
    const union = b === undefined ? a : a + b - a * b;
    from.push(i, j);
    to.push(j, i);
    weight.push(union, union);
  }
  return { from: Int32Array.from(from), to: Int32Array.from(to), weight: Float32Array.from(weight) };
}

/** Bisection for sigma with sum_n exp(-max(0, d_n - rho) / sigma) = target, floored as umap-learn floors it. */
function membershipScale(distances: Float32Array, rho: number, target: number): number {
  let low = 0;
  let high = Infinity;
  let sigma = 1;
  for (let step = 0; step < 64; step++) {
    let sum = 0;
    for (const d of distances) sum += Math.exp(-Math.max(0, d - rho) / sigma);
    if (Math.abs(sum - target) < 1e-5) break;
    if (sum > target) high = sigma;
    else low = sigma;
    sigma = high === Infinity ? sigma * 2 : (low + high) / 2;
  }
  const mean = distances.reduce((total, d) => total + d, 0) / distances.length;
  return Math.max(sigma, 1e-3 * (rho > 0 ? rho : mean), 1e-12);
}

/**
 * The three-dimensional layout, x y z per point: starts from the rows' PCA and moves along the fuzzy graph's
 * edges (attraction) and random other points (repulsion) by stochastic gradient descent, as umap-learn's
 * optimize_layout_euclidean does.
 */
export function layoutByNeighbours(
  rows: Float32Array,
  dim: number,
  options: LayoutOptions = DEFAULT_LAYOUT,
): { positions: Float32Array<ArrayBuffer>; lists: NeighbourLists } {
  const lists = nearestNeighbours(rows, dim, options.neighbours);
  const graph = fuzzyGraph(lists);
  const random = seededRandom(options.seed);
  const positions = startingLayout(rows, dim, random);
  optimise(positions, graph, options.epochs, random);
  return { positions, lists };
}

function startingLayout(rows: Float32Array, dim: number, random: () => number): Float32Array<ArrayBuffer> {
  const vectors = rowsOf(rows, dim);
  const positions = projectAll(vectors, fitPca(vectors, dim));
  let extent = 1e-12;
  for (const value of positions) extent = Math.max(extent, Math.abs(value));
  // A little noise parts points with equal embeddings, whose zero distance gives no gradient to move them.
  return positions.map((value) => (value / extent) * (START_EXTENT / 2) + (random() - 0.5) * 1e-4 * START_EXTENT);
}

function optimise(positions: Float32Array, graph: FuzzyGraph, epochs: number, random: () => number): void {
  const { from, to, weight } = graph;
  const count = positions.length / 3;
  const heaviest = weight.reduce((max, w) => Math.max(max, w), 0);
  // An edge is sampled every heaviest / weight epochs; edges too light to be sampled once are dropped.
  const period = Float64Array.from(weight, (w) => (w >= heaviest / epochs ? heaviest / w : Infinity));
  const nextSample = period.slice();
  const negativePeriod = period.map((p) => p / NEGATIVE_SAMPLES);
  const nextNegative = negativePeriod.slice();
  for (let epoch = 0; epoch < epochs; epoch++) {
    const rate = 1 - epoch / epochs;
    for (let edge = 0; edge < from.length; edge++) {
      if (nextSample[edge]! > epoch) continue;
      const i = from[edge]!;
      const j = to[edge]!;
      const d2 = squaredGap(positions, i, j);
      if (d2 > 0) {
        const attraction = (-2 * CURVE_A) / (CURVE_A * d2 + 1);
        step(positions, i, j, attraction, rate, true);
      }
      nextSample[edge]! += period[edge]!;
      const negatives = Math.floor((epoch - nextNegative[edge]!) / negativePeriod[edge]!);
      for (let n = 0; n < negatives; n++) {
        const other = Math.floor(random() * count);
        if (other === i) continue;
        const gap = squaredGap(positions, i, other);
        const repulsion = gap > 0 ? 2 / ((0.001 + gap) * (CURVE_A * gap + 1)) : 0;
        step(positions, i, other, repulsion, rate, false);
      }
      if (negatives > 0) nextNegative[edge]! += negatives * negativePeriod[edge]!;
    }
  }
}

/** Moves point i along coefficient * (i - j) (clipped per axis; a coefficient of 0 is a full step), and j back if both. */
function step(positions: Float32Array, i: number, j: number, coefficient: number, rate: number, both: boolean): void {
  for (let axis = 0; axis < 3; axis++) {
    const difference = positions[i * 3 + axis]! - positions[j * 3 + axis]!;
    const change = (coefficient === 0 ? GRADIENT_CLIP : clip(coefficient * difference)) * rate;
    positions[i * 3 + axis]! += change;
    if (both) positions[j * 3 + axis]! -= change;
  }
}

function squaredGap(positions: Float32Array, i: number, j: number): number {
  const dx = positions[i * 3]! - positions[j * 3]!;
  const dy = positions[i * 3 + 1]! - positions[j * 3 + 1]!;
  const dz = positions[i * 3 + 2]! - positions[j * 3 + 2]!;
  return dx * dx + dy * dy + dz * dz;
}

const clip = (value: number) => Math.max(-GRADIENT_CLIP, Math.min(GRADIENT_CLIP, value));

/**
 * How much of the embedding's neighbourhoods the view keeps: the mean share of each point's KEPT_NEIGHBOURS
 * nearest points in the embedding that are also among its KEPT_NEIGHBOURS nearest in the view (1: all).
 */
export function neighboursKept(lists: NeighbourLists, positions: Float32Array): number {
  const kept = Math.min(KEPT_NEIGHBOURS, lists.k);
  const view = nearestNeighbours(positions, 3, kept);
  const count = positions.length / 3;
  let shared = 0;
  for (let i = 0; i < count; i++) {
    const inView = new Set(view.indices.subarray(i * kept, (i + 1) * kept));
    for (let n = 0; n < kept; n++) if (inView.has(lists.indices[i * lists.k + n]!)) shared++;
  }
  return shared / (count * kept);
}

/**
 * Where a vector that is not one of the laid-out rows (a prototype) belongs in the layout: the mean position of
 * the KEPT_NEIGHBOURS rows nearest it in the embedding.
 */
export function meanPositionNear(
  vector: ArrayLike<number>,
  rows: Float32Array,
  dim: number,
  positions: Float32Array,
): [number, number, number] {
  const count = rows.length / dim;
  const kept = Math.min(KEPT_NEIGHBOURS, count);
  const indices = new Int32Array(kept).fill(-1);
  const squared = new Float32Array(kept).fill(Infinity);
  rowsOf(rows, dim).forEach((row, i) => offer(indices, squared, 0, kept, i, squaredDistance(row, vector)));
  const mean: [number, number, number] = [0, 0, 0];
  for (const i of indices) for (let axis = 0; axis < 3; axis++) mean[axis]! += positions[i * 3 + axis]! / kept;
  return mean;
}
