import { sql, type Selectable } from 'kysely';
import type { FrameRegions, FrameSummary, Timeline } from '../../src-shared/contract/index.js';
import { NotFoundError } from '../core/errors.js';
import type { Analyses } from './analyses.js';
import { CHUNK_INDEX_STRIDE } from './chunks.js';
import { encodeDescriptors, type StoredDescriptors } from './descriptor-codec.js';
import { decodeRegions, encodeRegions, type StoredRegions } from './region-codec.js';
import type { Store } from './store.js';
import type { FramesTable } from './tables.js';

export interface StoredFrame {
  index: number;
  sourceIndex: number;
  timeMs: number;
  score: number;
  unknownFraction: number;
  largestRegion: FrameSummary['largestRegion'];
  classAreas: number[];
  /** Every unknown region of the frame (engine FrameResult.regions) and the size of the maps they are in. */
  regions: StoredRegions;
  /** Mean embeddings of its regions (engine FrameResult.descriptors); none from a model without an embedding. */
  descriptors?: StoredDescriptors | undefined;
  classMapPng: Uint8Array;
  oodMapPng: Uint8Array;
  previewJpeg: Uint8Array;
}

export interface ResumePoint {
  framesStored: number;
  /** Frames already stored per source position. */
  framesPerSource: Map<number, number>;
  /** Session time of the last frame stored per source position. */
  lastTimeMsPerSource: Map<number, number>;
}

export interface TopFramesQuery {
  analysisId: number;
  offset: number;
  limit: number;
  minScore?: number;
  classIndex?: number;
  flaggedOnly?: boolean;
}

/** Frame indices from `from` up to, not including, `until`. */
export interface IndexRange {
  from: number;
  until: number;
}

export type MapKind = 'class_map' | 'ood_map' | 'preview';

/** Frames per timeline_chunks row. */
const TIMELINE_CHUNK = 1024;
const FRAME_COLUMNS = [
  'analysis_id',
  'idx',
  'source_index',
  'time_ms',
  'score',
  'unknown_fraction',
  'region_area',
  'region_x',
  'region_y',
  'region_w',
  'region_h',
  'class_areas',
] as const satisfies readonly (keyof FramesTable)[];
/** Rows per INSERT statement: well under both databases' limits on bound parameters. */
const ROWS_PER_INSERT = 1000;

/**
 * The analysed frames of each analysis: summaries, maps, unknown regions and the packed timeline. Frames are
 * written in index order, in batches, and never changed afterwards.
 */
export class Frames {
  constructor(
    private readonly store: Store,
    private readonly analyses: Analyses,
  ) {}

  /** Stores a batch of frames and their maps in one transaction, so a crash keeps whole batches only. */
  async write(analysisId: number, frames: StoredFrame[]): Promise<void> {
    await this.store.transaction(async () => {
      await this.appendTimeline(analysisId, frames);
      for (let first = 0; first < frames.length; first += ROWS_PER_INSERT) {
        await this.insertRows(analysisId, frames.slice(first, first + ROWS_PER_INSERT));
      }
      await this.store.db
        .updateTable('analyses')
        .set((eb) => ({ frames_done: eb('frames_done', '+', frames.length) }))
        .where('id', '=', analysisId)
        .execute();
    });
  }

  private async insertRows(analysisId: number, frames: StoredFrame[]): Promise<void> {
    if (frames.length === 0) return;
    const store = this.store;
    await store.insert(
      'frames',
      frames.map((frame) => {
        const region = frame.largestRegion;
        return {
          analysis_id: analysisId,
          idx: frame.index,
          source_index: frame.sourceIndex,
          time_ms: frame.timeMs,
          score: frame.score,
          unknown_fraction: frame.unknownFraction,
          region_area: region?.area ?? null,
          region_x: region?.x ?? null,
          region_y: region?.y ?? null,
          region_w: region?.width ?? null,
          region_h: region?.height ?? null,
          class_areas: encodeClassAreas(frame.classAreas),
        };
      }),
    );
    await store.insert(
      'frame_maps',
      frames.map((frame) => ({
        analysis_id: analysisId,
        idx: frame.index,
        class_map: frame.classMapPng,
        ood_map: frame.oodMapPng,
        preview: frame.previewJpeg,
      })),
    );
    await store.insert(
      'frame_regions',
      frames.map((frame) => ({ analysis_id: analysisId, idx: frame.index, regions: encodeRegions(frame.regions) })),
    );
    await store.insert(
      'frame_descriptors',
      frames
        .filter((frame) => frame.descriptors)
        .map((frame) => ({
          analysis_id: analysisId,
          idx: frame.index,
          descriptors: encodeDescriptors(frame.descriptors!),
        })),
    );
  }

