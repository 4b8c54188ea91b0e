/**
 * Copies sessions from one library to another (a file to a team database: push; back: pull) with everything
 * reviewed on them: sources, analyses with their frames (scores, maps, regions, descriptors, timeline),
 * event settings and events, flags, and the taught classes of the knowledge base. Ids are the target's own
 * (remapped); what the target already holds is recognised and skipped, so copying twice adds nothing; and
 * the whole copy is one write transaction on the target: a failure leaves it as it was.
 */
import type { Selectable } from 'kysely';
import {
  isAnalysisFinished,
  type AnalysisStatus,
  type FrameRef,
  type RleMask,
  type Rgb,
} from '../../src-shared/contract/index.js';
import { NotFoundError } from '../core/errors.js';
import type { KnowledgeStore, NewTaughtClass } from './knowledge.js';
import type { Db, Store } from './store.js';
import type { AnalysesTable } from './tables.js';

/** One side of a copy: the library's store, and its knowledge base (taught classes are added through it). */
export interface TransferSide {
  store: Store;
  knowledge: KnowledgeStore;
}

/** What a copy did, one line per thing copied or skipped, for the person who ran it. */
export interface TransferReport {
  sessions: { from: number; to: number; name: string; created: boolean }[];
  analyses: { from: number; to: number; copied: boolean; frames: number; why?: string }[];
  flags: { copied: number; alreadyThere: number; onAnalysisNotCopied: number };
  taughtClasses: { copied: string[]; skipped: string[] };
}

/** Frames per insert: a few maps of tens of kB each, well below either database's parameter limits. */
const FRAME_BATCH = 100;
/** An analysis still being written elsewhere is not copied: its frames are not all there yet. */

type AnalysisRow = Selectable<AnalysesTable>;

/** One copy under way: both databases (the target's inside its transaction), the analyses mapped so far. */
interface Copy {
  source: Db;
  target: Db;
  /** Source analysis id to target analysis id, for every analysis copied or found there. */
  analysisIds: Map<number, number>;
  report: TransferReport;
}

/** Copies the sessions `sessionIds` (all when empty) of `from` into `to`; see the module comment. */
export async function copySessions(
  from: TransferSide,
  to: TransferSide,
  sessionIds: number[],
): Promise<TransferReport> {
  const source = from.store.database;
  const ids = sessionIds.length > 0 ? sessionIds : await allSessionIds(source);
  await refuseMissing(source, ids);
  const report: TransferReport = {
    sessions: [],
    analyses: [],
    flags: { copied: 0, alreadyThere: 0, onAnalysisNotCopied: 0 },
    taughtClasses: { copied: [], skipped: [] },
  };
  return to.store.writeTransaction(async () => {
    const copy: Copy = { source, target: to.store.db, analysisIds: new Map(), report };
    for (const id of ids) {
      const session = await copySession(copy, id);
      await copyAnalyses(copy, id, session);
      await copyFlags(copy, id, session);
    }
    await copyTaughtClasses(copy, to.knowledge);
    return report;
  });
}

async function refuseMissing(db: Db, ids: number[]): Promise<void> {
  for (const id of ids) {
    const found = await db.selectFrom('sessions').select('id').where('id', '=', id).executeTakeFirst();
    if (!found) throw new NotFoundError(`Session ${id}`);
  }
}

async function allSessionIds(db: Db): Promise<number[]> {
  const rows = await db.selectFrom('sessions').select('id').orderBy('id').execute();
  return rows.map((row) => Number(row.id));
}

/** The target's session with the same sources (paths and contents, in order), else a new one; its id. */
async function copySession({ source, target, report }: Copy, id: number): Promise<number> {
  const { id: _id, ...session } = await source
    .selectFrom('sessions')
    .selectAll()
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
  const files = await source
    .selectFrom('source_files')
    .selectAll()
    .where('session_id', '=', id)
    .orderBy('position')
    .execute();
  const existing = await sessionWithSources(target, files);
  if (existing !== undefined) {
    report.sessions.push({ from: id, to: existing, name: session.name, created: false });
    return existing;
  }
  const { id: created } = await target.insertInto('sessions').values(session).returning('id').executeTakeFirstOrThrow();
  if (files.length > 0)
    await target
      .insertInto('source_files')
      .values(files.map(({ id: _file, ...file }) => ({ ...file, session_id: Number(created) })))
      .execute();
  report.sessions.push({ from: id, to: Number(created), name: session.name, created: true });
  return Number(created);
}

