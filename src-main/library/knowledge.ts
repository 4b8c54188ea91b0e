import type Database from 'better-sqlite3';
import type { FrameRef, RleMask, Rgb, TaughtClassInfo } from '../../src-shared/contract/index.js';
import { AppError, NotFoundError } from '../core/errors.js';
import { UNKNOWN_CLASS, type TaughtPrototype } from '../engine/types.js';

export interface NewTaughtClass {
  modelSha256: string;
  embeddingDim: number;
  name: string;
  color: Rgb;
  enabled?: boolean;
  prototypes: number[][];
  acceptanceRadius: number;
  createdBy: string;
  createdAt?: string;
  shots: { frame: FrameRef | null; description: string; pixels: number; mask: RleMask | null }[];
}

/** One taught class as a knowledge version remembers it. */
interface SnapshotEntry {
  id: number;
  modelSha256: string;
  name: string;
  color: Rgb;
  enabled: boolean;
  prototypes: number[][];
  acceptanceRadius: number;
}

type ClassRow = {
  id: number;
  model_sha256: string;
  name: string;
  color: string;
  enabled: number;
  prototypes: string;
  acceptance_radius: number;
  embedding_dim: number;
  created_by: string;
  created_at: string;
  updated_at: string;
};

type ShotRow = {
  analysis_id: number | null;
  frame_index: number | null;
  image_path: string | null;
  description: string;
  pixels: number;
};

const now = () => new Date().toISOString();

/**
 * A check of the classes a change leaves in force for its model, run inside the change's transaction: when
 * it throws, nothing of the change is stored.
 */
export type KnowledgeCheck = (classes: TaughtPrototype[]) => void;

/**
 * Class indices 0..254 name classes and 255 means unknown: a model's built-in and taught classes share them.
 * Refuses a set of enabled taught classes that would not fit, saying what to do.
 */
export function refuseTooManyClasses(modelName: string, builtIn: number, taught: number): void {
  const room = UNKNOWN_CLASS - builtIn;
  if (taught <= room) return;
  throw new AppError(
    'too_many_classes',
    `Model ${modelName} can take ${room} taught classes beside its ${builtIn} built-in ones; this would make ${taught}: delete or disable taught classes first (Knowledge base), or import fewer`,
  );
}

/** The knowledge base's queries, on the library's database (tables from schema.ts, library migration 3). */
export class KnowledgeStore {
  constructor(private readonly db: Database.Database) {}

  /** The newest knowledge version, null before anything was taught. */
  currentVersion(): number | null {
    const row = this.db.prepare('SELECT max(version) AS version FROM knowledge_versions').get() as {
      version: number | null;
    };
    return row.version;
  }

  list(modelSha256: string): TaughtClassInfo[] {
    const rows = this.db
      .prepare('SELECT * FROM taught_classes WHERE model_sha256 = ? ORDER BY id')
      .all(modelSha256) as ClassRow[];
    return rows.map((row) => this.toInfo(row));
  }

  get(classId: number): TaughtClassInfo {
    return this.toInfo(this.row(classId));
  }

  /** The enabled classes of a model at a knowledge version (default: the current one), as the engine takes them. */
  activePrototypes(
    modelSha256: string,
    version = this.currentVersion(),
  ): { version: number | null; classes: TaughtPrototype[] } {
    if (version === null) return { version: null, classes: [] };
    const row = this.db.prepare('SELECT classes FROM knowledge_versions WHERE version = ?').get(version) as
      { classes: string } | undefined;
    if (!row) throw new NotFoundError(`Knowledge version ${version}`);
    const classes = (JSON.parse(row.classes) as SnapshotEntry[])
      .filter((entry) => entry.modelSha256 === modelSha256 && entry.enabled)
      .map(({ name, color, prototypes, acceptanceRadius }) => ({ name, color, prototypes, acceptanceRadius }));
    return { version, classes };
  }

  add(
    input: NewTaughtClass,
    change = `teach ${input.name}`,
    check?: KnowledgeCheck,
  ): { taughtClass: TaughtClassInfo; version: number } {
    return this.db.transaction(() => {
      const classId = this.insertClass(input);
      const version = this.recordVersion(input.createdBy, change);
      this.runCheck(input.modelSha256, version, check);
      return { taughtClass: this.get(classId), version };
    })();
  }

  /** Adds several classes as one knowledge version (an import); all or nothing. */
  addMany(inputs: NewTaughtClass[], author: string, change: string, check?: KnowledgeCheck): number {
    return this.db.transaction(() => {
      for (const input of inputs) this.insertClass(input);
      const version = this.recordVersion(author, change);
      if (inputs[0]) this.runCheck(inputs[0].modelSha256, version, check);
      return version;
    })();
  }

  private runCheck(modelSha256: string, version: number, check: KnowledgeCheck | undefined): void {
    check?.(this.activePrototypes(modelSha256, version).classes);
  }

  hasName(modelSha256: string, name: string): boolean {
    return (
      this.db
        .prepare('SELECT 1 FROM taught_classes WHERE model_sha256 = ? AND name = ? COLLATE NOCASE')
        .get(modelSha256, name) !== undefined
    );
  }

