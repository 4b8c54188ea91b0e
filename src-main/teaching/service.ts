/**
 * The teaching service behind the teaching panel, the metric-space view and their API methods: embeds shot
 * frames with the engine, builds taught classes (prototypes.ts), keeps them in the knowledge base
 * (library/knowledge.ts) and hands the active ones to the engine.
 */
import { userInfo } from 'node:os';
import {
  decodeRle,
  encodeRle,
  NEIGHBOURS_LAYOUT_MAX_POINTS,
  type ClassInfo,
  type CloudAxes,
  type EmbeddingCloud,
  type FrameRef,
  type RleMask,
  type Methods,
  type Response,
  type TeachingWarning,
} from '../../src-shared/contract/index.js';
import type { z } from 'zod';
import { AppError } from '../core/errors.js';
import type { ModelCard } from '../engine/model-card.js';
import { UNKNOWN_CLASS, type Engine, type FrameResult, type RgbFrame } from '../engine/types.js';
import { exportKnowledge, importKnowledge, type ModelIdentity } from './knowledge-file.js';
import { refuseTooManyClasses, type KnowledgeCheck, type KnowledgeStore } from '../library/index.js';
import { layoutOffThread } from './layout-thread.js';
import { DEFAULT_LAYOUT, meanPositionNear } from './neighbour-layout.js';
import { channelProjection, fitPca, project, projectAll, rowsOf } from './pca.js';
import {
  classifyMap,
  markedVectors,
  meanVector,
  nearestExisting,
  sampledRows,
  teachClass,
  type EmbeddingMap,
  type TaughtModel,
} from './prototypes.js';
import { wandSelect } from './wand.js';

export interface TeachingDeps {
  store: KnowledgeStore;
  /** The engine of a model (the default model when undefined); the service sets its taught classes. */
  engine: (model?: string) => Promise<Engine>;
  /** The card of the engine's model: the built-in prototypes live there. */
  card: (model?: string) => Promise<ModelCard>;
  readFrame: (frame: FrameRef) => Promise<RgbFrame>;
  /** Starts a fresh analysis of a session (jobs queue); the job records the knowledge version it uses. */
  startAnalysis?: (sessionId: number, model?: string) => Promise<number>;
  /** The name of the model with this sha256, if one is installed: the model a taught class belongs to. */
  modelOf?: (sha256: string) => Promise<string | undefined>;
}

type ModelContext = Awaited<ReturnType<TeachingService['model']>>;

/** A frame as the model sees it: its result with the embedding kept. */
interface EmbeddedFrame {
  result: FrameResult & { embedding: Float32Array };
  embedding: EmbeddingMap;
}

/** A request as the handler gets it: validated, defaults filled in. */
type Request<M extends keyof Methods> = z.output<Methods[M]['request']>;
type TeachRequest = Request<'teaching.preview'>;

const CACHE_SIZE = 8;
/** Points the metric-space view draws unless asked otherwise (the neighbours layout draws fewer). */
const DEFAULT_CLOUD_POINTS = 20_000;

export class TeachingService {
  /** The UI calls the wand and previews repeatedly on the same few frames: keep their embeddings. */
  private readonly cache = new Map<string, EmbeddedFrame>();

  constructor(private readonly deps: TeachingDeps) {}

  /** A model's engine and card, checked to be one that can be taught. */
  private async loaded(model?: string) {
    const [engine, card] = await Promise.all([this.deps.engine(model), this.deps.card(model)]);
    if (card.output.kind !== 'embedding' || !card.head.prototypes) {
      throw new AppError(
        'teach_invalid',
        `Model ${card.name} outputs logits, not embeddings: teaching needs a metric-learning (DMLNet) model`,
      );
    }
    const identity: ModelIdentity = { name: card.name, sha256: engine.modelSha256, embeddingDim: engine.embeddingDim };
    return { engine, card, identity, basePrototypes: card.head.prototypes };
  }

  /** The same, with the engine classifying by the taught classes in force. */
  private async model(model?: string) {
    const loaded = await this.loaded(model);
    const active = await this.deps.store.activePrototypes(loaded.identity.sha256);
    // A library an older build let grow past what the model can name says what to do, not just that it failed.
    refuseTooManyClasses(loaded.card.name, loaded.card.classes.length, active.classes.length);
    loaded.engine.setTaughtClasses(active.classes);
    return { ...loaded, active };
  }

