/**
 * "Find more like this" (docs/similar.md): the region a reviewer points at, searched for among the stored
 * region descriptors of every analysis made with the same model, nearest mean embedding first.
 */
import type {
  FrameRegions,
  SimilarAnswer,
  SimilarQuery,
  SimilarResult,
  SimilarSkipped,
  SourceBox,
} from '../../src-shared/contract/index.js';
import { AppError, NotFoundError } from '../core/errors.js';
import {
  componentRuns,
  decodeClassMapPng,
  minRegionPixels,
  numberComponents,
  runBoxes,
  UNKNOWN_CLASS,
  type RegionBox,
} from '../engine/index.js';
import type { DescribedAnalysis, Library, StoredDescriptors } from '../library/index.js';
import { packAnalysis, packedBytes, scanNearest, type Neighbour, type PackedAnalysis } from './packed.js';

export interface SimilarRequest {
  analysisId: number;
  frameIndex: number;
  query: SimilarQuery;
  among: 'unknown' | 'all';
  limit: number;
  maxDistance?: number | undefined;
}

/** The mean embedding of a mask's pixels on a frame: the caller runs the model (teaching's engines). */
export type MaskEmbedder = (
  analysisId: number,
  frameIndex: number,
  mask: Extract<SimilarQuery, { kind: 'mask' }>['mask'],
) => Promise<{ mean: number[]; pixels: number; box: Omit<RegionBox, 'pixels'> }>;

/** Packed analyses kept between searches: about 5,000,000 regions at D = 9. */
export const DEFAULT_CACHE_BYTES = 256 * 2 ** 20;

/** A query resolved to its vector and what the answer says about it. */
interface ResolvedQuery {
  vector: Float32Array;
  summary: Omit<SimilarAnswer['query'], 'analysisId' | 'frameIndex' | 'modelName' | 'modelSha256'>;
}

/** Similarity from squared distance: 1 at 0, 1/2 at `scale` (two neighbouring classes apart). */
export const similarityOf = (distance: number, scale: number) => Math.exp((-Math.LN2 * distance) / scale);

/**
 * The search over one library. Packed analyses are cached (least recently used first out, within
 * `cacheBytes`) and reloaded when their analysis changes (more frames, a new status); one larger than the
 * whole budget is scanned and dropped.
 */
export class SimilarSearch {
  private readonly cache = new Map<number, { revision: string; packed: PackedAnalysis }>();

  constructor(
    private readonly library: Library,
    private readonly options: { cacheBytes?: number; embedMask?: MaskEmbedder } = {},
  ) {}

  async find(request: SimilarRequest): Promise<SimilarAnswer> {
    const { analysisId, frameIndex } = request;
    const catalogue = await this.library.descriptors.analyses();
    const own = catalogue.find((analysis) => analysis.analysisId === analysisId);
    if (!own) throw new NotFoundError(`Analysis ${analysisId}`);
    await this.library.frames.get(analysisId, frameIndex); // names a missing frame
    if (!own.hasDescriptors)
      throw new AppError('similar_no_descriptors', await noDescriptorsMessage(this.library, own));
    const stored = await this.library.descriptors.frame(analysisId, frameIndex);
    if (!stored) {
      throw new AppError(
        'similar_no_descriptors',
        `Frame ${frameIndex} of analysis ${analysisId} has no region descriptors: re-analyse session ${own.sessionId} ("${own.sessionName}") to search from it`,
      );
    }
    const resolved = await this.resolve(request, stored);
    const candidates = catalogue.filter(
      (analysis) => analysis.modelSha256 === own.modelSha256 && analysis.hasDescriptors,
    );
    const best: Neighbour[] = [];
    let regions = 0;
    for (const analysis of candidates) {
      const packed = await this.packed(analysis);
      regions += packed.rows;
      if (packed.dim !== stored.dim) continue;
      scanNearest(
        packed,
        {
          query: resolved.vector,
          unknownOnly: request.among === 'unknown',
          maxDistance: request.maxDistance ?? Infinity,
          skipFrame: analysis.analysisId === analysisId ? frameIndex : -1,
        },
        best,
        request.limit,
      );
    }
    return {
      query: { analysisId, frameIndex, modelName: own.modelName, modelSha256: own.modelSha256, ...resolved.summary },
      similarityScale: stored.scale,
      results: await this.describeResults(best, catalogue, stored.scale),
      searched: { analyses: candidates.length, regions },
      skipped: await skippedAnalyses(this.library, catalogue, own),
    };
  }

