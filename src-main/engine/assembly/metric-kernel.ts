// AssemblyScript, compiled to WebAssembly with SIMD by scripts/build-main.mjs (dist/wasm/metric-kernel.wasm).
// DMLNet's metric head for four pixels at a time; metric-head.ts lays out the memory and documents the maths.
// V8 does not vectorise JavaScript: this runs the head several times faster than the same loops in TypeScript
// (figures: docs/benchmarks.md, "Figures behind design choices in the code").

const LOG2E: f32 = 1.44269504;
// ln 2 split in two (Cody-Waite) so that x - n ln2 stays exact to float32 precision.
const LN2_HIGH: f32 = 0.693359375;
const LN2_LOW: f32 = -2.1219444e-4;
// e^x below e^-87 is under float32's smallest normal number; the terms it would give do not change a sum of
// at least 1 (MMSP's largest term is e^0).
const EXP_FLOOR: f32 = -87.0;
const EXP_CEILING: f32 = 88.0;

export const SCORE_EDS: i32 = 0;
export const SCORE_MMSP: i32 = 1;
export const SCORE_COMBINED: i32 = 2;
export const SCORE_MARGIN: i32 = 3;
const UNKNOWN_CLASS: i32 = 255;
// The frame score's histogram (summary.ts): bin = floor(score * 4096) for scores clipped to [0, 1).
const HISTOGRAM_BINS: i32 = 4096;

/** Where metric-head.ts may start laying out its buffers. */
export function heapBase(): usize {
  return __heap_base;
}

function count(counts: usize, index: i32): void {
  const slot = counts + ((<usize>index) << 2);
  store<u32>(slot, load<u32>(slot) + 1);
}

/** Adds one to counts[lane] (uint32) for each of the 4 int32 lanes. */
function countLanes(counts: usize, lanes: v128): void {
  count(counts, i32x4.extract_lane(lanes, 0));
  count(counts, i32x4.extract_lane(lanes, 1));
  count(counts, i32x4.extract_lane(lanes, 2));
  count(counts, i32x4.extract_lane(lanes, 3));
}

/** Stores the 4 int32 lanes as 4 consecutive bytes. */
function storeLaneBytes(address: usize, lanes: v128): void {
  store<u8>(address, <u8>i32x4.extract_lane(lanes, 0));
  store<u8>(address + 1, <u8>i32x4.extract_lane(lanes, 1));
  store<u8>(address + 2, <u8>i32x4.extract_lane(lanes, 2));
  store<u8>(address + 3, <u8>i32x4.extract_lane(lanes, 3));
}

/** ||f - m||^2 = ||f||^2 - 2 f.m + ||m||^2 per lane, from the dot product in `slot`; never below 0 (rounding). */
function squaredDistance(norm: v128, slot: usize, prototypeNorm: f32): v128 {
  const dot = v128.load(slot);
  return f32x4.max(f32x4.splat(0), f32x4.add(f32x4.sub(norm, f32x4.add(dot, dot)), f32x4.splat(prototypeNorm)));
}

/** e^x per lane, relative error about 2e-7 (float32 rounding): x = n ln2 + f, |f| <= ln2/2, e^f by a degree-6 polynomial. */
function exp4(x: v128): v128 {
  x = f32x4.max(f32x4.min(x, f32x4.splat(EXP_CEILING)), f32x4.splat(EXP_FLOOR));
  const n = f32x4.nearest(f32x4.mul(x, f32x4.splat(LOG2E)));
  let f = f32x4.sub(x, f32x4.mul(n, f32x4.splat(LN2_HIGH)));
  f = f32x4.sub(f, f32x4.mul(n, f32x4.splat(LN2_LOW)));
  let p = f32x4.splat(1.0 / 720.0);
  p = f32x4.add(f32x4.mul(p, f), f32x4.splat(1.0 / 120.0));
  p = f32x4.add(f32x4.mul(p, f), f32x4.splat(1.0 / 24.0));
  p = f32x4.add(f32x4.mul(p, f), f32x4.splat(1.0 / 6.0));
  p = f32x4.add(f32x4.mul(p, f), f32x4.splat(0.5));
  p = f32x4.add(f32x4.mul(p, f), f32x4.splat(1.0));
  p = f32x4.add(f32x4.mul(p, f), f32x4.splat(1.0));
  const scale = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
  return f32x4.mul(p, scale);
}

