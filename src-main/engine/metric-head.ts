import { AppError } from '../core/errors.js';
import { quantizeScores } from './maps.js';
import { KERNEL_SCORES, MetricKernel, type HeadOutput, type Size } from './metric-kernel.js';
import { tallyFrame } from './summary.js';
import type { ModelCard } from './model-card.js';
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
  /** The margin score's scale; cards exported before that score lack it. */
  gMax?: number | undefined;
  threshold: number;
  /** Names the model in errors about its output. */
  source: string;
}

/** The settings of the metric head a card describes, scoring with `score` and marking unknown above `threshold`. */
export function headSettings(card: ModelCard, score: ScoreName, threshold: number, source: string): HeadSettings {
  return {
    kind: card.output.kind,
    knownCount: card.classes.length,
    dim: card.output.embeddingDim,
    prototypes: card.head.prototypes ?? [],
    score,
    sMax: card.scores.eds.sMax,
    sFloor: card.scores.eds.sFloor,
    beta: card.scores.combined.beta,
    gamma: card.scores.combined.gamma,
    gMax: card.scores.margin?.gMax,
    threshold,
    source,
  };
}

const EMBEDDING_SCORES: ScoreName[] = ['eds', 'mmsp', 'combined', 'margin'];
const LOGIT_SCORES: ScoreName[] = ['msp', 'maxlogit', 'margin'];

export function scoresFor(kind: HeadSettings['kind']): ScoreName[] {
  return kind === 'embedding' ? EMBEDDING_SCORES : LOGIT_SCORES;
}

/**
 * DMLNet's metric head: d_t = ||f - m_t||^2 to card and taught prototypes, then
 * EDS = (sMax - min(sum_t d_t, sMax)) / (sMax - sFloor), MMSP = 1 - max softmax(-d), combined = a EDS + (1-a) MMSP with
 * a = sigmoid(beta (EDS - gamma)), margin = 1 - min(g, gMax) / gMax with g = mean_t d_t - min_t d_t (MMSP's ranking
 * at a large softmax temperature, without its saturation; training/dmlnet/scores.py). Scores use the K card prototypes only (sMax was calibrated on them);
 * a taught class takes a pixel inside its acceptance radius when it is also closer than every known prototype.
 * Embedding models run it in float32 WebAssembly SIMD (metric-kernel.ts); logit models (the baseline) here.
 */
export class MetricHead {
  /** Also sums region descriptors (describeRegions) over the embedding it has just scored, where it lies. */
  readonly kernel = new MetricKernel();
  private prototypes: Float32Array;
  private taughtOwner = new Uint8Array(0);
  private taughtRadius = new Float32Array(0);

  constructor(private readonly settings: HeadSettings) {
    if (!scoresFor(settings.kind).includes(settings.score)) {
      throw new AppError(
        'score_invalid',
        `Score "${settings.score}" does not apply to ${settings.source} (${settings.kind} model): use ${scoresFor(settings.kind).join(', ')}`,
      );
    }
    if (settings.score === 'margin' && !(settings.gMax! > 0)) {
      throw new AppError(
        'score_invalid',
        `Score "margin" needs scores.margin.gMax, which ${settings.source} lacks: export the model again with training/dmlnet/export.py`,
      );
    }
    this.prototypes = Float32Array.from(settings.prototypes.flat());
  }

  /** Taught prototypes follow the card's; class indices continue after the K known classes. */
  setTaught(classes: readonly TaughtPrototype[]): void {
    const { rows, owner, radius } = taughtRows(this.settings, classes);
    this.prototypes = Float32Array.from([...this.settings.prototypes.flat(), ...rows.flat()]);
    this.taughtOwner = Uint8Array.from(owner);
    this.taughtRadius = Float32Array.from(radius);
  }

  /**
   * A model output coarser than the maps (card output stride > 1) brought to the maps' size: bilinear, corners
   * aligned. The result lives in the head's own buffer until its next call; `apply` takes it there, uncopied.
   */
  upsample(output: Float32Array, from: Size, to: Size): Float32Array {
    const { dim } = this.settings;
    return this.kernel.upsample(output, from, to, dim, this.prototypes.length / dim, this.taughtOwner.length);
  }

  /** output: D x N channel-major model output (N = pixels). */
  apply(output: Float32Array, pixels: number): HeadOutput {
    if (this.settings.kind === 'embedding') return this.applyEmbedding(output, pixels);
    const maps = {
      classMap: new Uint8Array(pixels),
      nearestKnown: new Uint8Array(pixels),
      ood: new Float32Array(pixels),
    };
    this.applyLogits(output, pixels, maps);
    return { ...maps, oodBytes: quantizeScores(maps.ood), tallies: tallyFrame(maps.classMap, maps.ood) };
  }

  private applyEmbedding(output: Float32Array, pixels: number): HeadOutput {
    const { dim, knownCount, score, sMax, sFloor, beta, gamma, gMax, threshold } = this.settings;
    const { result, badPixel } = this.kernel.score(output, pixels, dim, {
      prototypes: this.prototypes,
      knownCount,
      taughtOwner: this.taughtOwner,
      taughtRadius: this.taughtRadius,
      score: KERNEL_SCORES[score as keyof typeof KERNEL_SCORES],
      sMax,
      sFloor,
      beta,
      gamma,
      gMax: gMax ?? 1,
      threshold,
    });
    if (badPixel >= 0) this.throwNonFinite(badPixel);
    return result;
  }

  private applyLogits(
    output: Float32Array,
    pixels: number,
    result: Pick<HeadOutput, 'classMap' | 'nearestKnown' | 'ood'>,
  ): void {
    const { knownCount, score, threshold, gMax = 1 } = this.settings;
    for (let p = 0; p < pixels; p++) {
      let best = 0;
      let bestLogit = -Infinity;
      let logitSum = 0;
      for (let k = 0; k < knownCount; k++) {
        const logit = output[k * pixels + p]!;
        if (!(Math.abs(logit) < Infinity)) this.throwNonFinite(p);
        logitSum += logit;
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
      } else if (score === 'margin') {
        value = 1 - Math.min(bestLogit - logitSum / knownCount, gMax) / gMax;
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