  private async packed(analysis: DescribedAnalysis): Promise<PackedAnalysis> {
    const cached = this.cache.get(analysis.analysisId);
    if (cached?.revision === analysis.revision) {
      // Most recently used last: Map keeps insertion order.
      this.cache.delete(analysis.analysisId);
      this.cache.set(analysis.analysisId, cached);
      return cached.packed;
    }
    this.cache.delete(analysis.analysisId);
    const packed = await packAnalysis(this.library, analysis.analysisId);
    const budget = this.options.cacheBytes ?? DEFAULT_CACHE_BYTES;
    if (packedBytes(packed) <= budget) {
      this.cache.set(analysis.analysisId, { revision: analysis.revision, packed });
      let total = [...this.cache.values()].reduce((sum, entry) => sum + packedBytes(entry.packed), 0);
      for (const [id, entry] of this.cache) {
        if (total <= budget) break;
        this.cache.delete(id);
        total -= packedBytes(entry.packed);
      }
    }
    return packed;
  }

  /** Bytes of packed descriptors held between searches. */
  get cachedBytes(): number {
    return [...this.cache.values()].reduce((sum, entry) => sum + packedBytes(entry.packed), 0);
  }

  private async resolve(request: SimilarRequest, stored: StoredDescriptors): Promise<ResolvedQuery> {
    const { analysisId, frameIndex, query } = request;
    const frame = await this.frameContext(analysisId, frameIndex);
    if (query.kind === 'mask') {
      if (!this.options.embedMask) throw new AppError('unavailable', 'Searching by mask needs a model to run here');
      const { mean, pixels, box } = await this.options.embedMask(analysisId, frameIndex, query.mask);
      if (mean.length !== stored.dim) {
        throw new AppError(
          'similar_no_descriptors',
          `The mask's embedding has ${mean.length} values, the stored descriptors of ${frame.name} ${stored.dim}: the model changed since the analysis; re-analyse the session`,
        );
      }
      return {
        vector: Float32Array.from(mean),
        summary: { box: toSourceBox(box, frame), kind: 'unknown', classIndex: null, regionIndex: null, pixels },
      };
    }
    const target =
      query.kind === 'point'
        ? await this.regionAtPoint(query, frame, request.among)
        : await this.unknownByListIndex(query.regionIndex, frame);
    const row = stored.regions.findIndex(
      (region) => region.classIndex === target.classIndex && region.regionIndex === target.regionIndex,
    );
    if (row < 0) {
      throw new AppError(
        'similar_no_region',
        `The ${target.classIndex === UNKNOWN_CLASS ? 'unknown region' : 'region'} there on ${frame.name} has ${target.pixels} pixels, under the ${minRegionPixels(frame.mapWidth, frame.mapHeight)}-pixel floor of what is searched: pick a larger region`,
      );
    }
    const region = stored.regions[row]!;
    const unknown = region.classIndex === UNKNOWN_CLASS;
    return {
      vector: stored.means.slice(row * stored.dim, (row + 1) * stored.dim),
      summary: {
        box: toSourceBox(region, frame),
        kind: unknown ? 'unknown' : 'class',
        classIndex: unknown ? null : region.classIndex,
        regionIndex: unknown ? listIndexOf(frame.regions.regions, region) : null,
        pixels: region.pixels,
      },
    };
  }

  /** A frame's name for errors, its unknown regions as frames.regions lists them, and its map and source sizes. */
  private async frameContext(
    analysisId: number,
    frameIndex: number,
    sizes = new Map<number, SourceSize>(),
  ): Promise<FrameContext & { timeMs: number }> {
    const regions = await this.library.frames.regions(analysisId, frameIndex);
    const { sessionId, timeMs } = await this.library.frames.source(analysisId, frameIndex);
    const session = sizes.get(sessionId) ?? (await this.sessionSize(sessionId));
    sizes.set(sessionId, session);
    return {
      analysisId,
      frameIndex,
      name: `frame ${frameIndex} of analysis ${analysisId}`,
      timeMs,
      regions,
      mapWidth: regions.mapWidth,
      mapHeight: regions.mapHeight,
      ...session,
    };
  }