  /** Frames arrive in index order (batches of a run, a resume continuing at the next index). */
  private async appendTimeline(analysisId: number, frames: StoredFrame[]): Promise<void> {
    const db = this.store.db;
    for (let start = 0; start < frames.length;) {
      const chunk = Math.floor(frames[start]!.index / TIMELINE_CHUNK);
      const inChunk = frames.slice(start).filter((frame) => Math.floor(frame.index / TIMELINE_CHUNK) === chunk);
      const stored = await db
        .selectFrom('timeline_chunks')
        .select(['times', 'scores'])
        .where('analysis_id', '=', analysisId)
        .where('chunk', '=', chunk)
        .executeTakeFirst();
      const times = Buffer.from(Float64Array.from(inChunk, (frame) => frame.timeMs).buffer);
      const scores = Buffer.from(Float64Array.from(inChunk, (frame) => frame.score).buffer);
      const packed = {
        times: stored ? Buffer.concat([stored.times, times]) : times,
        scores: stored ? Buffer.concat([stored.scores, scores]) : scores,
      };
      await db
        .insertInto('timeline_chunks')
        .values({ analysis_id: analysisId, chunk, ...packed })
        .onConflict((conflict) => conflict.columns(['analysis_id', 'chunk']).doUpdateSet(packed))
        .execute();
      start += inChunk.length;
    }
  }

  /** Where a run resumes: the frames stored so far, of the whole analysis or of one chunk's index range. */
  async resumePoint(analysisId: number, indices?: IndexRange): Promise<ResumePoint> {
    const rows = await this.store.db
      .selectFrom('frames')
      .select((eb) => ['source_index', eb.fn.countAll<number>().as('n'), eb.fn.max('time_ms').as('last')])
      .where('analysis_id', '=', analysisId)
      .$if(indices !== undefined, (query) => query.where('idx', '>=', indices!.from).where('idx', '<', indices!.until))
      .groupBy('source_index')
      .execute();
    const perSource = rows.map((row) => ({
      source: Number(row.source_index),
      n: Number(row.n),
      last: Number(row.last),
    }));
    return {
      framesStored: perSource.reduce((sum, { n }) => sum + n, 0),
      framesPerSource: new Map(perSource.map(({ source, n }) => [source, n])),
      lastTimeMsPerSource: new Map(perSource.map(({ source, last }) => [source, last])),
    };
  }

  /**
   * Numbers the frames of an analysis stored in index ranges of their own (the chunks a fleet ran side by side,
   * `firsts` in timeline order) contiguously from 0, and packs the timeline again: afterwards the analysis is
   * what one run in index order stores. Runs in the caller's transaction.
   *
   * With `until`, only the listed ranges move, the last ending there: the chunks done so far while later ones
   * still run (their frames, from `until` on, keep their indices and timeline). Ranges moved before are empty
   * then, their frames counted in the first range, so numbering again gives the same indices.
   *
   * Each range moves down by a constant. A frame's new row is inserted before the rows that reference it
   * (maps, regions, descriptors) move to it, and its old row goes last, so no foreign key is ever broken; new
   * indices are below every range but the first, which starts at 0 and stays, so no key collides either.
   */
  async renumber(analysisId: number, firsts: number[], until?: number): Promise<void> {
    const db = this.store.db;
    let next = 0;
    for (const [position, from] of firsts.entries()) {
      const rangeEnd = firsts[position + 1] ?? until ?? Number.MAX_SAFE_INTEGER;
      const inRange = (column: 'idx' | 'frame_index') =>
        sql<boolean>`analysis_id = ${analysisId} AND ${sql.ref(column)} >= ${from} AND ${sql.ref(column)} < ${rangeEnd}`;
      const counted = await db
        .selectFrom('frames')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where(inRange('idx'))
        .executeTakeFirstOrThrow();
      const count = Number(counted.n);
      const shift = from - next;
      next += count;
      if (shift === 0 || count === 0) continue;
      const moved = (column: 'idx' | 'frame_index') => sql<number>`${sql.ref(column)} - ${shift}`;
      await db
        .insertInto('frames')
        .columns(FRAME_COLUMNS)
        .expression(
          db
            .selectFrom('frames')
            .select(FRAME_COLUMNS.map((column) => (column === 'idx' ? moved('idx').as('idx') : column)))
            .where(inRange('idx')),
        )
        .execute();
      for (const table of ['frame_maps', 'frame_regions', 'frame_descriptors'] as const)
        await db
          .updateTable(table)
          .set({ idx: moved('idx') })
          .where(inRange('idx'))
          .execute();
      await db
        .updateTable('flags')
        .set({ frame_index: moved('frame_index') })
        .where(inRange('frame_index'))
        .execute();
      await db.deleteFrom('frames').where(inRange('idx')).execute();
    }
    await this.repackTimeline(analysisId, until);
  }

