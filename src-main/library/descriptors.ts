import type Database from 'better-sqlite3';
import type { UnknownRegion } from '../../src-shared/contract/index.js';
import { decodeDescriptors, type StoredDescriptors } from './descriptor-codec.js';
import { decodeRegions } from './region-codec.js';

/** An analysis as the similarity search sees it: whose drive, which embedding space, and whether it has descriptors. */
export interface DescribedAnalysis {
  analysisId: number;
  sessionId: number;
  sessionName: string;
  modelName: string;
  modelSha256: string;
  framesDone: number;
  /** Changes whenever the analysis's stored frames may have: the search's cache key. */
  revision: string;
  /** False for analyses made before descriptors were stored, or by a model without an embedding. */
  hasDescriptors: boolean;
}

/**
 * The region descriptors of analysed frames (frame_descriptors; written with the frames, frames.ts), read
 * whole per analysis by the similarity search (src-main/similar).
 */
export class RegionDescriptors {
  constructor(private readonly db: Database.Database) {}

  /** Every analysis of the library, oldest first. */
  analyses(): DescribedAnalysis[] {
    const rows = this.db
      .prepare(
        `SELECT a.id, a.session_id, s.name, a.model_name, a.model_sha256, a.frames_done, a.status, a.finished_at,
          EXISTS (SELECT 1 FROM frame_descriptors d WHERE d.analysis_id = a.id) AS described
        FROM analyses a JOIN sessions s ON s.id = a.session_id ORDER BY a.id`,
      )
      .raw()
      .all() as [number, number, string, string, string, number, string, string | null, number][];
    return rows.map(
      ([analysisId, sessionId, sessionName, modelName, modelSha256, framesDone, status, finished, d]) => ({
        analysisId,
        sessionId,
        sessionName,
        modelName,
        modelSha256,
        framesDone,
        revision: `${framesDone}:${status}:${finished ?? ''}`,
        hasDescriptors: d === 1,
      }),
    );
  }

  /** Visits every described frame of an analysis in frame order, one blob at a time. */
  forEachFrame(analysisId: number, visit: (frameIndex: number, blob: Buffer) => void): void {
    const rows = this.db
      .prepare('SELECT idx, descriptors FROM frame_descriptors WHERE analysis_id = ? ORDER BY idx')
      .raw()
      .iterate(analysisId) as IterableIterator<[number, Buffer]>;
    for (const [frameIndex, blob] of rows) visit(frameIndex, blob);
  }

  /** One frame's descriptors; undefined when it has none stored. */
  frame(analysisId: number, frameIndex: number): StoredDescriptors | undefined {
    const blob = this.db
      .prepare('SELECT descriptors FROM frame_descriptors WHERE analysis_id = ? AND idx = ?')
      .pluck()
      .get(analysisId, frameIndex) as Buffer | undefined;
    return blob && decodeDescriptors(blob, `frame ${frameIndex} of analysis ${analysisId}`);
  }

  /** A frame's unknown regions in stored (raster) order, the order descriptors' region indices count in. */
  unknownRegions(analysisId: number, frameIndex: number): UnknownRegion[] {
    const blob = this.db
      .prepare('SELECT regions FROM frame_regions WHERE analysis_id = ? AND idx = ?')
      .pluck()
      .get(analysisId, frameIndex) as Buffer | undefined;
    return blob ? decodeRegions(blob, `frame ${frameIndex} of analysis ${analysisId}`).regions : [];
  }
}
