import type Database from 'better-sqlite3';
import type { FrameRegions, FrameSummary, Timeline } from '../../src-shared/contract/index.js';
import { NotFoundError } from '../core/errors.js';
import type { Analyses } from './analyses.js';
import type { Row } from './database.js';
import { encodeDescriptors, type StoredDescriptors } from './descriptor-codec.js';
import { decodeRegions, encodeRegions, type StoredRegions } from './region-codec.js';

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

export type MapKind = 'class_map' | 'ood_map' | 'preview';

/** Frames per timeline_chunks row. */
const TIMELINE_CHUNK = 1024;

/**
 * The analysed frames of each analysis: summaries, maps, unknown regions and the packed timeline. Frames are
 * written in index order, in batches, and never changed afterwards.
 */
export class Frames {
  constructor(
    private readonly db: Database.Database,
    private readonly analyses: Analyses,
  ) {
    db.function('class_area', { deterministic: true }, (blob: unknown, index: unknown) =>
      classAreaAt(blob as Buffer, Number(index)),
    );
  }

  /** Stores a batch of frames and their maps in one transaction, so a crash keeps whole batches only. */
  write(analysisId: number, frames: StoredFrame[]): void {
    const insertFrame = this.db
      .prepare(`INSERT INTO frames (analysis_id, idx, source_index, time_ms, score, unknown_fraction,
      region_area, region_x, region_y, region_w, region_h, class_areas) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    const insertMaps = this.db.prepare(
      'INSERT INTO frame_maps (analysis_id, idx, class_map, ood_map, preview) VALUES (?, ?, ?, ?, ?)',
    );
    const insertRegions = this.db.prepare('INSERT INTO frame_regions (analysis_id, idx, regions) VALUES (?, ?, ?)');
    const insertDescriptors = this.db.prepare(
      'INSERT INTO frame_descriptors (analysis_id, idx, descriptors) VALUES (?, ?, ?)',
    );
    const count = this.db.prepare('UPDATE analyses SET frames_done = frames_done + ? WHERE id = ?');
    this.db.transaction(() => {
      this.appendTimeline(analysisId, frames);
      for (const frame of frames) {
        const region = frame.largestRegion;
        insertFrame.run(
          analysisId,
          frame.index,
          frame.sourceIndex,
          frame.timeMs,
          frame.score,
          frame.unknownFraction,
          region?.area ?? null,
          region?.x ?? null,
          region?.y ?? null,
          region?.width ?? null,
          region?.height ?? null,
          encodeClassAreas(frame.classAreas),
        );
        insertMaps.run(analysisId, frame.index, frame.classMapPng, frame.oodMapPng, frame.previewJpeg);
        insertRegions.run(analysisId, frame.index, encodeRegions(frame.regions));
        if (frame.descriptors) insertDescriptors.run(analysisId, frame.index, encodeDescriptors(frame.descriptors));
      }
      count.run(frames.length, analysisId);
    })();
  }

  /** Frames arrive in index order (batches of a run, a resume continuing at the next index). */
  private appendTimeline(analysisId: number, frames: StoredFrame[]): void {
    const read = this.db.prepare('SELECT times, scores FROM timeline_chunks WHERE analysis_id = ? AND chunk = ?');
    const write = this.db.prepare(
      'INSERT OR REPLACE INTO timeline_chunks (analysis_id, chunk, times, scores) VALUES (?, ?, ?, ?)',
    );
    for (let start = 0; start < frames.length;) {
      const chunk = Math.floor(frames[start]!.index / TIMELINE_CHUNK);
      const inChunk = frames.slice(start).filter((frame) => Math.floor(frame.index / TIMELINE_CHUNK) === chunk);
      const stored = read.get(analysisId, chunk) as { times: Buffer; scores: Buffer } | undefined;
      const times = Buffer.from(Float64Array.from(inChunk, (frame) => frame.timeMs).buffer);
      const scores = Buffer.from(Float64Array.from(inChunk, (frame) => frame.score).buffer);
      write.run(
        analysisId,
        chunk,
        stored ? Buffer.concat([stored.times, times]) : times,
        stored ? Buffer.concat([stored.scores, scores]) : scores,
      );
      start += inChunk.length;
    }
  }

  resumePoint(analysisId: number): ResumePoint {
    const rows = this.db
      .prepare(
        'SELECT source_index, count(*) AS n, max(time_ms) FROM frames WHERE analysis_id = ? GROUP BY source_index',
      )
      .raw()
      .all(analysisId) as [number, number, number][];
    return {
      framesStored: rows.reduce((sum, [, n]) => sum + n, 0),
      framesPerSource: new Map(rows.map(([source, n]) => [source, n])),
      lastTimeMsPerSource: new Map(rows.map(([source, , last]) => [source, last])),
    };
  }

  timeline(analysisId: number): Timeline {
    this.analyses.get(analysisId);
    const chunks = this.db
      .prepare('SELECT times, scores FROM timeline_chunks WHERE analysis_id = ? ORDER BY chunk')
      .raw()
      .all(analysisId) as [Buffer, Buffer][];
    return {
      analysisId,
      timesMs: unpackFloat64(chunks.map(([times]) => times)),
      scores: unpackFloat64(chunks.map(([, scores]) => scores)),
    };
  }

  get(analysisId: number, index: number): FrameSummary {
    const row = this.db.prepare(`${frameSelect} WHERE f.analysis_id = ? AND f.idx = ?`).get(analysisId, index) as
      Row | undefined;
    if (!row) throw new NotFoundError(`Frame ${index} of analysis ${analysisId}`);
    return toFrameSummary(row);
  }

  /** A page of frames by score, highest first, with how many match the query in all. */
  top(query: TopFramesQuery): { total: number; frames: FrameSummary[] } {
    this.analyses.get(query.analysisId);
    const conditions = ['f.analysis_id = @analysisId'];
    if (query.minScore !== undefined) conditions.push('f.score >= @minScore');
    if (query.classIndex !== undefined) conditions.push('class_area(f.class_areas, @classIndex) > 0');
    if (query.flaggedOnly)
      conditions.push(
        'EXISTS (SELECT 1 FROM flags WHERE flags.analysis_id = f.analysis_id AND flags.frame_index = f.idx)',
      );
    const where = conditions.join(' AND ');
    const params = {
      analysisId: query.analysisId,
      minScore: query.minScore,
      classIndex: query.classIndex,
      offset: query.offset,
      limit: query.limit,
    };
    const used = Object.fromEntries(Object.entries(params).filter(([, value]) => value !== undefined));
    const total = this.db.prepare(`SELECT count(*) FROM frames f WHERE ${where}`).pluck().get(used) as number;
    // The page's frame indices first, from the score index alone: OFFSET then steps over index entries, not
    // rows (far quicker deep in a long drive: docs/benchmarks.md); then those frames by primary key.
    const page = this.db
      .prepare(`SELECT f.idx FROM frames f WHERE ${where} ORDER BY f.score DESC, f.idx LIMIT @limit OFFSET @offset`)
      .pluck()
      .all(used) as number[];
    if (page.length === 0) return { total, frames: [] };
    const rows = this.db
      .prepare(`${frameSelect} WHERE f.analysis_id = ? AND f.idx IN (${page.map(() => '?').join(', ')})`)
      .all(query.analysisId, ...page) as Row[];
    const byIndex = new Map(rows.map((row) => [Number(row.idx), row]));
    return { total, frames: page.map((index) => toFrameSummary(byIndex.get(index)!)) };
  }

  /** A frame's unknown regions, largest first; an analysis from before regions says it has none. */
  regions(analysisId: number, index: number): FrameRegions {
    const analysis = this.analyses.get(analysisId);
    this.get(analysisId, index);
    const none = { analysisId, frameIndex: index, hasRegions: false, mapWidth: 0, mapHeight: 0, regions: [] };
    if (analysis.frameScore !== 'regions') return none;
    const blob = this.db
      .prepare('SELECT regions FROM frame_regions WHERE analysis_id = ? AND idx = ?')
      .pluck()
      .get(analysisId, index) as Buffer | undefined;
    if (!blob) return none;
    const stored = decodeRegions(blob, `frame ${index} of analysis ${analysisId}`);
    const regions = [...stored.regions].sort((a, b) => b.pixels - a.pixels);
    return { ...none, hasRegions: true, mapWidth: stored.mapWidth, mapHeight: stored.mapHeight, regions };
  }

  map(analysisId: number, index: number, kind: MapKind): Buffer | undefined {
    return this.db
      .prepare(`SELECT ${kind} FROM frame_maps WHERE analysis_id = ? AND idx = ?`)
      .pluck()
      .get(analysisId, index) as Buffer | undefined;
  }

  /** A frame's position in its source, for decoding it again at full resolution. */
  source(analysisId: number, index: number): { sessionId: number; sourceIndex: number; timeMs: number } {
    const row = this.db
      .prepare(
        'SELECT a.session_id, f.source_index, f.time_ms FROM frames f JOIN analyses a ON a.id = f.analysis_id WHERE f.analysis_id = ? AND f.idx = ?',
      )
      .raw()
      .get(analysisId, index) as [number, number, number] | undefined;
    if (!row) throw new NotFoundError(`Frame ${index} of analysis ${analysisId}`);
    return { sessionId: row[0], sourceIndex: row[1], timeMs: row[2] };
  }
}

const frameSelect = `SELECT f.*, EXISTS (SELECT 1 FROM flags WHERE flags.analysis_id = f.analysis_id AND flags.frame_index = f.idx) AS flagged
  FROM frames f`;

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

function classAreaAt(blob: Buffer, index: number): number {
  const offset = index * 4;
  return offset >= 0 && offset + 4 <= blob.length ? blob.readFloatLE(offset) : 0;
}

function toFrameSummary(row: Row): FrameSummary {
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
    classAreas: decodeClassAreas(row.class_areas as Buffer),
    flagged: Boolean(row.flagged),
  };
}
