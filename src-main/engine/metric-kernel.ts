import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppError } from '../core/errors.js';
import { packageRoot } from '../core/paths.js';
import { HISTOGRAM_BINS, scoreBin, type FrameTallies } from './summary.js';

/** The score codes of assembly/metric-kernel.ts. */
export const KERNEL_SCORES = { eds: 0, mmsp: 1, combined: 2, margin: 3 } as const;

export interface HeadOutput {
  /** Class per pixel: taught class, else UNKNOWN_CLASS above the threshold, else the nearest known class. */
  classMap: Uint8Array;
  /** Closed-set prediction: the nearest known prototype (largest logit), ignoring threshold and taught classes. */
  nearestKnown: Uint8Array;
  /**
   * OOD score per pixel, higher = more unknown. Where a taught class claims the pixel: the score times d / r
   * (d its squared distance to the class's prototype, r the squared acceptance radius), 0 on the prototype.
   */
  ood: Float32Array;
  /** The OOD map as 8-bit levels for display: round(clip(ood, 0, 1) * 255). */
  oodBytes: Uint8Array;
  /** Class counts and the OOD score histogram of these maps, for the frame summary. */
  tallies: FrameTallies;
}

export interface KernelParameters {
  /** Rows x D: the K card prototypes, then the taught ones. */
  prototypes: Float32Array;
  knownCount: number;
  /** Per taught row: its class index and squared acceptance radius. */
  taughtOwner: Uint8Array;
  taughtRadius: Float32Array;
  score: (typeof KERNEL_SCORES)[keyof typeof KERNEL_SCORES];
  sMax: number;
  sFloor: number;
  beta: number;
  gamma: number;
  gMax: number;
  threshold: number;
}

interface KernelExports {
  memory: WebAssembly.Memory;
  heapBase(): number;
  scorePixels(...args: number[]): number;
  upsampleAlignCorners(...args: number[]): void;
  sumRuns(...args: number[]): void;
}

/** Runs of pixels (pixel indices first up to last) and the slot each adds to (negative: none). */
export interface PixelRuns {
  first: Int32Array;
  last: Int32Array;
  slot: Int32Array;
}

export interface Size {
  width: number;
  height: number;
}

const PAGE = 65536;
let compiled: WebAssembly.Module | undefined;

/** Built by scripts/build-main.mjs (npm install runs it) from assembly/metric-kernel.ts. */
export function kernelPath(): string {
  return join(packageRoot(), 'dist', 'wasm', 'metric-kernel.wasm');
}

function instantiate(): KernelExports {
  if (!compiled) {
    const path = kernelPath();
    if (!existsSync(path)) {
      throw new AppError(
        'engine_unavailable',
        `The metric head's WebAssembly kernel ${path} is missing: run npm run build`,
      );
    }
    compiled = new WebAssembly.Module(readFileSync(path));
  }
  const abort = () => {
    throw new AppError('internal', 'The metric head kernel stopped on an internal check');
  };
  return new WebAssembly.Instance(compiled, { env: { abort } }).exports as unknown as KernelExports;
}

/** Byte offsets of one frame's buffers in the kernel's memory, each 16-byte aligned. */
interface Layout {
  pixels: number;
  stride: number;
  rows: number;
  dim: number;
  embedding: number;
  terms: number;
  termStarts: number;
  termRows: number;
  termWeights: number;
  norms: number;
  owners: number;
  radii: number;
  scratch: number;
  classes: number;
  nearest: number;
  ood: number;
  oodBytes: number;
  histogram: number;
  classCounts: number;
  /** The model output before upsampling, its size, and the upsampling's scratch (none without a source). */
  sourceSize: Size | undefined;
  source: number;
  rowScratch: number;
  columnSample: number;
  columnWeight: number;
  /** Where the frame's buffers end: per-call buffers (sumRuns) go after it. */
  end: number;
}

const align16 = (bytes: number) => Math.ceil(bytes / 16) * 16;

/** A model output of `from` to be upsampled to the maps' size `to`. */
type Upsampling = { from: Size; to: Size };

/** Byte offsets for buffers of these sizes laid out one after another from `base`, each 16-byte aligned. */
function placeBuffers<Name extends string>(
  base: number,
  sizes: Record<Name, number>,
): Record<Name, number> & { end: number } {
  let offset = align16(base);
  const at = {} as Record<Name, number>;
  for (const [name, size] of Object.entries(sizes) as [Name, number][]) {
    at[name] = offset;
    offset += align16(size);
  }
  return { ...at, end: offset };
}

