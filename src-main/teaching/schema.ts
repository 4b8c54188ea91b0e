import type { Migration } from '../library/migrations.js';

/**
 * Library schema version 3: the knowledge base of taught classes. Classes belong to one model (its sha256:
 * a prototype means nothing in another embedding space). Every change writes a knowledge version holding a
 * snapshot of the classes in force, so an analysis that records its version can always be explained later.
 */
export const knowledgeMigration: Migration = {
  version: 3,
  name: 'knowledge base of taught classes',
  up(db) {
    db.exec(`
      CREATE TABLE taught_classes (
        id INTEGER PRIMARY KEY,
        model_sha256 TEXT NOT NULL,
        name TEXT NOT NULL,
        color TEXT NOT NULL,
        enabled INTEGER NOT NULL DEFAULT 1,
        prototypes TEXT NOT NULL,
        acceptance_radius REAL NOT NULL,
        embedding_dim INTEGER NOT NULL,
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
      CREATE UNIQUE INDEX taught_classes_by_name ON taught_classes(model_sha256, name COLLATE NOCASE);
      -- The frames and masks a class was taught from. No foreign key to analyses: a class outlives the
      -- session it was taught from, and the mask itself is kept here.
      CREATE TABLE taught_shots (
        class_id INTEGER NOT NULL REFERENCES taught_classes(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        analysis_id INTEGER,
        frame_index INTEGER,
        image_path TEXT,
        description TEXT NOT NULL,
        pixels INTEGER NOT NULL,
        mask TEXT NOT NULL,
        PRIMARY KEY (class_id, position)
      );
      CREATE TABLE knowledge_versions (
        version INTEGER PRIMARY KEY,
        created_at TEXT NOT NULL,
        author TEXT NOT NULL,
        change TEXT NOT NULL,
        classes TEXT NOT NULL
      );
    `);
  },
};