async function sessionWithSources(
  target: Db,
  files: { path: string; sha256: string; position: number }[],
): Promise<number | undefined> {
  const first = files[0];
  if (!first) return undefined;
  const candidates = await target
    .selectFrom('source_files')
    .select('session_id')
    .where('position', '=', first.position)
    .where('path', '=', first.path)
    .where('sha256', '=', first.sha256)
    .execute();
  for (const { session_id: candidate } of candidates) {
    const theirs = await target
      .selectFrom('source_files')
      .select(['path', 'sha256'])
      .where('session_id', '=', candidate)
      .orderBy('position')
      .execute();
    const same =
      theirs.length === files.length &&
      theirs.every((file, i) => file.path === files[i]!.path && file.sha256 === files[i]!.sha256);
    if (same) return Number(candidate);
  }
  return undefined;
}

/**
 * Each finished analysis of the session that the target lacks (the same model run, created at the same
 * time), with its frames, timeline, event settings and events; `analysisIds` learns every mapping, copied
 * or found.
 */
async function copyAnalyses(copy: Copy, sessionId: number, targetSession: number): Promise<void> {
  const { source, target, analysisIds, report } = copy;
  const analyses = await source
    .selectFrom('analyses')
    .selectAll()
    .where('session_id', '=', sessionId)
    .orderBy('id')
    .execute();
  for (const analysis of analyses) {
    const from = Number(analysis.id);
    const found = await target
      .selectFrom('analyses')
      .select('id')
      .where('session_id', '=', targetSession)
      .where('model_sha256', '=', analysis.model_sha256)
      .where('created_at', '=', analysis.created_at)
      .executeTakeFirst();
    if (found) {
      analysisIds.set(from, Number(found.id));
      report.analyses.push({ from, to: Number(found.id), copied: false, frames: 0, why: 'already there' });
      continue;
    }
    if (!isAnalysisFinished(analysis.status as AnalysisStatus)) {
      report.analyses.push({ from, to: 0, copied: false, frames: 0, why: `still ${analysis.status}` });
      continue;
    }
    const to = await insertAnalysis(target, analysis, targetSession);
    analysisIds.set(from, to);
    const frames = await copyFrames(source, target, from, to);
    await copyAnalysisRows(source, target, from, to);
    report.analyses.push({ from, to, copied: true, frames });
  }
}

async function insertAnalysis(target: Db, analysis: AnalysisRow, sessionId: number): Promise<number> {
  const { id: _id, ...row } = analysis;
  // Knowledge versions are numbered per library: the source's number means nothing in the target.
  const { id } = await target
    .insertInto('analyses')
    .values({ ...row, session_id: sessionId, knowledge_version: null })
    .returning('id')
    .executeTakeFirstOrThrow();
  return Number(id);
}

/** The per-frame tables, in batches by frame index; how many frames were copied. */
async function copyFrames(source: Db, target: Db, from: number, to: number): Promise<number> {
  let copied = 0;
  for (let next = 0; ;) {
    const frames = await source
      .selectFrom('frames')
      .selectAll()
      .where('analysis_id', '=', from)
      .where('idx', '>=', next)
      .orderBy('idx')
      .limit(FRAME_BATCH)
      .execute();
    if (frames.length === 0) return copied;
    const first = next;
    const last = frames.at(-1)!.idx;
    await target
      .insertInto('frames')
      .values(frames.map((frame) => ({ ...frame, analysis_id: to })))
      .execute();
    for (const table of ['frame_maps', 'frame_regions', 'frame_descriptors'] as const)
      await copyFrameTable(source, target, table, from, to, first, last);
    copied += frames.length;
    next = last + 1;
  }
}

async function copyFrameTable(
  source: Db,
  target: Db,
  table: 'frame_maps' | 'frame_regions' | 'frame_descriptors',
  from: number,
  to: number,
  first: number,
  last: number,
): Promise<void> {
  const rows = await source
    .selectFrom(table)
    .selectAll()
    .where('analysis_id', '=', from)
    .where('idx', '>=', first)
    .where('idx', '<=', last)
    .execute();
  if (rows.length === 0) return;
  await target
    .insertInto(table)
    .values(rows.map((row) => ({ ...row, analysis_id: to })))
    .execute();
}

/** The analysis's timeline chunks, event settings and events. */
async function copyAnalysisRows(source: Db, target: Db, from: number, to: number): Promise<void> {
  const chunks = await source.selectFrom('timeline_chunks').selectAll().where('analysis_id', '=', from).execute();
  if (chunks.length > 0)
    await target
      .insertInto('timeline_chunks')
      .values(chunks.map((chunk) => ({ ...chunk, analysis_id: to })))
      .execute();
  const settings = await source.selectFrom('event_settings').selectAll().where('analysis_id', '=', from).execute();
  if (settings.length > 0)
    await target
      .insertInto('event_settings')
      .values(settings.map((row) => ({ ...row, analysis_id: to })))
      .execute();
  const events = await source.selectFrom('events').selectAll().where('analysis_id', '=', from).orderBy('id').execute();
  if (events.length > 0)
    await target
      .insertInto('events')
      .values(events.map(({ id: _id, ...event }) => ({ ...event, analysis_id: to })))
      .execute();
}