  private async sessionSize(sessionId: number): Promise<SourceSize> {
    const session = await this.library.sessions.get(sessionId);
    return { sourceWidth: session.width, sourceHeight: session.height };
  }

  /** The component under a source-frame point, numbered as descriptors number them. */
  private async regionAtPoint(
    point: { x: number; y: number },
    frame: FrameContext,
    among: SimilarRequest['among'],
  ): Promise<{ classIndex: number; regionIndex: number; pixels: number }> {
    const { sourceWidth, sourceHeight } = frame;
    if (point.x >= sourceWidth || point.y >= sourceHeight) {
      throw new AppError(
        'invalid_request',
        `The point (${point.x}, ${point.y}) is outside ${frame.name}, which is ${sourceWidth}x${sourceHeight} source pixels`,
      );
    }
    const png = await this.library.frames.map(frame.analysisId, frame.frameIndex, 'class_map');
    if (!png) throw new AppError('similar_no_descriptors', `The class map of ${frame.name} is not stored: re-analyse`);
    const { width, height, classMap } = decodeClassMapPng(png);
    const cell =
      Math.floor((Math.floor(point.y) * height) / sourceHeight) * width +
      Math.floor((Math.floor(point.x) * width) / sourceWidth);
    const classIndex = classMap[cell]!;
    if (among === 'unknown' && classIndex !== UNKNOWN_CLASS) {
      throw new AppError(
        'similar_no_region',
        `The point (${point.x}, ${point.y}) of ${frame.name} is on no unknown region (the model gives class ${classIndex} there): point at an outlined region`,
      );
    }
    const runs = componentRuns(classMap, width, height);
    const [x, y] = [cell % width, Math.floor(cell / width)];
    let run = 0;
    while (runs.row[run] !== y || runs.end[run]! <= x) run++;
    const label = runs.label[run]!;
    const { regionIndex } = numberComponents(runs, classMap)[label - 1]!;
    return { classIndex, regionIndex, pixels: runBoxes(runs)[label - 1]!.pixels };
  }

  /** An unknown region by its index in frames.regions' list (largest first), as its raster-order index. */
  private async unknownByListIndex(listIndex: number, frame: FrameContext) {
    const listed = frame.regions.regions[listIndex];
    if (!listed) {
      throw new AppError(
        'similar_no_region',
        `${frame.name} has ${frame.regions.regions.length} unknown regions; there is no region ${listIndex}`,
      );
    }
    const stored = await this.library.descriptors.unknownRegions(frame.analysisId, frame.frameIndex);
    const regionIndex = stored.findIndex((region) => sameRegion(region, listed));
    return { classIndex: UNKNOWN_CLASS, regionIndex, pixels: listed.pixels };
  }

  private async describeResults(
    best: Neighbour[],
    catalogue: DescribedAnalysis[],
    scale: number,
  ): Promise<SimilarResult[]> {
    const byId = new Map(catalogue.map((analysis) => [analysis.analysisId, analysis]));
    const sizes = new Map<number, SourceSize>();
    const events = new Map<number, { id: number; startMs: number; endMs: number }[]>();
    const results: SimilarResult[] = [];
    for (const { packed, row, distance } of best) {
      const analysis = byId.get(packed.analysisId)!;
      const frameIndex = packed.frameIndex[row]!;
      const frame = await this.frameContext(packed.analysisId, frameIndex, sizes);
      const { timeMs } = frame;
      const analysisEvents = events.get(packed.analysisId) ?? (await this.library.events.list(packed.analysisId));
      events.set(packed.analysisId, analysisEvents);
      const unknown = packed.classIndex[row] === UNKNOWN_CLASS;
      const [x, y, width, height] = packed.boxes.subarray(row * 4, row * 4 + 4) as unknown as number[];
      const region = { x: x!, y: y!, width: width!, height: height!, pixels: packed.pixels[row]! };
      results.push({
        sessionId: analysis.sessionId,
        sessionName: analysis.sessionName,
        analysisId: packed.analysisId,
        frameIndex,
        timeMs,
        box: toSourceBox(region, frame),
        kind: unknown ? ('unknown' as const) : ('class' as const),
        classIndex: unknown ? null : packed.classIndex[row]!,
        regionIndex: unknown ? listIndexOf(frame.regions.regions, region) : null,
        pixels: region.pixels,
        distance,
        similarity: similarityOf(distance, scale),
        eventId: analysisEvents.find((event) => event.startMs <= timeMs && timeMs <= event.endMs)?.id ?? null,
      });
    }
    return results;
  }
}