  /** Packs the timeline again from the stored frames in index order: all of it, or the part below `below`. */
  private async repackTimeline(analysisId: number, below?: number): Promise<void> {
    const db = this.store.db;
    await db
      .deleteFrom('timeline_chunks')
      .where('analysis_id', '=', analysisId)
      .$if(below !== undefined, (query) => query.where('chunk', '<', Math.ceil(below! / TIMELINE_CHUNK)))
      .execute();
    const rows = await db
      .selectFrom('frames')
      .select(['idx', 'time_ms', 'score'])
      .where('analysis_id', '=', analysisId)
      .$if(below !== undefined, (query) => query.where('idx', '<', below!))
      .orderBy('idx')
      .execute();
    for (let first = 0; first < rows.length; first += TIMELINE_CHUNK) {
      const part = rows.slice(first, first + TIMELINE_CHUNK);
      await db
        .insertInto('timeline_chunks')
        .values({
          analysis_id: analysisId,
          chunk: first / TIMELINE_CHUNK,
          times: Buffer.from(Float64Array.from(part, (row) => Number(row.time_ms)).buffer),
          scores: Buffer.from(Float64Array.from(part, (row) => Number(row.score)).buffer),
        })
        .execute();
    }
  }

  /**
   * The time and score of every frame, position = frame index. While a fleet runs an analysis, the frames of
   * the chunks after the first one not done sit in index ranges of their own (chunks.ts) and are left out until
   * the chunks before them are done and they are numbered in place (renumber): what is shown is the drive from
   * its start, each frame at its own index.
   */
  async timeline(analysisId: number): Promise<Timeline> {
    await this.analyses.get(analysisId);
    const chunks = await this.store.db
      .selectFrom('timeline_chunks')
      .select(['times', 'scores'])
      .where('analysis_id', '=', analysisId)
      .where('chunk', '<', CHUNK_INDEX_STRIDE / TIMELINE_CHUNK)
      .orderBy('chunk')
      .execute();
    return {
      analysisId,
      timesMs: unpackFloat64(chunks.map((chunk) => chunk.times)),
      scores: unpackFloat64(chunks.map((chunk) => chunk.scores)),
    };
  }

  async get(analysisId: number, index: number): Promise<FrameSummary> {
    const row = await this.selectFrames()
      .where('f.analysis_id', '=', analysisId)
      .where('f.idx', '=', index)
      .executeTakeFirst();
    if (!row) throw new NotFoundError(`Frame ${index} of analysis ${analysisId}`);
    return toFrameSummary(row);
  }

  /** A page of frames by score, highest first, with how many match the query in all. */
  async top(query: TopFramesQuery): Promise<{ total: number; frames: FrameSummary[] }> {
    await this.analyses.get(query.analysisId);
    const dialect = this.store.dialect;
    const matching = this.store.db
      .selectFrom('frames as f')
      .where('f.analysis_id', '=', query.analysisId)
      .$if(query.minScore !== undefined, (q) => q.where('f.score', '>=', query.minScore!))
      .$if(query.classIndex !== undefined, (q) =>
        q.where(dialect.classPresent(sql.ref('f.class_areas'), query.classIndex!)),
      )
      .$if(Boolean(query.flaggedOnly), (q) => q.where(flaggedExpression));
    const counted = await matching.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const total = Number(counted.n);
    // The page's frame indices first, from the score index alone: OFFSET then steps over index entries, not
    // rows (far quicker deep in a long drive: docs/benchmarks.md); then those frames by primary key.
    const page = (
      await matching
        .select('f.idx')
        .orderBy('f.score', 'desc')
        .orderBy('f.idx')
        .limit(query.limit)
        .offset(query.offset)
        .execute()
    ).map((row) => Number(row.idx));
    if (page.length === 0) return { total, frames: [] };
    const rows = await this.selectFrames()
      .where('f.analysis_id', '=', query.analysisId)
      .where('f.idx', 'in', page)
      .execute();
    const byIndex = new Map(rows.map((row) => [Number(row.idx), row]));
    return { total, frames: page.map((index) => toFrameSummary(byIndex.get(index)!)) };
  }