/**
 * The session's flags on analyses the target has, each unless the target already has it (same frame,
 * category, note and time); an event flag points at the target's event over the same frames, if any.
 */
async function copyFlags(copy: Copy, sessionId: number, targetSession: number): Promise<void> {
  const { source, target, analysisIds, report } = copy;
  const flags = await source
    .selectFrom('flags')
    .selectAll()
    .where('session_id', '=', sessionId)
    .orderBy('id')
    .execute();
  for (const { id: _id, ...flag } of flags) {
    const analysisId = analysisIds.get(Number(flag.analysis_id));
    if (analysisId === undefined) {
      report.flags.onAnalysisNotCopied++;
      continue;
    }
    const known = await target
      .selectFrom('flags')
      .select('id')
      .where('analysis_id', '=', analysisId)
      .where('frame_index', '=', flag.frame_index)
      .where('category', '=', flag.category)
      .where('note', '=', flag.note)
      .where('created_at', '=', flag.created_at)
      .executeTakeFirst();
    if (known) {
      report.flags.alreadyThere++;
      continue;
    }
    const eventId = flag.event_id === null ? null : await sameEvent(source, target, Number(flag.event_id), analysisId);
    await target
      .insertInto('flags')
      .values({ ...flag, session_id: targetSession, analysis_id: analysisId, event_id: eventId })
      .execute();
    report.flags.copied++;
  }
}

async function sameEvent(source: Db, target: Db, eventId: number, analysisId: number): Promise<number | null> {
  const event = await source
    .selectFrom('events')
    .select(['start_frame', 'end_frame'])
    .where('id', '=', eventId)
    .executeTakeFirst();
  if (!event) return null;
  const found = await target
    .selectFrom('events')
    .select('id')
    .where('analysis_id', '=', analysisId)
    .where('start_frame', '=', event.start_frame)
    .where('end_frame', '=', event.end_frame)
    .executeTakeFirst();
  return found ? Number(found.id) : null;
}

/**
 * The knowledge base's taught classes the target lacks (by model and name, as the knowledge base tells
 * classes apart), as one knowledge version of the target. A shot taken on a copied analysis points at the
 * target's copy; one on an analysis that was not copied keeps its description and mask without the frame.
 */
async function copyTaughtClasses({ source, analysisIds, report }: Copy, knowledge: KnowledgeStore): Promise<void> {
  const classes = await source.selectFrom('taught_classes').selectAll().orderBy('id').execute();
  const fresh: NewTaughtClass[] = [];
  for (const row of classes) {
    if (await knowledge.hasName(row.model_sha256, row.name)) {
      report.taughtClasses.skipped.push(row.name);
      continue;
    }
    const shots = await source
      .selectFrom('taught_shots')
      .selectAll()
      .where('class_id', '=', row.id)
      .orderBy('position')
      .execute();
    fresh.push({
      modelSha256: row.model_sha256,
      embeddingDim: Number(row.embedding_dim),
      name: row.name,
      color: JSON.parse(row.color) as Rgb,
      enabled: Number(row.enabled) === 1,
      prototypes: JSON.parse(row.prototypes) as number[][],
      acceptanceRadius: row.acceptance_radius,
      createdBy: row.created_by,
      createdAt: row.created_at,
      shots: shots.map((shot) => ({
        frame: shotFrame(shot, analysisIds),
        description: shot.description,
        pixels: Number(shot.pixels),
        mask: JSON.parse(shot.mask) as RleMask | null,
      })),
    });
    report.taughtClasses.copied.push(row.name);
  }
  if (fresh.length > 0)
    await knowledge.addMany(fresh, 'dmlreview copy', `copy ${report.taughtClasses.copied.join(', ')}`);
}

function shotFrame(
  shot: { analysis_id: number | null; frame_index: number | null; image_path: string | null },
  analysisIds: Map<number, number>,
): FrameRef | null {
  if (shot.image_path !== null) return { imagePath: shot.image_path };
  const analysisId = shot.analysis_id === null ? undefined : analysisIds.get(Number(shot.analysis_id));
  return analysisId === undefined || shot.frame_index === null
    ? null
    : { analysisId, frameIndex: Number(shot.frame_index) };
}
