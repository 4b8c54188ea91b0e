import { AppError } from '../core/errors.js';
import { UNKNOWN_CLASS, type ScoreName, type TaughtPrototype } from './types.js';

export interface HeadSettings {
  kind: 'embedding' | 'logits';
  /** Known classes (card), K. */
  knownCount: number;
  /** Channels of the model output, D (K for logits). */
  dim: number;
  /** K x D card prototypes, row-major (embedding models only). */
  prototypes: readonly (readonly number[])[];
  score: ScoreName;
  sMax: number;
  /** The smallest S any embedding can have (at the prototypes' centroid): EDS is 1 there. */
  sFloor: number;
  beta: number;
  gamma: number;
  threshold: number;
  /** Names the model in errors about its output. */
  source: string;
}

export interface HeadOutput {
  /** Class per pixel: taught class, else UNKNOWN_CLASS above the threshold, else the nearest known class. */
  classMap: Uint8Array;
  /** Closed-set prediction: the nearest known prototype (largest logit), ignoring threshold and taught classes. */
  nearestKnown: Uint8Array;
  /** OOD score per pixel, higher = more unknown; 0 where a taught class claims the pixel. */
  ood: Float32Array;
}

/** 2^k for k = -1075..1024, the integer part of fastExp. */
const POWERS_OF_TWO = Float64Array.from({ length: 2100 }, (_, i) => 2 ** (i - 1075));

/**
 * e^x for |x| < 700 with relative error below 1e-8 (training computes these in float32, error 6e-8), about
 * twice as fast as Math.exp here: x = n ln2 + f with |f| <= ln2/2, e^f by its degree-7 Taylor polynomial.
 */
export function fastExp(x: number): number {
  const n = Math.round(x * Math.LOG2E);
  const f = x - n * Math.LN2;
  const p = 1 + f * (1 + f * (1 / 2 + f * (1 / 6 + f * (1 / 24 + f * (1 / 120 + f * (1 / 720 + f / 5040))))));
  return p * POWERS_OF_TWO[n + 1075]!;
}

/**
 * Softmax terms e^(d_min - d_k) below e^-16 are left out of MMSP's sum: with at most 254 classes they change
 * the score by less than 3e-5 (1e-6 for 11 classes), under the 1e-4 agreement with training and the 1/255
 * step of the stored 8-bit map. On a trained model most terms are far below it (prototypes lie 2T^2 = 18
 * apart), so this skips most of the head's exponentials.
 */
const NEGLIGIBLE_EXPONENT = -16;

/** Pixels processed together: their norms and dot products stay in L1 cache. */
const BLOCK = 512;
const EMBEDDING_SCORES: ScoreName[] = ['eds', 'mmsp', 'combined'];
const LOGIT_SCORES: ScoreName[] = ['msp', 'maxlogit'];

export function scoresFor(kind: HeadSettings['kind']): ScoreName[] {
  return kind === 'embedding' ? EMBEDDING_SCORES : LOGIT_SCORES;
}

/**
 * DMLNet's metric head in TypeScript: d_t = ||f - m_t||^2 to card and taught prototypes, then
 * EDS = (sMax - min(sum_t d_t, sMax)) / (sMax - sFloor), MMSP = 1 - max softmax(-d), combined = a EDS + (1-a) MMSP with
 * a = sigmoid(beta (EDS - gamma)). Scores use the K card prototypes only (sMax was calibrated on them);
 * a taught class takes a pixel inside its acceptance radius when it is also closer than every known prototype.
 */
export class MetricHead {
  private readonly knownNorms: Float64Array;
  private allPrototypes: Float32Array;
  private allNorms: Float64Array;
  private taughtOwner = new Uint8Array(0);
  private taughtRadius = new Float64Array(0);
  private dots = new Float64Array(0);
  private readonly norms = new Float64Array(BLOCK);
  private readonly distances: Float64Array;