function planLayout(
  base: number,
  pixels: number,
  dim: number,
  rows: number,
  taught: number,
  upsampling?: Upsampling,
): Layout {
  const stride = Math.ceil(pixels / 4) * 4;
  const from = upsampling?.from ?? { width: 0, height: 0 };
  const toWidth = upsampling?.to.width ?? 0;
  const sizes = {
    embedding: dim * stride * 4,
    termStarts: (dim + 1) * 4,
    termRows: rows * dim * 4,
    termWeights: rows * dim * 4,
    norms: rows * 4,
    owners: taught,
    radii: taught * 4,
    scratch: rows * 16,
    classes: stride,
    nearest: stride,
    ood: stride * 4,
    oodBytes: stride,
    histogram: HISTOGRAM_BINS * 4,
    classCounts: 256 * 4,
    source: dim * from.width * from.height * 4,
    rowScratch: from.height * toWidth * 4,
    columnSample: toWidth * 4,
    columnWeight: toWidth * 4,
  };
  return { pixels, stride, rows, dim, terms: rows * dim, ...placeBuffers(base, sizes), sourceSize: upsampling?.from };
}

/**
 * The metric head in WebAssembly SIMD, 4 pixels at a time: V8 does not vectorise JavaScript, and the head (K
 * exponentials per pixel at the full output size) cost as much as the model. Each head thread has its own
 * instance; its memory grows to the largest frame seen and is reused.
 */
export class MetricKernel {
  private readonly kernel = instantiate();
  private layout: Layout | undefined;
  /** The array whose values the embedding buffer holds (what `score` last scored, or a view of the buffer). */
  private embeddingFrom: Float32Array | undefined;
  /** The prototype arrays now in kernel memory: they change only when classes are taught, not per frame. */
  private written: Pick<KernelParameters, 'prototypes' | 'taughtOwner' | 'taughtRadius'> | undefined;

  score(
    output: Float32Array,
    pixels: number,
    dim: number,
    parameters: KernelParameters,
  ): { result: HeadOutput; badPixel: number } {
    const rows = parameters.prototypes.length / dim;
    const layout = this.prepare(pixels, dim, rows, parameters.taughtOwner.length);
    this.write(layout, output, parameters);
    const { sMax, sFloor, beta, gamma, gMax, threshold } = parameters;
    const badPixel = this.kernel.scorePixels(
      layout.embedding,
      layout.stride,
      dim,
      layout.termStarts,
      layout.termRows,
      layout.termWeights,
      layout.norms,
      parameters.knownCount,
      rows,
      layout.owners,
      layout.radii,
      layout.scratch,
      parameters.score,
      sMax,
      sFloor,
      beta,
      gamma,
      gMax,
      threshold,
      layout.stride / 4,
      layout.classes,
      layout.nearest,
      layout.ood,
      layout.oodBytes,
      layout.histogram,
      layout.classCounts,
    );
    const buffer = this.kernel.memory.buffer;
    const classMap = new Uint8Array(buffer, layout.classes, layout.stride);
    const ood = new Float32Array(buffer, layout.ood, layout.stride);
    const tallies = {
      classCounts: new Uint32Array(buffer, layout.classCounts, 256).slice(),
      scoreHistogram: new Uint32Array(buffer, layout.histogram, HISTOGRAM_BINS).slice(),
    };
    // The kernel counted the padding lanes of the last group too.
    for (let p = pixels; p < layout.stride; p++) {
      tallies.classCounts[classMap[p]!]!--;
      tallies.scoreHistogram[scoreBin(ood[p]!)]!--;
    }
    const result = {
      classMap: classMap.slice(0, pixels),
      nearestKnown: new Uint8Array(buffer, layout.nearest, pixels).slice(),
      ood: ood.slice(0, pixels),
      oodBytes: new Uint8Array(buffer, layout.oodBytes, pixels).slice(),
      tallies,
    };
    return { result, badPixel: badPixel < pixels ? badPixel : -1 };
  }

  /**
   * Upsamples a model output smaller than the maps (card output stride > 1) into the embedding buffer, with
   * corners aligned as the exported network's own last resize did: a view of D planes of to.width x to.height,
   * valid until the next call (which may grow the memory it views). `score` given this view scores it where it
   * lies, without copying it.
   */
  upsample(output: Float32Array, from: Size, to: Size, dim: number, rows: number, taught: number): Float32Array {
    const pixels = to.width * to.height;
    const layout = this.prepare(pixels, dim, rows, taught, { from, to });
    const buffer = this.kernel.memory.buffer;
    new Float32Array(buffer, layout.source, output.length).set(output);
    this.kernel.upsampleAlignCorners(
      layout.source,
      from.width,
      from.height,
      dim,
      layout.embedding,
      to.width,
      to.height,
      layout.stride,
      layout.rowScratch,
      layout.columnSample,
      layout.columnWeight,
    );
    const planes = new Float32Array(buffer, layout.embedding, dim * layout.stride);
    if (layout.stride === pixels) return planes;
    const packed = new Float32Array(dim * pixels);
    for (let c = 0; c < dim; c++)
      packed.set(planes.subarray(c * layout.stride, c * layout.stride + pixels), c * pixels);
    return packed;
  }