  private insertClass(input: NewTaughtClass): number {
    this.refuseDuplicateName(input.modelSha256, input.name, null);
    const stamp = input.createdAt ?? now();
    const result = this.db
      .prepare(
        `INSERT INTO taught_classes (model_sha256, name, color, enabled, prototypes, acceptance_radius, embedding_dim, created_by, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        input.modelSha256,
        input.name,
        JSON.stringify(input.color),
        input.enabled === false ? 0 : 1,
        JSON.stringify(input.prototypes),
        input.acceptanceRadius,
        input.embeddingDim,
        input.createdBy,
        stamp,
        stamp,
      );
    const classId = Number(result.lastInsertRowid);
    const insertShot = this.db.prepare(
      'INSERT INTO taught_shots (class_id, position, analysis_id, frame_index, image_path, description, pixels, mask) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    input.shots.forEach((shot, position) => {
      const frame = shot.frame;
      insertShot.run(
        classId,
        position,
        frame && 'analysisId' in frame ? frame.analysisId : null,
        frame && 'analysisId' in frame ? frame.frameIndex : null,
        frame && 'imagePath' in frame ? frame.imagePath : null,
        shot.description,
        shot.pixels,
        JSON.stringify(shot.mask),
      );
    });
    return classId;
  }

  update(
    classId: number,
    changes: { name?: string; color?: Rgb; enabled?: boolean },
    author: string,
    check?: KnowledgeCheck,
  ) {
    return this.db.transaction(() => {
      const before = this.row(classId);
      if (changes.name !== undefined) this.refuseDuplicateName(before.model_sha256, changes.name, classId);
      this.db
        .prepare('UPDATE taught_classes SET name = ?, color = ?, enabled = ?, updated_at = ? WHERE id = ?')
        .run(
          changes.name ?? before.name,
          changes.color ? JSON.stringify(changes.color) : before.color,
          changes.enabled === undefined ? before.enabled : Number(changes.enabled),
          now(),
          classId,
        );
      const version = this.recordVersion(author, describeUpdate(before.name, changes));
      this.runCheck(before.model_sha256, version, check);
      return { taughtClass: this.get(classId), version };
    })();
  }

  delete(classId: number, author: string): number {
    return this.db.transaction(() => {
      const row = this.row(classId);
      this.db.prepare('DELETE FROM taught_classes WHERE id = ?').run(classId);
      return this.recordVersion(author, `delete ${row.name}`);
    })();
  }

  private recordVersion(author: string, change: string): number {
    const rows = this.db.prepare('SELECT * FROM taught_classes ORDER BY id').all() as ClassRow[];
    const snapshot: SnapshotEntry[] = rows.map((row) => ({
      id: row.id,
      modelSha256: row.model_sha256,
      name: row.name,
      color: JSON.parse(row.color) as Rgb,
      enabled: row.enabled === 1,
      prototypes: JSON.parse(row.prototypes) as number[][],
      acceptanceRadius: row.acceptance_radius,
    }));
    const result = this.db
      .prepare('INSERT INTO knowledge_versions (created_at, author, change, classes) VALUES (?, ?, ?, ?)')
      .run(now(), author, change, JSON.stringify(snapshot));
    return Number(result.lastInsertRowid);
  }

  private refuseDuplicateName(modelSha256: string, name: string, exceptId: number | null): void {
    const clash = this.db
      .prepare('SELECT id FROM taught_classes WHERE model_sha256 = ? AND name = ? COLLATE NOCASE AND id IS NOT ?')
      .get(modelSha256, name, exceptId);
    if (clash)
      throw new AppError(
        'conflict',
        `A taught class named "${name}" already exists for this model: choose another name or rename the existing one`,
      );
  }

  private row(classId: number): ClassRow {
    const row = this.db.prepare('SELECT * FROM taught_classes WHERE id = ?').get(classId) as ClassRow | undefined;
    if (!row) throw new NotFoundError(`Taught class ${classId}`);
    return row;
  }

  private toInfo(row: ClassRow): TaughtClassInfo {
    const shots = this.db
      .prepare(
        'SELECT analysis_id, frame_index, image_path, description, pixels FROM taught_shots WHERE class_id = ? ORDER BY position',
      )
      .all(row.id) as ShotRow[];
    return {
      id: row.id,
      name: row.name,
      color: JSON.parse(row.color) as Rgb,
      enabled: row.enabled === 1,
      modelSha256: row.model_sha256,
      prototypes: JSON.parse(row.prototypes) as number[][],
      acceptanceRadius: row.acceptance_radius,
      shots: shots.map((shot) => ({ frame: shotFrame(shot), description: shot.description, pixels: shot.pixels })),
      createdBy: row.created_by,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    };
  }
}

function shotFrame(shot: ShotRow): FrameRef | null {
  if (shot.analysis_id !== null && shot.frame_index !== null)
    return { analysisId: shot.analysis_id, frameIndex: shot.frame_index };
  if (shot.image_path !== null) return { imagePath: shot.image_path };
  return null;
}

function describeUpdate(name: string, changes: { name?: string; color?: Rgb; enabled?: boolean }): string {
  const parts = [
    changes.name !== undefined && changes.name !== name ? `rename ${name} -> ${changes.name}` : null,
    changes.color ? `recolour ${name}` : null,
    changes.enabled === undefined ? null : `${changes.enabled ? 'enable' : 'disable'} ${name}`,
  ].filter((part): part is string => part !== null);
  return parts.join(', ') || `touch ${name}`;
}
