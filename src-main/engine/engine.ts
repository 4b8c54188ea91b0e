import { availableParallelism } from 'node:os';
import type { ClassInfo } from '../../src-shared/contract/index.js';
import { HeadThread } from './head-thread.js';
import { MetricHead, type HeadSettings } from './metric-head.js';
import { cardClasses, readModelCard, type ModelCard } from './model-card.js';
import { OnnxModel, type ModelOutput } from './onnx-model.js';
import { Preprocessor } from './preprocess.js';
import type {
  AnalyzeOptions,
  Engine,
  ExecutionProviderSetting,
  FrameResult,
  RgbFrame,
  ScoreName,
  TaughtPrototype,
} from './types.js';

/** Frames to give an engine at once for throughput: the model of one overlaps the head of the other. */
export const FRAMES_IN_FLIGHT = 2;

export interface OpenEngineOptions {
  provider?: ExecutionProviderSetting;
  /**
   * Intra-op threads; default: all cores, at most 4. Measured on 2 cores with two frames in flight (`npm run
   * bench`): 14.4 fps with 2 model threads, 11.9 with 1 (the head thread takes what sleeping model threads leave).
   */
  threads?: number;
  /** OOD score; default: the card's. */
  score?: ScoreName;
  /** Unknown above this score; default: the card's. */
  threshold?: number;
}

/** The metric head a card describes, scoring with `score` and marking unknown above `threshold`. */
export function createHead(card: ModelCard, score: ScoreName, threshold: number, source: string): MetricHead {
  return new MetricHead(headSettings(card, score, threshold, source));
}

function headSettings(card: ModelCard, score: ScoreName, threshold: number, source: string): HeadSettings {
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

class OnnxEngine implements Engine {
  readonly modelName: string;
  readonly modelSha256: string;
  readonly inputWidth: number;
  readonly inputHeight: number;
  readonly embeddingDim: number;
  classes: ClassInfo[];
  readonly provider: { name: string; notes: string[] };
  private readonly preprocessor: Preprocessor;
  private readonly headThread: HeadThread;
  /**
   * Pre-processing + model run one frame at a time (they own the input tensor). The head runs on its own
   * thread, so with two frames in flight the model of frame N+1 overlaps the head of frame N.
   */
  private modelStage: Promise<unknown> = Promise.resolve();
  private lastFrame: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly card: ModelCard,
    private readonly model: OnnxModel,
    readonly score: ScoreName,
    readonly threshold: number,
  ) {
    this.modelName = card.name;
    this.modelSha256 = card.sha256;
    this.inputWidth = card.input.width;
    this.inputHeight = card.input.height;
    this.embeddingDim = card.output.embeddingDim;
    this.classes = cardClasses(card);
    this.provider = model.provider;
    this.preprocessor = new Preprocessor(card.input.width, card.input.height, card.input.mean, card.input.std);
    this.headThread = new HeadThread(headSettings(card, score, threshold, model.path), this.classes.length);
  }

  analyze(frame: RgbFrame, options: AnalyzeOptions = {}): Promise<FrameResult> {
    const modelled = this.modelStage.then(() => this.model.run(this.preprocessor.run(frame)));
    this.modelStage = modelled.catch(() => undefined);
    const analysed = modelled.then((output) => this.finish(output, options));
    this.lastFrame = analysed.catch(() => undefined);
    return analysed;
  }

  private async finish(output: ModelOutput, options: AnalyzeOptions): Promise<FrameResult> {
    const { width, height } = output;
    const { data, ...head } = await this.headThread.apply(output.data, width, height, options.encodeMaps);
    return { width, height, ...head, ...(options.keepEmbedding ? { embedding: data } : {}) };
  }

  setTaughtClasses(classes: TaughtPrototype[]): void {
    const known = cardClasses(this.card);
    // Checked before it returns; should the head thread fail later, the next frame reports it.
    void this.headThread.setTaught(classes, known.length + classes.length).catch(() => undefined);
    this.classes = [
      ...known,
      ...classes.map((cls, i) => ({ index: known.length + i, name: cls.name, color: cls.color, taught: true })),
    ];
  }

  async dispose(): Promise<void> {
    await Promise.all([this.modelStage, this.lastFrame]);
    await this.headThread.close();
    await this.model.release();
  }
}

/** Loads a model (card checked against its graph, one warm-up run) and returns an engine for it. */
export async function openEngine(modelsDir: string, name: string, options: OpenEngineOptions = {}): Promise<Engine> {
  const card = await readModelCard(modelsDir, name);
  const threads = options.threads ?? Math.max(1, Math.min(4, availableParallelism()));
  const model = await OnnxModel.load(modelsDir, card, options.provider ?? 'auto', threads);
  try {
    return new OnnxEngine(
      card,
      model,
      options.score ?? card.scores.default,
      options.threshold ?? card.scores.threshold,
    );
  } catch (error) {
    await model.release();
    throw error;
  }
}