/**
 * Scores `groups` groups of 4 pixels. Layout (byte offsets, all float32 unless said):
 * embedding: dim planes of `stride` values (stride = pixels rounded up to 4); the prototypes (rows, the `known`
 * card prototypes first) as their non-zero entries by plane: plane c's entries are termStarts[c] (int32) up to
 * termStarts[c + 1], each a row (int32, termRows) and a weight (termWeights); norms: their squared lengths; owners (uint8) and radii: per taught row, its
 * class index and squared acceptance radius; scratch: rows x 4 values. Writes classes and nearest (uint8) and
 * ood, ood as 8-bit levels (oodBytes: round(clip(ood, 0, 1) * 255)), and adds every pixel (padding too) to
 * histogram (4096 uint32, of ood) and classCounts (256 uint32).
 * Returns the first pixel whose embedding is not finite, or -1.
 */
export function scorePixels(
  embedding: usize,
  stride: i32,
  dim: i32,
  termStarts: usize,
  termRows: usize,
  termWeights: usize,
  norms: usize,
  known: i32,
  rows: i32,
  owners: usize,
  radii: usize,
  scratch: usize,
  score: i32,
  sMax: f32,
  sFloor: f32,
  beta: f32,
  gamma: f32,
  gMax: f32,
  threshold: f32,
  groups: i32,
  classes: usize,
  nearest: usize,
  ood: usize,
  oodBytes: usize,
  histogram: usize,
  classCounts: usize,
): i32 {
  const edsScale = f32x4.splat(1.0 / (sMax - sFloor));
  const zero = f32x4.splat(0);
  const one = f32x4.splat(1);
  for (let group = 0; group < groups; group++) {
    const pixel = group << 2;
    // Squared norm and the dot products with the prototypes, one embedding plane at a time, over the
    // prototypes' non-zero entries only (DMLNet's T e_t have one per plane).
    let norm = zero;
    for (let row = 0; row < rows; row++) v128.store(scratch + ((<usize>row) << 4), zero);
    for (let c = 0; c < dim; c++) {
      const f = v128.load(embedding + ((<usize>c * stride + pixel) << 2));
      norm = f32x4.add(norm, f32x4.mul(f, f));
      const last = load<i32>(termStarts + ((<usize>(c + 1)) << 2));
      for (let term = load<i32>(termStarts + ((<usize>c) << 2)); term < last; term++) {
        const slot = scratch + ((<usize>load<i32>(termRows + ((<usize>term) << 2))) << 4);
        const weight = f32x4.splat(load<f32>(termWeights + ((<usize>term) << 2)));
        v128.store(slot, f32x4.add(v128.load(slot), f32x4.mul(weight, f)));
      }
    }
    const finite = f32x4.lt(norm, f32x4.splat(Infinity));
    if (!i32x4.all_true(finite)) {
      if (!i32x4.extract_lane(finite, 0)) return pixel;
      if (!i32x4.extract_lane(finite, 1)) return pixel + 1;
      if (!i32x4.extract_lane(finite, 2)) return pixel + 2;
      return pixel + 3;
    }
    // Distances to the known prototypes (kept in scratch), their sum, the nearest.
    let sum = zero;
    let best = f32x4.splat(Infinity);
    let bestIndex = i32x4.splat(0);
    for (let row = 0; row < known; row++) {
      const slot = scratch + ((<usize>row) << 4);
      const d = squaredDistance(norm, slot, load<f32>(norms + ((<usize>row) << 2)));
      v128.store(slot, d);
      sum = f32x4.add(sum, d);
      const closer = f32x4.lt(d, best);
      best = v128.bitselect(d, best, closer);
      bestIndex = v128.bitselect(i32x4.splat(row), bestIndex, closer);
    }
    const eds = f32x4.min(one, f32x4.mul(f32x4.sub(f32x4.splat(sMax), f32x4.min(sum, f32x4.splat(sMax))), edsScale));
    let value = eds;
    if (score == SCORE_MARGIN) {
      const margin = f32x4.sub(f32x4.mul(sum, f32x4.splat(1.0 / <f32>known)), best);
      value = f32x4.sub(one, f32x4.div(f32x4.min(margin, f32x4.splat(gMax)), f32x4.splat(gMax)));
    } else if (score != SCORE_EDS) {
      let expSum = zero;
      for (let row = 0; row < known; row++) {
        expSum = f32x4.add(expSum, exp4(f32x4.sub(best, v128.load(scratch + ((<usize>row) << 4)))));
      }
      const mmsp = f32x4.sub(one, f32x4.div(one, expSum));
      if (score == SCORE_MMSP) value = mmsp;
      else {
        const alpha = f32x4.div(
          one,
          f32x4.add(one, exp4(f32x4.mul(f32x4.splat(-beta), f32x4.sub(eds, f32x4.splat(gamma))))),
        );
        value = f32x4.add(f32x4.mul(alpha, eds), f32x4.mul(f32x4.sub(one, alpha), mmsp));
      }
    }
    // A taught class takes a pixel inside its acceptance radius that is also closer than every known prototype.
    let taughtBest = best;
    let taughtRadius = one;
    let taught = i32x4.splat(-1);
    for (let row = known; row < rows; row++) {
      const d = squaredDistance(norm, scratch + ((<usize>row) << 4), load<f32>(norms + ((<usize>row) << 2)));
      const radius = f32x4.splat(load<f32>(radii + ((<usize>(row - known)) << 2)));
      const accept = v128.and(f32x4.lt(d, radius), f32x4.lt(d, taughtBest));
      taughtBest = v128.bitselect(d, taughtBest, accept);
      taughtRadius = v128.bitselect(radius, taughtRadius, accept);
      taught = v128.bitselect(i32x4.splat(<i32>load<u8>(owners + <usize>(row - known))), taught, accept);
    }
    const claimed = i32x4.ge_s(taught, i32x4.splat(0));
    // A claimed pixel's score fades with its distance to the taught prototype (0 on it, the full score at
    // the radius), so unknowns the new class takes at its edge can still be found.
    const fade = f32x4.min(one, f32x4.div(taughtBest, taughtRadius));
    const stored = v128.bitselect(f32x4.mul(value, fade), value, claimed);
    v128.store(ood + ((<usize>pixel) << 2), stored);
    const bins = i32x4.trunc_sat_f32x4_s(
      f32x4.min(
        f32x4.mul(f32x4.max(stored, zero), f32x4.splat(<f32>HISTOGRAM_BINS)),
        f32x4.splat(<f32>(HISTOGRAM_BINS - 1)),
      ),
    );
    const levels = i32x4.trunc_sat_f32x4_s(
      f32x4.nearest(f32x4.mul(f32x4.min(f32x4.max(stored, zero), one), f32x4.splat(255))),
    );
    storeLaneBytes(oodBytes + pixel, levels);
    countLanes(histogram, bins);
    const unknown = f32x4.gt(value, f32x4.splat(threshold));
    const cls = v128.bitselect(taught, v128.bitselect(i32x4.splat(UNKNOWN_CLASS), bestIndex, unknown), claimed);
    storeLaneBytes(classes + pixel, cls);
    countLanes(classCounts, cls);
    storeLaneBytes(nearest + pixel, bestIndex);
  }
  return -1;
}