  private async embed(engine: Engine, frame: FrameRef, knowledgeVersion: number | null): Promise<EmbeddedFrame> {
    const key = JSON.stringify([engine.modelSha256, knowledgeVersion, frame]);
    const cached = this.cache.get(key);
    if (cached) return cached;
    const result = await engine.analyze(await this.deps.readFrame(frame), { keepEmbedding: true });
    if (!result.embedding) throw new AppError('internal', 'The engine did not keep the embedding it was asked for');
    const embedded = {
      result: { ...result, embedding: result.embedding },
      embedding: { dim: engine.embeddingDim, pixels: result.width * result.height, data: result.embedding },
    };
    this.cache.set(key, embedded);
    if (this.cache.size > CACHE_SIZE) this.cache.delete(this.cache.keys().next().value as string);
    return embedded;
  }

  async listClasses(request: Request<'teaching.classes.list'>): Promise<Response<'teaching.classes.list'>> {
    const engine = await this.deps.engine(request.model);
    return {
      knowledgeVersion: await this.deps.store.currentVersion(),
      modelSha256: engine.modelSha256,
      classes: await this.deps.store.list(engine.modelSha256),
    };
  }

  private async build(request: TeachRequest) {
    const context = await this.model(request.model);
    const frames = await Promise.all(
      request.shots.map((shot) => this.embed(context.engine, shot.frame, context.active.version)),
    );
    const shots = frames.map((frame, i) => {
      const rle = request.shots[i]!.mask;
      const { width, height } = frame.result;
      if (rle.width !== width || rle.height !== height) {
        throw new AppError(
          'invalid_mask',
          `The mask of shot ${i + 1} is ${rle.width}x${rle.height}; masks are at the model's output size ${width}x${height}`,
        );
      }
      let mask: Uint8Array;
      try {
        mask = decodeRle(rle);
      } catch (error) {
        throw new AppError('invalid_mask', `The mask of shot ${i + 1} is malformed: ${(error as Error).message}`);
      }
      return { embedding: frame.embedding, mask };
    });
    const taught = teachClass(shots, { k: request.prototypes, basePrototypes: context.basePrototypes });
    return {
      context,
      frames,
      shots,
      taught,
      warnings: this.warnings(
        taught,
        context,
        frames,
        shots.map((shot) => shot.mask),
      ),
    };
  }

  /**
   * A new class that duplicates an existing one: its prototype lies inside its own acceptance radius of an
   * existing prototype, or most marked pixels are already classified (not unknown) as one existing class.
   */
  private warnings(
    taught: TaughtModel,
    context: ModelContext,
    frames: EmbeddedFrame[],
    masks: Uint8Array[],
  ): TeachingWarning[] {
    const existing = [
      ...context.card.classes.map((cls, i) => ({ name: cls.name, prototypes: [context.basePrototypes[i]!] })),
      ...context.active.classes,
    ];
    const near = nearestExisting(taught.prototypes[0]!, existing);
    if (!near) return [];
    const votes = new Map<number, number>();
    let marked = 0;
    frames.forEach((frame, i) => {
      masks[i]!.forEach((bit, p) => {
        if (!bit) return;
        marked++;
        const cls = frame.result.classMap[p]!;
        if (cls !== UNKNOWN_CLASS) votes.set(cls, (votes.get(cls) ?? 0) + 1);
      });
    });
    const [topClass, topVotes] = [...votes].sort((a, b) => b[1] - a[1])[0] ?? [-1, 0];
    const share = marked ? topVotes / marked : 0;
    const onTop = near.squaredDistance < taught.acceptanceRadius;
    if (!onTop && share < 0.5) return [];
    const className = onTop ? near.name : (context.engine.classes[topClass]?.name ?? near.name);
    const target = existing.find((entry) => entry.name === className)!;
    const distance = Math.sqrt(nearestExisting(taught.prototypes[0]!, [target])!.squaredDistance);
    const reason = onTop
      ? `inside its own acceptance radius ${Math.sqrt(taught.acceptanceRadius).toFixed(2)}`
      : `and ${Math.round(share * 100)}% of the marked pixels are already classified as ${className}`;
    return [
      {
        code: 'near_existing_class',
        className,
        distance,
        message: `The new prototype lies ${distance.toFixed(2)} from "${className}" ${reason}: the marked pixels may be ${className}, or the new class will take ${className}'s pixels`,
      },
    ];
  }