  private prepare(pixels: number, dim: number, rows: number, taught: number, upsampling?: Upsampling): Layout {
    const current = this.layout;
    const sameSource =
      !upsampling ||
      (current?.sourceSize?.width === upsampling.from.width && current.sourceSize.height === upsampling.from.height);
    if (current && current.pixels === pixels && current.dim === dim && current.rows === rows && sameSource)
      return current;
    const layout = planLayout(this.kernel.heapBase(), pixels, dim, rows, taught, upsampling);
    this.written = undefined;
    this.reserve(layout.end);
    this.layout = layout;
    return layout;
  }

  /** Grows the kernel's memory to at least `end` bytes (which detaches every view of it). */
  private reserve(end: number): void {
    const missing = end - this.kernel.memory.buffer.byteLength;
    if (missing > 0) this.kernel.memory.grow(Math.ceil(missing / PAGE));
  }

  private write(layout: Layout, output: Float32Array, parameters: KernelParameters): void {
    const buffer = this.kernel.memory.buffer;
    this.writeEmbedding(layout, output);
    new Uint32Array(buffer, layout.histogram, HISTOGRAM_BINS).fill(0);
    new Uint32Array(buffer, layout.classCounts, 256).fill(0);
    const { prototypes, taughtOwner, taughtRadius } = parameters;
    const written = this.written;
    if (
      written?.prototypes === prototypes &&
      written.taughtOwner === taughtOwner &&
      written.taughtRadius === taughtRadius
    )
      return;
    this.writePrototypes(layout, prototypes);
    new Uint8Array(buffer, layout.owners, taughtOwner.length).set(taughtOwner);
    new Float32Array(buffer, layout.radii, taughtRadius.length).set(taughtRadius);
    this.written = { prototypes, taughtOwner, taughtRadius };
  }

  private writeEmbedding(layout: Layout, output: Float32Array): void {
    const { pixels, stride, dim } = layout;
    const buffer = this.kernel.memory.buffer;
    const embedding = new Float32Array(buffer, layout.embedding, dim * stride);
    const upsampledHere = output.buffer === buffer && output.byteOffset === layout.embedding;
    for (let c = 0; c < dim; c++) {
      if (!upsampledHere) embedding.set(output.subarray(c * pixels, (c + 1) * pixels), c * stride);
      // Padding lanes must be finite: the kernel reports the first non-finite pixel.
      embedding.fill(0, c * stride + pixels, (c + 1) * stride);
    }
    this.embeddingFrom = output;
  }

  /**
   * For each slot, the sum of every embedding plane over its runs' pixels (slots x dim) and of those pixels'
   * squared norms: the sums behind region descriptors. `embedding` is D x pixels; the one just scored is read
   * where it lies. The kernel's memory may grow for the runs, which detaches every view of it (an `upsample`
   * result): read those before.
   */
  sumRuns(
    embedding: Float32Array,
    dim: number,
    runs: PixelRuns,
    slots: number,
  ): { sums: Float64Array; squares: Float64Array } {
    const pixels = embedding.length / dim;
    let layout = this.layout;
    if (!layout || layout.pixels !== pixels || layout.dim !== dim) layout = this.prepare(pixels, dim, 0, 0);
    if (embedding !== this.embeddingFrom) this.writeEmbedding(layout, embedding);
    const count = runs.slot.length;
    const at = placeBuffers(layout.end, {
      first: count * 4,
      last: count * 4,
      slot: count * 4,
      sums: slots * dim * 8,
      squares: slots * 8,
    });
    this.reserve(at.end);
    const buffer = this.kernel.memory.buffer;
    new Int32Array(buffer, at.first, count).set(runs.first);
    new Int32Array(buffer, at.last, count).set(runs.last);
    new Int32Array(buffer, at.slot, count).set(runs.slot);
    const sums = new Float64Array(buffer, at.sums, slots * dim).fill(0);
    const squares = new Float64Array(buffer, at.squares, slots).fill(0);
    this.kernel.sumRuns(layout.embedding, layout.stride, dim, at.first, at.last, at.slot, count, at.sums, at.squares);
    return { sums: sums.slice(), squares: squares.slice() };
  }

  /** The prototypes' non-zero entries grouped by plane, and their squared norms (see the kernel's layout). */
  private writePrototypes(layout: Layout, prototypes: Float32Array): void {
    const buffer = this.kernel.memory.buffer;
    const { dim, rows } = layout;
    const starts = new Int32Array(buffer, layout.termStarts, dim + 1);
    const termRows = new Int32Array(buffer, layout.termRows, layout.terms);
    const weights = new Float32Array(buffer, layout.termWeights, layout.terms);
    let term = 0;
    for (let c = 0; c < dim; c++) {
      starts[c] = term;
      for (let row = 0; row < rows; row++) {
        const weight = prototypes[row * dim + c]!;
        if (weight === 0) continue;
        termRows[term] = row;
        weights[term++] = weight;
      }
    }
    starts[dim] = term;
    const norms = new Float32Array(buffer, layout.norms, rows);
    for (let row = 0; row < rows; row++) {
      let sum = 0;
      for (let c = 0; c < dim; c++) sum += prototypes[row * dim + c]! ** 2;
      norms[row] = sum;
    }
  }
}