/** Where output position `i` of `outputs` falls among `inputs` samples when the first and last of each line up. */
function alignCorners(i: i32, inputs: i32, outputs: i32): f32 {
  return outputs > 1 ? (<f32>i * <f32>(inputs - 1)) / <f32>(outputs - 1) : 0;
}

/**
 * Bilinear upsampling with corners aligned (PyTorch's align_corners=True, ONNX Resize's align_corners), `planes`
 * planes of sourceWidth x sourceHeight float32 at `source` to width x height at `target`, plane c starting at
 * target + c * planeStride values. Rows first, into `rowScratch` (sourceHeight x width values; the columns'
 * sample and weight in `columnSample` (int32) and `columnWeight`, width each), then columns, 4 pixels at a time.
 */
export function upsampleAlignCorners(
  source: usize,
  sourceWidth: i32,
  sourceHeight: i32,
  planes: i32,
  target: usize,
  width: i32,
  height: i32,
  planeStride: i32,
  rowScratch: usize,
  columnSample: usize,
  columnWeight: usize,
): void {
  for (let x = 0; x < width; x++) {
    const position = alignCorners(x, sourceWidth, width);
    const before = min(<i32>position, sourceWidth - 1);
    store<i32>(columnSample + ((<usize>x) << 2), before);
    store<f32>(columnWeight + ((<usize>x) << 2), position - <f32>before);
  }
  const last = sourceWidth - 1;
  for (let c = 0; c < planes; c++) {
    const plane = source + ((<usize>c * sourceWidth * sourceHeight) << 2);
    for (let row = 0; row < sourceHeight; row++) {
      const from = plane + ((<usize>row * sourceWidth) << 2);
      const to = rowScratch + ((<usize>row * width) << 2);
      for (let x = 0; x < width; x++) {
        const before = load<i32>(columnSample + ((<usize>x) << 2));
        const a = load<f32>(from + ((<usize>before) << 2));
        const b = load<f32>(from + ((<usize>min(before + 1, last)) << 2));
        store<f32>(to + ((<usize>x) << 2), a + (b - a) * load<f32>(columnWeight + ((<usize>x) << 2)));
      }
    }
    const out = target + ((<usize>c * planeStride) << 2);
    for (let y = 0; y < height; y++) {
      const position = alignCorners(y, sourceHeight, height);
      const before = min(<i32>position, sourceHeight - 1);
      const weight = position - <f32>before;
      const rowA = rowScratch + ((<usize>before * width) << 2);
      const rowB = rowScratch + ((<usize>min(before + 1, sourceHeight - 1) * width) << 2);
      const outRow = out + ((<usize>y * width) << 2);
      const w = f32x4.splat(weight);
      let x = 0;
      for (; x + 4 <= width; x += 4) {
        const a = v128.load(rowA + ((<usize>x) << 2));
        const b = v128.load(rowB + ((<usize>x) << 2));
        v128.store(outRow + ((<usize>x) << 2), f32x4.add(a, f32x4.mul(f32x4.sub(b, a), w)));
      }
      for (; x < width; x++) {
        const a = load<f32>(rowA + ((<usize>x) << 2));
        const b = load<f32>(rowB + ((<usize>x) << 2));
        store<f32>(outRow + ((<usize>x) << 2), a + (b - a) * weight);
      }
    }
  }
}