  constructor(private readonly settings: HeadSettings) {
    if (!scoresFor(settings.kind).includes(settings.score)) {
      throw new AppError(
        'score_invalid',
        `Score "${settings.score}" does not apply to ${settings.source} (${settings.kind} model): use ${scoresFor(settings.kind).join(', ')}`,
      );
    }
    this.allPrototypes = Float32Array.from(settings.prototypes.flat());
    this.knownNorms = rowNorms(this.allPrototypes, settings.dim);
    this.allNorms = this.knownNorms;
    this.distances = new Float64Array(settings.knownCount);
  }

  /** Taught prototypes follow the card's; class indices continue after the K known classes. */
  setTaught(classes: readonly TaughtPrototype[]): void {
    const { rows, owner, radius } = taughtRows(this.settings, classes);
    this.allPrototypes = Float32Array.from([...this.settings.prototypes.flat(), ...rows.flat()]);
    this.allNorms = rowNorms(this.allPrototypes, this.settings.dim);
    this.taughtOwner = Uint8Array.from(owner);
    this.taughtRadius = Float64Array.from(radius);
  }

  /** output: D x N channel-major model output (N = pixels). */
  apply(output: Float32Array, pixels: number): HeadOutput {
    const result = {
      classMap: new Uint8Array(pixels),
      nearestKnown: new Uint8Array(pixels),
      ood: new Float32Array(pixels),
    };
    if (this.settings.kind === 'logits') this.applyLogits(output, pixels, result);
    else this.applyEmbedding(output, pixels, result);
    return result;
  }

  private applyEmbedding(output: Float32Array, pixels: number, result: HeadOutput): void {
    const prototypeCount = this.allPrototypes.length / this.settings.dim;
    if (this.dots.length !== BLOCK * prototypeCount) this.dots = new Float64Array(BLOCK * prototypeCount);
    for (let start = 0; start < pixels; start += BLOCK) {
      const length = Math.min(BLOCK, pixels - start);
      this.accumulateBlock(output, pixels, start, length, prototypeCount);
      this.scoreBlock(start, length, result);
    }
  }

  /**
   * Squared norms and prototype dot products of one block of pixels, channel by channel: reads the
   * channel-major output sequentially, keeps the block in L1 cache, skips zero prototype entries.
   */
  private accumulateBlock(
    output: Float32Array,
    pixels: number,
    start: number,
    length: number,
    prototypeCount: number,
  ): void {
    const { dim } = this.settings;
    const { norms, dots, allPrototypes } = this;
    norms.fill(0);
    dots.fill(0);
    for (let c = 0; c < dim; c++) {
      const base = c * pixels + start;
      for (let i = 0; i < length; i++) norms[i]! += output[base + i]! * output[base + i]!;
      for (let k = 0; k < prototypeCount; k++) {
        const weight = allPrototypes[k * dim + c]!;
        if (weight === 0) continue;
        const row = k * BLOCK;
        for (let i = 0; i < length; i++) dots[row + i]! += weight * output[base + i]!;
      }
    }
  }

