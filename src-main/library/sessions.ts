import type Database from 'better-sqlite3';
import type { SessionInfo } from '../../src-shared/contract/index.js';
import { NotFoundError } from '../core/errors.js';
import type { FootageSource, ProbedSource } from '../footage/index.js';
import type { Analyses } from './analyses.js';
import { isoNow, type Row } from './database.js';

/** Sessions: one drive each, its source files in timeline order and a thumbnail. */
export class Sessions {
  constructor(
    private readonly db: Database.Database,
    private readonly analyses: Analyses,
  ) {}

  create(name: string, sources: ProbedSource[], thumbnail: Buffer | null): SessionInfo {
    const insertSession = this.db.prepare('INSERT INTO sessions (name, created_at, thumbnail) VALUES (?, ?, ?)');
    const insertSource = this.db
      .prepare(`INSERT INTO source_files (session_id, position, path, kind, duration_ms, fps, width,
      height, rotation, created_at, sha256, frame_count, offset_ms, start_ms, codec, images) VALUES (@sessionId, @position, @path, @kind,
      @durationMs, @fps, @width, @height, @rotation, @createdAt, @sha256, @frameCount, @offsetMs, @startMs, @codec, @images)`);
    const id = this.db.transaction(() => {
      const sessionId = Number(insertSession.run(name, isoNow(), thumbnail).lastInsertRowid);
      let offsetMs = 0;
      sources.forEach((source, position) => {
        insertSource.run({
          ...source,
          sessionId,
          position,
          offsetMs,
          images: source.images ? JSON.stringify(source.images) : null,
        });
        offsetMs += source.durationMs;
      });
      return sessionId;
    })();
    return this.get(id);
  }

  get(id: number): SessionInfo {
    const row = this.db
      .prepare('SELECT id, name, created_at, thumbnail IS NOT NULL AS has_thumbnail FROM sessions WHERE id = ?')
      .get(id) as Row | undefined;
    if (!row) throw new NotFoundError(`Session ${id}`);
    const sources = this.sources(id);
    const first = sources[0];
    return {
      id,
      name: String(row.name),
      createdAt: String(row.created_at),
      durationMs: sources.reduce((sum, source) => sum + source.durationMs, 0),
      width: first?.width ?? 0,
      height: first?.height ?? 0,
      fps: first?.fps ?? 0,
      sources: sources.map(({ position: _p, startMs: _s, images: _i, ...source }) => source),
      hasThumbnail: row.has_thumbnail === 1,
      latestAnalysis: this.analyses.latest(id),
    };
  }

  /** The session whose sources are exactly these files (same paths and contents, in the same order), if any. */
  find(sources: Pick<ProbedSource, 'path' | 'sha256'>[]): SessionInfo | undefined {
    return this.list().find(
      (session) =>
        session.sources.length === sources.length &&
        session.sources.every((source, i) => source.path === sources[i]!.path && source.sha256 === sources[i]!.sha256),
    );
  }

  list(): SessionInfo[] {
    const ids = this.db.prepare('SELECT id FROM sessions ORDER BY id DESC').pluck().all() as number[];
    return ids.map((id) => this.get(id));
  }

  delete(id: number): void {
    const result = this.db.prepare('DELETE FROM sessions WHERE id = ?').run(id);
    if (result.changes === 0) throw new NotFoundError(`Session ${id}`);
  }

  thumbnail(sessionId: number): Buffer | undefined {
    const value = this.db.prepare('SELECT thumbnail FROM sessions WHERE id = ?').pluck().get(sessionId) as
      Buffer | null | undefined;
    return value ?? undefined;
  }

  sources(sessionId: number): FootageSource[] {
    const rows = this.db
      .prepare('SELECT * FROM source_files WHERE session_id = ? ORDER BY position')
      .all(sessionId) as Row[];
    return rows.map((row) => ({
      position: Number(row.position),
      path: String(row.path),
      kind: row.kind as FootageSource['kind'],
      durationMs: Number(row.duration_ms),
      fps: Number(row.fps),
      width: Number(row.width),
      height: Number(row.height),
      rotation: Number(row.rotation),
      createdAt: (row.created_at as string | null) ?? null,
      sha256: String(row.sha256),
      frameCount: Number(row.frame_count),
      offsetMs: Number(row.offset_ms),
      startMs: Number(row.start_ms),
      codec: (row.codec as string | null) ?? null,
      images: typeof row.images === 'string' ? (JSON.parse(row.images) as string[]) : null,
    }));
  }
}