interface SourceSize {
  sourceWidth: number;
  sourceHeight: number;
}

interface FrameContext {
  analysisId: number;
  frameIndex: number;
  name: string;
  regions: FrameRegions;
  mapWidth: number;
  mapHeight: number;
  sourceWidth: number;
  sourceHeight: number;
}

type Boxed = Pick<RegionBox, 'x' | 'y' | 'width' | 'height' | 'pixels'>;

const sameRegion = (a: Boxed, b: Boxed) =>
  a.pixels === b.pixels && a.x === b.x && a.y === b.y && a.width === b.width && a.height === b.height;

/** A region's index in frames.regions' list; null when the list lacks it (an analysis from before regions). */
function listIndexOf(listed: readonly Boxed[], region: Boxed): number | null {
  const index = listed.findIndex((candidate) => sameRegion(candidate, region));
  return index < 0 ? null : index;
}

/**
 * A box of map cells as source pixels, by the overlays' nearest-cell rule (export/images.ts nearestCells):
 * cell c shows on source pixels ceil(c W / w) up to ceil((c + 1) W / w).
 */
export function toSourceBox(
  box: Pick<RegionBox, 'x' | 'y' | 'width' | 'height'>,
  frame: Pick<FrameContext, 'mapWidth' | 'mapHeight' | 'sourceWidth' | 'sourceHeight'>,
): SourceBox {
  const edge = (cell: number, source: number, cells: number) => Math.ceil((cell * source) / cells);
  const x = edge(box.x, frame.sourceWidth, frame.mapWidth);
  const y = edge(box.y, frame.sourceHeight, frame.mapHeight);
  return {
    x,
    y,
    width: edge(box.x + box.width, frame.sourceWidth, frame.mapWidth) - x,
    height: edge(box.y + box.height, frame.sourceHeight, frame.mapHeight) - y,
  };
}

/** Why an analysis has no descriptors, and the two ways to re-analyse its drive. */
async function noDescriptorsMessage(library: Library, analysis: DescribedAnalysis): Promise<string> {
  const paths = (await library.sessions.sources(analysis.sessionId)).map((source) => JSON.stringify(source.path));
  const { sampleFps } = await library.analyses.get(analysis.analysisId);
  const command = `dmlreview analyze ${paths.join(' ')} --model ${analysis.modelName} --fps ${sampleFps ?? 'all'} --new`;
  return `Analysis ${analysis.analysisId} of session ${analysis.sessionId} ("${analysis.sessionName}", model ${analysis.modelName}) was made before region descriptors were stored: re-analyse the session to search it (${command}; or API analysis.start { sessionId: ${analysis.sessionId} })`;
}

/** Analyses the search could not look in: another model's embedding space, or no descriptors. */
async function skippedAnalyses(
  library: Library,
  catalogue: DescribedAnalysis[],
  own: DescribedAnalysis,
): Promise<SimilarSkipped[]> {
  const skipped: SimilarSkipped[] = [];
  for (const analysis of catalogue) {
    if (analysis.framesDone === 0) continue;
    const about = {
      analysisId: analysis.analysisId,
      sessionId: analysis.sessionId,
      sessionName: analysis.sessionName,
      modelName: analysis.modelName,
    };
    if (analysis.modelSha256 !== own.modelSha256) {
      const message = `Analysis ${analysis.analysisId} was made with model ${analysis.modelName}: its embeddings are in another space than ${own.modelName}'s, so they cannot be compared`;
      skipped.push({ ...about, reason: 'other-model', message });
    } else if (!analysis.hasDescriptors) {
      skipped.push({ ...about, reason: 'no-descriptors', message: await noDescriptorsMessage(library, analysis) });
    }
  }
  return skipped;
}