  private scoreBlock(start: number, length: number, result: HeadOutput): void {
    const { knownCount, score, sMax, sFloor, beta, gamma, threshold } = this.settings;
    const edsScale = 1 / (sMax - sFloor);
    const { norms, dots, distances, allNorms, taughtOwner, taughtRadius } = this;
    const needsMmsp = score !== 'eds';
    for (let i = 0; i < length; i++) {
      const norm = norms[i]!;
      if (!(norm < Infinity)) this.throwNonFinite(start + i);
      let nearest = 0;
      let nearestDistance = Infinity;
      let sum = 0;
      for (let k = 0; k < knownCount; k++) {
        let d = norm - 2 * dots[k * BLOCK + i]! + allNorms[k]!;
        if (d < 0) d = 0;
        distances[k] = d;
        sum += d;
        if (d < nearestDistance) {
          nearestDistance = d;
          nearest = k;
        }
      }
      const eds = Math.min(1, (sMax - Math.min(sum, sMax)) * edsScale);
      let value = eds;
      if (needsMmsp) {
        let expSum = 0;
        for (let k = 0; k < knownCount; k++) {
          const exponent = nearestDistance - distances[k]!;
          if (exponent > NEGLIGIBLE_EXPONENT) expSum += fastExp(exponent);
        }
        const mmsp = 1 - 1 / expSum;
        if (score === 'mmsp') value = mmsp;
        else {
          const alpha = 1 / (1 + fastExp(Math.min(700, -beta * (eds - gamma))));
          value = alpha * eds + (1 - alpha) * mmsp;
        }
      }
      let taught = -1;
      let taughtDistance = nearestDistance;
      for (let t = 0; t < taughtOwner.length; t++) {
        let d = norm - 2 * dots[(knownCount + t) * BLOCK + i]! + allNorms[knownCount + t]!;
        if (d < 0) d = 0;
        if (d < taughtRadius[t]! && d < taughtDistance) {
          taughtDistance = d;
          taught = taughtOwner[t]!;
        }
      }
      const p = start + i;
      result.nearestKnown[p] = nearest;
      result.ood[p] = taught >= 0 ? 0 : value;
      result.classMap[p] = taught >= 0 ? taught : value > threshold ? UNKNOWN_CLASS : nearest;
    }
  }

  private applyLogits(output: Float32Array, pixels: number, result: HeadOutput): void {
    const { knownCount, score, threshold } = this.settings;
    for (let p = 0; p < pixels; p++) {
      let best = 0;
      let bestLogit = -Infinity;
      for (let k = 0; k < knownCount; k++) {
        const logit = output[k * pixels + p]!;
        if (!(Math.abs(logit) < Infinity)) this.throwNonFinite(p);
        if (logit > bestLogit) {
          bestLogit = logit;
          best = k;
        }
      }
      let value = -bestLogit;
      if (score === 'msp') {
        let expSum = 0;
        for (let k = 0; k < knownCount; k++) expSum += Math.exp(output[k * pixels + p]! - bestLogit);
        value = 1 - 1 / expSum;
      }
      result.nearestKnown[p] = best;
      result.ood[p] = value;
      result.classMap[p] = value > threshold ? UNKNOWN_CLASS : best;
    }
  }

  private throwNonFinite(pixel: number): never {
    throw new AppError(
      'model_output_invalid',
      `${this.settings.source} produced a NaN or infinite output (pixel ${pixel}): the model file is broken`,
    );
  }
}

/** The taught classes' prototypes as rows, with each row's class index and radius; refuses what the head cannot use. */
export function taughtRows(
  settings: HeadSettings,
  classes: readonly TaughtPrototype[],
): { rows: number[][]; owner: number[]; radius: number[] } {
  const { dim, knownCount, kind, source } = settings;
  if (classes.length > 0 && kind !== 'embedding') {
    throw new AppError('teach_invalid', `${source} outputs logits: taught classes need an embedding model`);
  }
  if (knownCount + classes.length > UNKNOWN_CLASS)
    throw new AppError('teach_invalid', `Too many classes for ${source}`);
  const rows: number[][] = [];
  const owner: number[] = [];
  const radius: number[] = [];
  classes.forEach((cls, position) => {
    for (const prototype of cls.prototypes) {
      if (prototype.length !== dim || !prototype.every(Number.isFinite)) {
        throw new AppError(
          'teach_invalid',
          `Taught class "${cls.name}" has a prototype of ${prototype.length} values; ${source} needs ${dim} finite values`,
        );
      }
      rows.push(prototype);
      owner.push(knownCount + position);
      radius.push(cls.acceptanceRadius);
    }
  });
  return { rows, owner, radius };
}

function rowNorms(rows: Float32Array, dim: number): Float64Array {
  const norms = new Float64Array(rows.length / dim);
  for (let k = 0; k < norms.length; k++) {
    let sum = 0;
    for (let c = 0; c < dim; c++) sum += rows[k * dim + c]! * rows[k * dim + c]!;
    norms[k] = sum;
  }
  return norms;
}