  /** A frame's unknown regions, largest first; an analysis from before regions says it has none. */
  async regions(analysisId: number, index: number): Promise<FrameRegions> {
    const analysis = await this.analyses.get(analysisId);
    await this.get(analysisId, index);
    const none = { analysisId, frameIndex: index, hasRegions: false, mapWidth: 0, mapHeight: 0, regions: [] };
    if (analysis.frameScore !== 'regions') return none;
    const row = await this.store.db
      .selectFrom('frame_regions')
      .select('regions')
      .where('analysis_id', '=', analysisId)
      .where('idx', '=', index)
      .executeTakeFirst();
    if (!row) return none;
    const stored = decodeRegions(row.regions, `frame ${index} of analysis ${analysisId}`);
    const regions = [...stored.regions].sort((a, b) => b.pixels - a.pixels);
    return { ...none, hasRegions: true, mapWidth: stored.mapWidth, mapHeight: stored.mapHeight, regions };
  }

  async map(analysisId: number, index: number, kind: MapKind): Promise<Buffer | undefined> {
    const row = await this.store.db
      .selectFrom('frame_maps')
      .select(kind)
      .where('analysis_id', '=', analysisId)
      .where('idx', '=', index)
      .executeTakeFirst();
    // Both drivers read a blob as a Buffer.
    return row?.[kind] as Buffer | undefined;
  }

  /** A frame's position in its source, for decoding it again at full resolution. */
  async source(analysisId: number, index: number): Promise<{ sessionId: number; sourceIndex: number; timeMs: number }> {
    const row = await this.store.db
      .selectFrom('frames as f')
      .innerJoin('analyses as a', 'a.id', 'f.analysis_id')
      .select(['a.session_id', 'f.source_index', 'f.time_ms'])
      .where('f.analysis_id', '=', analysisId)
      .where('f.idx', '=', index)
      .executeTakeFirst();
    if (!row) throw new NotFoundError(`Frame ${index} of analysis ${analysisId}`);
    return { sessionId: Number(row.session_id), sourceIndex: Number(row.source_index), timeMs: Number(row.time_ms) };
  }

  private selectFrames() {
    return this.store.db.selectFrom('frames as f').selectAll('f').select(flaggedExpression.as('flagged'));
  }
}

/** Whether the reviewer flagged the frame `f`. */
const flaggedExpression = sql<boolean>`EXISTS (SELECT 1 FROM flags WHERE flags.analysis_id = f.analysis_id AND flags.frame_index = f.idx)`;

function unpackFloat64(blobs: Buffer[]): Float64Array<ArrayBuffer> {
  const bytes = new Uint8Array(blobs.reduce((sum, blob) => sum + blob.byteLength, 0));
  let offset = 0;
  for (const blob of blobs) {
    bytes.set(blob, offset);
    offset += blob.byteLength;
  }
  // Copied to a buffer of its own: a Float64Array view of a Buffer's pooled memory may be misaligned.
  return new Float64Array(bytes.buffer);
}

function encodeClassAreas(areas: number[]): Buffer {
  return Buffer.from(Float32Array.from(areas).buffer);
}

function decodeClassAreas(blob: Buffer): number[] {
  const areas: number[] = [];
  for (let offset = 0; offset + 4 <= blob.length; offset += 4) areas.push(blob.readFloatLE(offset));
  return areas;
}

function toFrameSummary(row: Selectable<FramesTable> & { flagged: unknown }): FrameSummary {
  return {
    index: Number(row.idx),
    timeMs: Number(row.time_ms),
    score: Number(row.score),
    unknownFraction: Number(row.unknown_fraction),
    largestRegion:
      row.region_area === null
        ? null
        : {
            area: Number(row.region_area),
            x: Number(row.region_x),
            y: Number(row.region_y),
            width: Number(row.region_w),
            height: Number(row.region_h),
          },
    classAreas: decodeClassAreas(row.class_areas),
    flagged: Boolean(row.flagged),
  };
}
