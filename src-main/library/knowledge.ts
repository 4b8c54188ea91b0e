import type { Selectable } from 'kysely';
import type { FrameRef, RleMask, Rgb, TaughtClassInfo } from '../../src-shared/contract/index.js';
import { AppError, NotFoundError } from '../core/errors.js';
import { UNKNOWN_CLASS, type TaughtPrototype } from '../engine/types.js';
import type { Store } from './store.js';
import type { TaughtClassesTable, TaughtShotsTable } from './tables.js';

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

type ClassRow = Selectable<TaughtClassesTable>;

type ShotRow = Pick<
  Selectable<TaughtShotsTable>,
  'analysis_id' | 'frame_index' | 'image_path' | 'description' | 'pixels'
>;

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

/** The knowledge base's queries, on the library's database (tables from library migration 3). */
export class KnowledgeStore {
  constructor(private readonly store: Store) {}

  /** The newest knowledge version, null before anything was taught. */
  async currentVersion(): Promise<number | null> {
    const row = await this.store.db
      .selectFrom('knowledge_versions')
      .select((eb) => eb.fn.max('version').as('version'))
      .executeTakeFirst();
    return row?.version === null || row?.version === undefined ? null : Number(row.version);
  }

  async list(modelSha256: string): Promise<TaughtClassInfo[]> {
    const rows = await this.store.db
      .selectFrom('taught_classes')
      .selectAll()
      .where('model_sha256', '=', modelSha256)
      .orderBy('id')
      .execute();
    const classes: TaughtClassInfo[] = [];
    for (const row of rows) classes.push(await this.toInfo(row));
    return classes;
  }

  async get(classId: number): Promise<TaughtClassInfo> {
    return this.toInfo(await this.row(classId));
  }

  /** The enabled classes of a model at a knowledge version (default: the current one), as the engine takes them. */
  async activePrototypes(
    modelSha256: string,
    version?: number | null,
  ): Promise<{ version: number | null; classes: TaughtPrototype[] }> {
    const at = version === undefined ? await this.currentVersion() : version;
    if (at === null) return { version: null, classes: [] };
    const row = await this.store.db
      .selectFrom('knowledge_versions')
      .select('classes')
      .where('version', '=', at)
      .executeTakeFirst();
    if (!row) throw new NotFoundError(`Knowledge version ${at}`);
    const classes = (JSON.parse(row.classes) as SnapshotEntry[])
      .filter((entry) => entry.modelSha256 === modelSha256 && entry.enabled)
      .map(({ name, color, prototypes, acceptanceRadius }) => ({ name, color, prototypes, acceptanceRadius }));
    return { version: at, classes };
  }

  add(
    input: NewTaughtClass,
    change = `teach ${input.name}`,
    check?: KnowledgeCheck,
  ): Promise<{ taughtClass: TaughtClassInfo; version: number }> {
    return this.store.writeTransaction(async () => {
      const classId = await this.insertClass(input);
      const version = await this.recordVersion(input.createdBy, change);
      await this.runCheck(input.modelSha256, version, check);
      return { taughtClass: await this.get(classId), version };
    });
  }

  /** Adds several classes as one knowledge version (an import); all or nothing. */
  addMany(inputs: NewTaughtClass[], author: string, change: string, check?: KnowledgeCheck): Promise<number> {
    return this.store.writeTransaction(async () => {
      for (const input of inputs) await this.insertClass(input);
      const version = await this.recordVersion(author, change);
      if (inputs[0]) await this.runCheck(inputs[0].modelSha256, version, check);
      return version;
    });
  }

  private async runCheck(modelSha256: string, version: number, check: KnowledgeCheck | undefined): Promise<void> {
    if (check) check((await this.activePrototypes(modelSha256, version)).classes);
  }

  async hasName(modelSha256: string, name: string): Promise<boolean> {
    return (await this.sameName(modelSha256, name, null)) !== undefined;
  }