  async preview(request: TeachRequest): Promise<Response<'teaching.preview'>> {
    const { context, frames, shots, taught, warnings } = await this.build(request);
    const taughtList = [
      ...context.active.classes,
      { prototypes: taught.prototypes, acceptanceRadius: taught.acceptanceRadius },
    ];
    const newIndex = context.basePrototypes.length + context.active.classes.length;
    return {
      prototypes: taught.prototypes,
      acceptanceRadius: taught.acceptanceRadius,
      warnings,
      shots: frames.map((frame, i) => {
        const { width, height, classMap } = frame.result;
        const after = classifyMap(frame.embedding, context.basePrototypes, taughtList).map((cls) =>
          cls === newIndex ? 1 : 0,
        );
        const mask = shots[i]!.mask;
        let marked = 0;
        let caught = 0;
        let outside = 0;
        for (let p = 0; p < mask.length; p++) {
          marked += mask[p]!;
          caught += mask[p]! & after[p]!;
          outside += after[p]! & (1 - mask[p]!);
        }
        return {
          frame: request.shots[i]!.frame,
          width,
          height,
          unknownBefore: encodeRle(
            classMap.map((cls) => (cls === UNKNOWN_CLASS ? 1 : 0)),
            width,
            height,
          ),
          taughtAfter: encodeRle(after, width, height),
          maskRecall: marked ? caught / marked : 0,
          pixelsOutsideMask: outside,
        };
      }),
    };
  }

  async teach(request: Request<'teaching.teach'>): Promise<Response<'teaching.teach'>> {
    const card = await this.deps.card(request.model);
    const builtIn = card.classes.find((cls) => cls.name.toLowerCase() === request.name.toLowerCase());
    if (builtIn)
      throw new AppError('conflict', `"${request.name}" is already a class of model ${card.name}: choose another name`);
    const { context, shots, taught, warnings } = await this.build(request);
    const { taughtClass, version } = await this.deps.store.add(
      {
        modelSha256: context.identity.sha256,
        embeddingDim: context.identity.embeddingDim,
        name: request.name,
        color: request.color,
        prototypes: taught.prototypes,
        acceptanceRadius: taught.acceptanceRadius,
        createdBy: request.author ?? currentUser(),
        shots: request.shots.map((shot, i) => ({
          frame: shot.frame,
          description: describeFrame(shot.frame),
          pixels: shots[i]!.mask.reduce((sum, bit) => sum + bit, 0),
          mask: shot.mask,
        })),
      },
      undefined,
      this.engineCheck(context),
    );
    this.forgetFrames();
    return { taughtClass, knowledgeVersion: version, warnings };
  }

  async update(request: Request<'teaching.update'>): Promise<Response<'teaching.update'>> {
    // Enabling a class adds it back to what its model's engine must run: check that as a teach does.
    const check = request.enabled ? await this.checkForClass(request.classId) : undefined;
    const { taughtClass, version } = await this.deps.store.update(request.classId, request, currentUser(), check);
    this.forgetFrames();
    return { taughtClass, knowledgeVersion: version };
  }

  /**
   * Runs inside the knowledge store's transaction on the classes a change leaves in force: a set the model
   * cannot hold, or that its engine refuses, rolls the change back, so nothing is stored that would make
   * every later teaching call fail. Passing, the engine takes the classes at once.
   */
  private engineCheck(context: ModelContext): KnowledgeCheck {
    return (classes) => {
      refuseTooManyClasses(context.card.name, context.card.classes.length, classes.length);
      context.engine.setTaughtClasses(classes);
    };
  }

  private async checkForClass(classId: number): Promise<KnowledgeCheck | undefined> {
    const model = await this.deps.modelOf?.((await this.deps.store.get(classId)).modelSha256);
    return model === undefined ? undefined : this.engineCheck(await this.model(model));
  }