/** The four lanes' sum. */
function laneSum(lanes: v128): f64 {
  return (
    <f64>f32x4.extract_lane(lanes, 0) +
    <f64>f32x4.extract_lane(lanes, 1) +
    <f64>f32x4.extract_lane(lanes, 2) +
    <f64>f32x4.extract_lane(lanes, 3)
  );
}

/**
 * Region sums for descriptors: for each of `runs` runs of pixels (run r covers pixels runFirst[r] up to
 * runLast[r], int32, and belongs to slot runSlot[r], none when negative), adds the run's sum of every embedding
 * plane to sums[slot * dim + c] and of its pixels' squared norms to squares[slot] (float64). The embedding is laid
 * out as for scorePixels.
 */
export function sumRuns(
  embedding: usize,
  stride: i32,
  dim: i32,
  runFirst: usize,
  runLast: usize,
  runSlot: usize,
  runs: i32,
  sums: usize,
  squares: usize,
): void {
  for (let r = 0; r < runs; r++) {
    const slot = load<i32>(runSlot + ((<usize>r) << 2));
    if (slot < 0) continue;
    const first = load<i32>(runFirst + ((<usize>r) << 2));
    const last = load<i32>(runLast + ((<usize>r) << 2));
    let square: f64 = 0;
    for (let c = 0; c < dim; c++) {
      const plane = embedding + ((<usize>c * stride) << 2);
      let sum4 = f32x4.splat(0);
      let square4 = f32x4.splat(0);
      let p = first;
      for (; p + 4 <= last; p += 4) {
        const value = v128.load(plane + ((<usize>p) << 2));
        sum4 = f32x4.add(sum4, value);
        square4 = f32x4.add(square4, f32x4.mul(value, value));
      }
      let sum = laneSum(sum4);
      square += laneSum(square4);
      for (; p < last; p++) {
        const value = <f64>load<f32>(plane + ((<usize>p) << 2));
        sum += value;
        square += value * value;
      }
      const at = sums + ((<usize>(slot * dim + c)) << 3);
      store<f64>(at, load<f64>(at) + sum);
    }
    const at = squares + ((<usize>slot) << 3);
    store<f64>(at, load<f64>(at) + square);
  }
}
