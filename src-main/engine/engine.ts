import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { ClassInfo } from '../../src-shared/contract/index.js';
import { FrameLane } from './frame-lane.js';
import { headSettings, MetricHead, taughtRows, type HeadSettings } from './metric-head.js';
import { cardClasses, readModelCard, type ModelCard } from './model-card.js';
import { regionPlaces } from './unknown-regions.js';
import type {
  AnalyzeOptions,
  Engine,
  ExecutionProviderSetting,
  FrameResult,
  RgbFrame,
  ScoreName,
  TaughtPrototype,
} from './types.js';

export interface OpenEngineOptions {
  provider?: ExecutionProviderSetting;
  /** Model threads in all; default: all cores, at most 4. */
  threads?: number;
  /**
   * Frames analysed side by side, each lane a thread with its own model session and threads / lanes model
   * threads; default: 2 when there are 2 threads or more, else 1. On 2 cores, 2 lanes of 1 thread run a whole
   * analysis job faster than the model on the caller's thread; one frame at a time, 1 lane of 2 threads is
   * quicker (figures: docs/benchmarks.md).
   */
  lanes?: number;
  /** OOD score; default: the card's. */
  score?: ScoreName;
  /** Unknown above this score; default: the card's. */
  threshold?: number;
}

class OnnxEngine implements Engine {
  readonly modelName: string;
  readonly modelSha256: string;
  readonly inputWidth: number;
  readonly inputHeight: number;
  readonly embeddingDim: number;
  readonly framesInFlight: number;
  classes: ClassInfo[];
  readonly provider: { name: string; notes: string[] };

  constructor(
    private readonly card: ModelCard,
    private readonly lanes: FrameLane[],
    private readonly settings: HeadSettings,
  ) {
    this.modelName = card.name;
    this.modelSha256 = card.sha256;
    this.inputWidth = card.input.width;
    this.inputHeight = card.input.height;
    this.embeddingDim = card.output.embeddingDim;
    this.classes = cardClasses(card);
    this.provider = lanes[0]!.provider;
    // Two frames per lane: one analysed while the next one travels to the lane.
    this.framesInFlight = 2 * lanes.length;
  }

  get score(): ScoreName {
    return this.settings.score;
  }

  get threshold(): number {
    return this.settings.threshold;
  }

  get laneCount(): number {
    return this.lanes.length;
  }

  analyze(frame: RgbFrame, options: AnalyzeOptions = {}): Promise<FrameResult> {
    const lane = this.lanes.reduce((best, candidate) => (candidate.load < best.load ? candidate : best));
    return lane.analyze(frame, options);
  }

  setTaughtClasses(classes: TaughtPrototype[]): void {
    taughtRows(this.settings, classes); // a bad class throws here, before any lane sees it
    const known = cardClasses(this.card);
    const classCount = known.length + classes.length;
    // Requests run in order on each lane, so every frame sent after this call sees the new classes; should a
    // lane fail, its next frame reports it.
    for (const lane of this.lanes) void lane.setTaught(classes, classCount).catch(() => undefined);
    this.classes = [
      ...known,
      ...classes.map((cls, i) => ({ index: known.length + i, name: cls.name, color: cls.color, taught: true })),
    ];
  }

  async dispose(): Promise<void> {
    await Promise.all(this.lanes.map((lane) => lane.close()));
  }
}

/** Loads a model (card checked against its graph, one warm-up run) on each lane and returns an engine for it. */
export async function openEngine(modelsDir: string, name: string, options: OpenEngineOptions = {}): Promise<Engine> {
  const card = await readModelCard(modelsDir, name);
  const threads = options.threads ?? Math.max(1, Math.min(4, availableParallelism()));
  const provider = options.provider ?? 'auto';
  const score = options.score ?? card.scores.default;
  const settings = headSettings(card, score, options.threshold ?? card.scores.threshold, join(modelsDir, card.onnx));
  new MetricHead(settings); // refuses bad settings (a score the model cannot give) before any model loads
  const wanted = Math.max(1, options.lanes ?? (threads >= 2 ? 2 : 1));
  // Only the card's classes place regions: a taught class has no known relation to the road.
  const places = regionPlaces(card.classes);
  const laneData = { modelsDir, card, settings, classCount: card.classes.length, places };
  const laneThreads = Math.max(1, Math.floor(threads / wanted));
  const first = await FrameLane.start({ ...laneData, provider, threads: laneThreads });
  if (wanted === 1) return new OnnxEngine(card, [first], settings);
  // The other lanes take the provider the first one found (on a GPU they overlap one frame's head with the
  // next frame's model), without trying again the ones it could not use.
  const found = first.provider.name as ExecutionProviderSetting;
  const others = await Promise.allSettled(
    Array.from({ length: wanted - 1 }, () => FrameLane.start({ ...laneData, provider: found, threads: laneThreads })),
  );
  const lanes = [first, ...others.flatMap((started) => (started.status === 'fulfilled' ? [started.value] : []))];
  const failed = others.find((started) => started.status === 'rejected');
  if (failed) {
    await Promise.all(lanes.map((lane) => lane.close()));
    throw failed.reason;
  }
  return new OnnxEngine(card, lanes, settings);
}