  async delete(request: Request<'teaching.delete'>): Promise<Response<'teaching.delete'>> {
    const knowledgeVersion = await this.deps.store.delete(request.classId, currentUser());
    this.forgetFrames();
    return { ok: true, knowledgeVersion };
  }

  async exportKnowledge(request: Request<'teaching.export'>): Promise<Response<'teaching.export'>> {
    // Without the taught classes in force: a knowledge base that no longer fits its model can still be saved.
    const { identity } = await this.loaded(request.model);
    return exportKnowledge(this.deps.store, identity);
  }

  async importKnowledge(request: Request<'teaching.import'>): Promise<Response<'teaching.import'>> {
    const context = await this.model(request.model);
    const check = this.engineCheck(context);
    const outcome = await importKnowledge(this.deps.store, request.document, context.identity, currentUser(), check);
    this.forgetFrames();
    return outcome;
  }

  async wand(request: Request<'teaching.wand'>): Promise<Response<'teaching.wand'>> {
    const { engine, active } = await this.model(request.model);
    const frame = await this.embed(engine, request.frame, active.version);
    const { width, height } = frame.result;
    const mask = wandSelect({
      embedding: frame.embedding,
      width,
      height,
      x: request.x,
      y: request.y,
      maxDistance: request.maxDistance,
    });
    return { mask: encodeRle(mask, width, height), pixels: mask.reduce((sum, bit) => sum + bit, 0) };
  }

  async embeddings(request: Request<'teaching.embeddings'>): Promise<Response<'teaching.embeddings'>> {
    const { engine, card, active, basePrototypes } = await this.model(request.model);
    const frame = await this.embed(engine, request.frame, active.version);
    const { axes } = request;
    if (Array.isArray(axes) && axes.some((channel) => channel >= engine.embeddingDim)) {
      throw new AppError(
        'invalid_request',
        `Channels ${axes.join(', ')}: the embedding of ${engine.modelName} has channels 0 to ${engine.embeddingDim - 1}`,
      );
    }
    const samples = request.samples ?? (axes === 'neighbours' ? NEIGHBOURS_LAYOUT_MAX_POINTS : DEFAULT_CLOUD_POINTS);
    // engine.classes lists the card's classes, then the taught ones model() just set, as their prototypes are here.
    const prototypes = [
      ...card.classes.map((_, i) => [basePrototypes[i]!]),
      ...active.classes.map((cls) => cls.prototypes),
    ];
    return embeddingCloud(
      frame,
      engine,
      samples,
      axes,
      engine.classes.map((cls, i) => ({ ...cls, prototypes: prototypes[i]! })),
    );
  }

  /**
   * The mean embedding of a mask's pixels on an analysed frame, by the model with this sha256 ("find more like
   * this" from a lasso or a teaching mask), with the mask's pixel count and bounding box.
   */
  async maskEmbedding(
    frame: FrameRef,
    rle: RleMask,
    modelSha256: string,
  ): Promise<{ mean: number[]; pixels: number; box: { x: number; y: number; width: number; height: number } }> {
    const model = await this.deps.modelOf?.(modelSha256);
    if (!model) {
      throw new AppError(
        'model_missing',
        `No installed model has sha256 ${modelSha256.slice(0, 12)}, the model this frame was analysed with: install it again to search by mask`,
      );
    }
    const { engine } = await this.loaded(model);
    const embedded = await this.embed(engine, frame, null);
    const { width, height } = embedded.result;
    if (rle.width !== width || rle.height !== height) {
      throw new AppError(
        'invalid_mask',
        `The mask is ${rle.width}x${rle.height}; masks are at the model's output size ${width}x${height}`,
      );
    }
    let mask: Uint8Array;
    try {
      mask = decodeRle(rle);
    } catch (error) {
      throw new AppError('invalid_mask', `The mask is malformed: ${(error as Error).message}`);
    }
    const rows = markedVectors({ embedding: embedded.embedding, mask });
    if (rows.length === 0) throw new AppError('empty_mask', 'The mask marks no pixel: mark the object to search for');
    let [left, top, right, bottom] = [width, height, -1, -1];
    mask.forEach((bit, i) => {
      if (!bit) return;
      const x = i % width;
      const y = (i - x) / width;
      [left, top, right, bottom] = [Math.min(left, x), Math.min(top, y), Math.max(right, x), Math.max(bottom, y)];
    });
    return {
      mean: meanVector(rows, engine.embeddingDim),
      pixels: rows.length,
      box: { x: left, y: top, width: right - left + 1, height: bottom - top + 1 },
    };
  }

