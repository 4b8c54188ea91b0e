import { sql } from 'kysely';
import type { UnknownRegion } from '../../src-shared/contract/index.js';
import { decodeDescriptors, type StoredDescriptors } from './descriptor-codec.js';
import { decodeRegions } from './region-codec.js';
import type { Store } from './store.js';

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
  constructor(private readonly store: Store) {}

  /** Every analysis of the library, oldest first. */
  async analyses(): Promise<DescribedAnalysis[]> {
    const rows = await this.store.db
      .selectFrom('analyses as a')
      .innerJoin('sessions as s', 's.id', 'a.session_id')
      .select([
        'a.id',
        'a.session_id',
        's.name',
        'a.model_name',
        'a.model_sha256',
        'a.frames_done',
        'a.status',
        'a.finished_at',
        sql<unknown>`EXISTS (SELECT 1 FROM frame_descriptors d WHERE d.analysis_id = a.id)`.as('described'),
      ])
      .orderBy('a.id')
      .execute();
    return rows.map((row) => ({
      analysisId: row.id,
      sessionId: row.session_id,
      sessionName: row.name,
      modelName: row.model_name,
      modelSha256: row.model_sha256,
      framesDone: row.frames_done,
      revision: `${row.frames_done}:${row.status}:${row.finished_at ?? ''}`,
      // SQLite answers 1, PostgreSQL true.
      hasDescriptors: Boolean(row.described),
    }));
  }

  /**
   * Visits every described frame of an analysis in frame order. Read a page of rows at a time (by key, so
   * each page is one range scan): memory stays flat on a drive of any length, in either database.
   */
  async forEachFrame(analysisId: number, visit: (frameIndex: number, blob: Buffer) => void): Promise<void> {
    for (let after = -1; ;) {
      const page = await this.store.db
        .selectFrom('frame_descriptors')
        .select(['idx', 'descriptors'])
        .where('analysis_id', '=', analysisId)
        .where('idx', '>', after)
        .orderBy('idx')
        .limit(DESCRIPTOR_PAGE)
        .execute();
      for (const row of page) visit(row.idx, row.descriptors);
      if (page.length < DESCRIPTOR_PAGE) return;
      after = page.at(-1)!.idx;
    }
  }

  /** One frame's descriptors; undefined when it has none stored. */
  async frame(analysisId: number, frameIndex: number): Promise<StoredDescriptors | undefined> {
    const row = await this.store.db
      .selectFrom('frame_descriptors')
      .select('descriptors')
      .where('analysis_id', '=', analysisId)
      .where('idx', '=', frameIndex)
      .executeTakeFirst();
    return row && decodeDescriptors(row.descriptors, `frame ${frameIndex} of analysis ${analysisId}`);
  }

  /** A frame's unknown regions in stored (raster) order, the order descriptors' region indices count in. */
  async unknownRegions(analysisId: number, frameIndex: number): Promise<UnknownRegion[]> {
    const row = await this.store.db
      .selectFrom('frame_regions')
      .select('regions')
      .where('analysis_id', '=', analysisId)
      .where('idx', '=', frameIndex)
      .executeTakeFirst();
    return row ? decodeRegions(row.regions, `frame ${frameIndex} of analysis ${analysisId}`).regions : [];
  }
}

/** Rows per page of forEachFrame: a few MB of descriptors. */
const DESCRIPTOR_PAGE = 2000;