  private async insertClass(input: NewTaughtClass): Promise<number> {
    await this.refuseDuplicateName(input.modelSha256, input.name, null);
    const stamp = input.createdAt ?? now();
    const { id: classId } = await this.store.db
      .insertInto('taught_classes')
      .values({
        model_sha256: input.modelSha256,
        name: input.name,
        color: JSON.stringify(input.color),
        enabled: input.enabled === false ? 0 : 1,
        prototypes: JSON.stringify(input.prototypes),
        acceptance_radius: input.acceptanceRadius,
        embedding_dim: input.embeddingDim,
        created_by: input.createdBy,
        created_at: stamp,
        updated_at: stamp,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    if (input.shots.length === 0) return classId;
    await this.store.db
      .insertInto('taught_shots')
      .values(
        input.shots.map((shot, position) => {
          const frame = shot.frame;
          return {
            class_id: classId,
            position,
            analysis_id: frame && 'analysisId' in frame ? frame.analysisId : null,
            frame_index: frame && 'analysisId' in frame ? frame.frameIndex : null,
            image_path: frame && 'imagePath' in frame ? frame.imagePath : null,
            description: shot.description,
            pixels: shot.pixels,
            mask: JSON.stringify(shot.mask),
          };
        }),
      )
      .execute();
    return classId;
  }

  update(
    classId: number,
    changes: { name?: string; color?: Rgb; enabled?: boolean },
    author: string,
    check?: KnowledgeCheck,
  ): Promise<{ taughtClass: TaughtClassInfo; version: number }> {
    return this.store.writeTransaction(async () => {
      const before = await this.row(classId);
      if (changes.name !== undefined) await this.refuseDuplicateName(before.model_sha256, changes.name, classId);
      await this.store.db
        .updateTable('taught_classes')
        .set({
          name: changes.name ?? before.name,
          color: changes.color ? JSON.stringify(changes.color) : before.color,
          enabled: changes.enabled === undefined ? before.enabled : Number(changes.enabled),
          updated_at: now(),
        })
        .where('id', '=', classId)
        .execute();
      const version = await this.recordVersion(author, describeUpdate(before.name, changes));
      await this.runCheck(before.model_sha256, version, check);
      return { taughtClass: await this.get(classId), version };
    });
  }

  delete(classId: number, author: string): Promise<number> {
    return this.store.writeTransaction(async () => {
      const row = await this.row(classId);
      await this.store.db.deleteFrom('taught_classes').where('id', '=', classId).execute();
      return this.recordVersion(author, `delete ${row.name}`);
    });
  }

  private async recordVersion(author: string, change: string): Promise<number> {
    const rows = await this.store.db.selectFrom('taught_classes').selectAll().orderBy('id').execute();
    const snapshot: SnapshotEntry[] = rows.map((row) => ({
      id: Number(row.id),
      modelSha256: row.model_sha256,
      name: row.name,
      color: JSON.parse(row.color) as Rgb,
      enabled: Number(row.enabled) === 1,
      prototypes: JSON.parse(row.prototypes) as number[][],
      acceptanceRadius: row.acceptance_radius,
    }));
    // Numbered here, not by the database: a PostgreSQL sequence skips the numbers of rolled-back changes, and
    // versions count changes one by one (the write lock keeps two changes from taking the same number).
    const version = ((await this.currentVersion()) ?? 0) + 1;
    await this.store.db
      .insertInto('knowledge_versions')
      .values({ version, created_at: now(), author, change, classes: JSON.stringify(snapshot) })
      .execute();
    return version;
  }

  /**
   * A class of the model with this name, ignoring case (ASCII, as SQLite's NOCASE index on the name compares;
   * lower() on both sides says the same in both databases).
   */
  private sameName(modelSha256: string, name: string, exceptId: number | null) {
    return this.store.db
      .selectFrom('taught_classes')
      .select('id')
      .where('model_sha256', '=', modelSha256)
      .where((eb) => eb(eb.fn('lower', ['name']), '=', eb.fn('lower', [eb.val(name)])))
      .$if(exceptId !== null, (q) => q.where('id', '!=', exceptId!))
      .executeTakeFirst();
  }

  private async refuseDuplicateName(modelSha256: string, name: string, exceptId: number | null): Promise<void> {
    if (await this.sameName(modelSha256, name, exceptId))
      throw new AppError(
        'conflict',
        `A taught class named "${name}" already exists for this model: choose another name or rename the existing one`,
      );
  }

  private async row(classId: number): Promise<ClassRow> {
    const row = await this.store.db
      .selectFrom('taught_classes')
      .selectAll()
      .where('id', '=', classId)
      .executeTakeFirst();
    if (!row) throw new NotFoundError(`Taught class ${classId}`);
    return row;
  }

  private async toInfo(row: ClassRow): Promise<TaughtClassInfo> {
    const shots = await this.store.db
      .selectFrom('taught_shots')
      .select(['analysis_id', 'frame_index', 'image_path', 'description', 'pixels'])
      .where('class_id', '=', row.id)
      .orderBy('position')
      .execute();
    return {
      id: row.id,
      name: row.name,
      color: JSON.parse(row.color) as Rgb,
      enabled: Number(row.enabled) === 1,
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