  async reanalyse(request: Request<'teaching.reanalyse'>): Promise<Response<'teaching.reanalyse'>> {
    const start = this.deps.startAnalysis;
    if (!start)
      throw new AppError('unavailable', 'Re-analysis needs the analysis jobs queue, which this host does not run');
    const analysisIds: number[] = [];
    for (const sessionId of request.sessionIds) analysisIds.push(await start(sessionId, request.model));
    return { analysisIds, knowledgeVersion: await this.deps.store.currentVersion() };
  }

  /**
   * After any change cached frames are stale. The engine is not touched here: every call sets its taught
   * classes first (model()), and an update or delete that was committed must not answer with an error.
   */
  private forgetFrames(): void {
    this.cache.clear();
  }
}

async function embeddingCloud(
  frame: EmbeddedFrame,
  engine: Engine,
  samples: number,
  axes: CloudAxes,
  prototypes: (ClassInfo & { prototypes: number[][] })[],
): Promise<EmbeddingCloud> {
  const { width, height, classMap } = frame.result;
  const { dim } = frame.embedding;
  const { pixels, rows } = sampledRows(frame.embedding, samples);
  const classes = Uint8Array.from(pixels, (p) => classMap[p]!);
  const sampled = new Set(classes);
  // The neighbours layout places a prototype among the points nearest it; with no point of its class in the
  // sample those are another class's points, and a label there would name the wrong cluster.
  const shown = prototypes
    .filter((cls) => axes !== 'neighbours' || sampled.has(cls.index))
    .flatMap((cls) => cls.prototypes.map((vector) => ({ cls, vector })));
  const placed = await placePoints(
    rows,
    dim,
    axes,
    shown.map(({ vector }) => vector),
  );
  return {
    width,
    height,
    positions: placed.positions,
    pixels,
    classes,
    count: pixels.length,
    dim,
    explained: placed.explained,
    neighboursKept: placed.neighboursKept,
    prototypes: shown.map(({ cls }, i) => ({
      name: cls.name,
      color: cls.color,
      taught: cls.taught,
      position: placed.prototypePositions[i]!,
    })),
    classColors: engine.classes.map((cls) => cls.color),
    classNames: engine.classes.map((cls) => cls.name),
  };
}

interface PlacedPoints {
  positions: Float32Array<ArrayBuffer>;
  prototypePositions: [number, number, number][];
  explained: number[];
  neighboursKept: number | null;
}

/**
 * Positions for the points (rows of `dim` values) and the prototypes. A linear projection places prototypes as it
 * places points; the neighbours layout has no formula for a new point, so a prototype sits at the mean position of
 * the points nearest it in the embedding.
 */
async function placePoints(
  rows: Float32Array,
  dim: number,
  axes: CloudAxes,
  prototypes: number[][],
): Promise<PlacedPoints> {
  const count = rows.length / dim;
  if (axes === 'neighbours') {
    if (count <= DEFAULT_LAYOUT.neighbours)
      throw new AppError(
        'invalid_request',
        `The neighbours layout needs more than ${DEFAULT_LAYOUT.neighbours} points and this frame gives ${count}: use PCA`,
      );
    const { positions, neighboursKept } = await layoutOffThread(rows.slice(), dim);
    const prototypePositions = prototypes.map((prototype) => meanPositionNear(prototype, rows, dim, positions));
    return { positions, prototypePositions, explained: [], neighboursKept };
  }
  const vectors = rowsOf(rows, dim);
  const projection = Array.isArray(axes) ? channelProjection(vectors, dim, axes) : fitPca(vectors, dim);
  return {
    positions: projectAll(vectors, projection),
    prototypePositions: prototypes.map((prototype) => project(prototype, projection)),
    explained: projection.explained,
    neighboursKept: null,
  };
}

function describeFrame(frame: FrameRef): string {
  return 'imagePath' in frame ? frame.imagePath : `analysis ${frame.analysisId}, frame ${frame.frameIndex}`;
}

function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}
