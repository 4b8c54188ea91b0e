import { sql } from 'kysely';
import type { UnknownRegion } from '../../src-shared/contract/index.js';
import {
  decodeDescriptors,
  descriptorHeader,
  DESCRIPTOR_HEADER_BYTES,
  DESCRIPTOR_FIXED_BYTES,
  type StoredDescriptors,
} from './descriptor-codec.js';
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
   * An analysis's embedding size, similarity scale, region count in all and last described frame, from one
   * frame's header and the blobs' lengths (the database sums them without handing any blob over): a search
   * sizes its arrays once. Count and last frame come from one statement, so they agree while an analysis
   * still appends frames.
   */
  async shape(
    analysisId: number,
  ): Promise<{ dim: number; scale: number; rows: number; lastFrame: number } | undefined> {
    const first = await this.store.db
      .selectFrom('frame_descriptors')
      .select(['idx', 'descriptors'])
      .where('analysis_id', '=', analysisId)
      .orderBy('idx')
      .limit(1)
      .executeTakeFirst();
    if (!first) return undefined;
    const { dim, scale } = descriptorHeader(first.descriptors, `frame ${first.idx} of analysis ${analysisId}`);
    const perRegion = DESCRIPTOR_FIXED_BYTES + dim;
    const totals = await this.store.db
      .selectFrom('frame_descriptors')
      .select([
        sql<number>`coalesce(sum((length(descriptors) - ${DESCRIPTOR_HEADER_BYTES}) / ${perRegion}), 0)`.as('rows'),
        (eb) => eb.fn.max('idx').as('last'),
      ])
      .where('analysis_id', '=', analysisId)
      .executeTakeFirstOrThrow();
    return { dim, scale, rows: Number(totals.rows), lastFrame: Number(totals.last) };
  }

  /**
   * Visits every described frame of an analysis in frame order, up to `lastFrame` if given. Read a page of
   * rows at a time (by key, so each page is one range scan): memory stays flat on a drive of any length, in
   * either database.
   */
  async forEachFrame(
    analysisId: number,
    visit: (frameIndex: number, blob: Buffer) => void,
    lastFrame = Number.MAX_SAFE_INTEGER,
  ): Promise<void> {
    for (let after = -1; ;) {
      const page = await this.store.db
        .selectFrom('frame_descriptors')
        .select(['idx', 'descriptors'])
        .where('analysis_id', '=', analysisId)
        .where('idx', '>', after)
        .where('idx', '<=', lastFrame)
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
