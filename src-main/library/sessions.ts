import type { SessionInfo } from '../../src-shared/contract/index.js';
import { NotFoundError } from '../core/errors.js';
import type { FootageSource, ProbedSource } from '../footage/index.js';
import type { Analyses } from './analyses.js';
import { isoNow } from './database.js';
import type { Store } from './store.js';

/** Sessions: one drive each, its source files in timeline order and a thumbnail. */
export class Sessions {
  constructor(
    private readonly store: Store,
    private readonly analyses: Analyses,
  ) {}

  async create(name: string, sources: ProbedSource[], thumbnail: Buffer | null): Promise<SessionInfo> {
    const id = await this.store.transaction(async () => {
      const { id: sessionId } = await this.store.db
        .insertInto('sessions')
        .values({ name, created_at: isoNow(), thumbnail })
        .returning('id')
        .executeTakeFirstOrThrow();
      let offsetMs = 0;
      for (const [position, source] of sources.entries()) {
        await this.store.db
          .insertInto('source_files')
          .values({
            session_id: sessionId,
            position,
            path: source.path,
            kind: source.kind,
            duration_ms: source.durationMs,
            fps: source.fps,
            width: source.width,
            height: source.height,
            rotation: source.rotation,
            created_at: source.createdAt,
            sha256: source.sha256,
            frame_count: source.frameCount,
            offset_ms: offsetMs,
            start_ms: source.startMs,
            codec: source.codec,
            images: source.images ? JSON.stringify(source.images) : null,
          })
          .execute();
        offsetMs += source.durationMs;
      }
      return sessionId;
    });
    return this.get(id);
  }

  async get(id: number): Promise<SessionInfo> {
    const row = await this.store.db
      .selectFrom('sessions')
      .select(['name', 'created_at', (eb) => eb('thumbnail', 'is not', null).as('has_thumbnail')])
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row) throw new NotFoundError(`Session ${id}`);
    const sources = await this.sources(id);
    const first = sources[0];
    return {
      id,
      name: row.name,
      createdAt: row.created_at,
      durationMs: sources.reduce((sum, source) => sum + source.durationMs, 0),
      width: first?.width ?? 0,
      height: first?.height ?? 0,
      fps: first?.fps ?? 0,
      sources: sources.map(({ position: _p, startMs: _s, images: _i, ...source }) => source),
      // SQLite answers 1, PostgreSQL true.
      hasThumbnail: Boolean(row.has_thumbnail),
      latestAnalysis: await this.analyses.latest(id),
    };
  }

  /** The session whose sources are exactly these files (same paths and contents, in the same order), if any. */
  async find(sources: Pick<ProbedSource, 'path' | 'sha256'>[]): Promise<SessionInfo | undefined> {
    return (await this.list()).find(
      (session) =>
        session.sources.length === sources.length &&
        session.sources.every((source, i) => source.path === sources[i]!.path && source.sha256 === sources[i]!.sha256),
    );
  }

  async list(): Promise<SessionInfo[]> {
    const rows = await this.store.db.selectFrom('sessions').select('id').orderBy('id', 'desc').execute();
    const sessions: SessionInfo[] = [];
    for (const row of rows) sessions.push(await this.get(Number(row.id)));
    return sessions;
  }

  async delete(id: number): Promise<void> {
    const result = await this.store.db.deleteFrom('sessions').where('id', '=', id).executeTakeFirst();
    if (result.numDeletedRows === 0n) throw new NotFoundError(`Session ${id}`);
  }

  async thumbnail(sessionId: number): Promise<Buffer | undefined> {
    const row = await this.store.db
      .selectFrom('sessions')
      .select('thumbnail')
      .where('id', '=', sessionId)
      .executeTakeFirst();
    return row?.thumbnail ?? undefined;
  }

  async sources(sessionId: number): Promise<FootageSource[]> {
    const rows = await this.store.db
      .selectFrom('source_files')
      .selectAll()
      .where('session_id', '=', sessionId)
      .orderBy('position')
      .execute();
    return rows.map((row) => ({
      position: Number(row.position),
      path: row.path,
      kind: row.kind as FootageSource['kind'],
      durationMs: Number(row.duration_ms),
      fps: Number(row.fps),
      width: Number(row.width),
      height: Number(row.height),
      rotation: Number(row.rotation),
      createdAt: row.created_at ?? null,
      sha256: row.sha256,
      frameCount: Number(row.frame_count),
      offsetMs: Number(row.offset_ms),
      startMs: Number(row.start_ms),
      codec: row.codec ?? null,
      images: typeof row.images === 'string' ? (JSON.parse(row.images) as string[]) : null,
    }));
  }
}
