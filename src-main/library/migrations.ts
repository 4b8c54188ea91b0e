import type Database from 'better-sqlite3';
import { ownershipMigration } from '../jobs/ownership.js';
import { knowledgeMigration } from '../teaching/schema.js';

/**
 * The library's schema history. Each entry runs once, in version order, inside a transaction, and is recorded
 * in schema_migrations. Entries are never edited once shipped: a change is a new entry with the next version.
 * Version 3, the knowledge base of taught classes, is defined by src-main/teaching (schema.ts); version 4 adds
 * unknown regions (frame_regions), the frame score rule of each analysis and event persistence; version 5, the
 * owners of running analyses, is defined by src-main/jobs (ownership.ts).
 */
export interface Migration {
  version: number;
  name: string;
  up(db: Database.Database): void;
}

export const migrations: Migration[] = [
  {
    version: 1,
    name: 'sessions, sources, analyses, frames, maps',
    up(db) {
      db.exec(`
        CREATE TABLE sessions (
          id INTEGER PRIMARY KEY,
          name TEXT NOT NULL,
          created_at TEXT NOT NULL,
          -- small JPEG of the drive's first frame, made at import so the library screen needs no decoding
          thumbnail BLOB
        );
        CREATE TABLE source_files (
          id INTEGER PRIMARY KEY,
          session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
          position INTEGER NOT NULL,
          path TEXT NOT NULL,
          kind TEXT NOT NULL CHECK (kind IN ('video', 'image-folder')),
          duration_ms REAL NOT NULL,
          fps REAL NOT NULL,
          width INTEGER NOT NULL,
          height INTEGER NOT NULL,
          rotation INTEGER NOT NULL,
          created_at TEXT,
          sha256 TEXT NOT NULL,
          frame_count INTEGER NOT NULL,
          offset_ms REAL NOT NULL,
          -- the first frame's presentation time: frame times are stored relative to it
          start_ms REAL NOT NULL DEFAULT 0,
          codec TEXT,
          -- image folders: the image file names in timeline order (JSON array)
          images TEXT,
          UNIQUE (session_id, position)
        );
        CREATE TABLE analyses (
          id INTEGER PRIMARY KEY,
          session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
          model_name TEXT NOT NULL,
          model_sha256 TEXT NOT NULL,
          knowledge_version INTEGER,
          sample_fps REAL,
          input_width INTEGER NOT NULL,
          input_height INTEGER NOT NULL,
          classes TEXT NOT NULL,
          threshold REAL NOT NULL,
          status TEXT NOT NULL,
          frames_done INTEGER NOT NULL DEFAULT 0,
          frames_total INTEGER NOT NULL DEFAULT 0,
          fps REAL NOT NULL DEFAULT 0,
          eta_seconds REAL,
          message TEXT,
          created_at TEXT NOT NULL,
          started_at TEXT,
          finished_at TEXT,
          decode_ms REAL NOT NULL DEFAULT 0,
          engine_ms REAL NOT NULL DEFAULT 0,
          write_ms REAL NOT NULL DEFAULT 0
        );
        CREATE INDEX analyses_by_session ON analyses(session_id, id);
        -- One row per analysed frame; clustered by (analysis, index) so the timeline is one range scan.
        CREATE TABLE frames (
          analysis_id INTEGER NOT NULL REFERENCES analyses(id) ON DELETE CASCADE,
          idx INTEGER NOT NULL,
          source_index INTEGER NOT NULL,
          time_ms REAL NOT NULL,
          score REAL NOT NULL,
          unknown_fraction REAL NOT NULL,
          region_area REAL,
          region_x INTEGER,
          region_y INTEGER,
          region_w INTEGER,
          region_h INTEGER,
          -- Float32Array of the class area fractions, little-endian, in AnalysisInfo.classes order
          class_areas BLOB NOT NULL,
          PRIMARY KEY (analysis_id, idx)
        ) WITHOUT ROWID;
        CREATE INDEX frames_by_score ON frames(analysis_id, score DESC);
        -- Kept apart from frames so that summary scans never page through blobs.
        CREATE TABLE frame_maps (
          analysis_id INTEGER NOT NULL,
          idx INTEGER NOT NULL,
          class_map BLOB NOT NULL,
          ood_map BLOB NOT NULL,
          preview BLOB NOT NULL,
          PRIMARY KEY (analysis_id, idx),
          FOREIGN KEY (analysis_id, idx) REFERENCES frames(analysis_id, idx) ON DELETE CASCADE
        );
      `);
    },
  },
  {
    version: 2,
    name: 'events, event settings, flags, timeline chunks',
    up(db) {
      db.exec(`
        CREATE TABLE event_settings (
          analysis_id INTEGER PRIMARY KEY REFERENCES analyses(id) ON DELETE CASCADE,
          threshold REAL NOT NULL,
          hysteresis REAL NOT NULL,
          min_gap_ms REAL NOT NULL
        );
        CREATE TABLE events (
          id INTEGER PRIMARY KEY,
          analysis_id INTEGER NOT NULL REFERENCES analyses(id) ON DELETE CASCADE,
          start_frame INTEGER NOT NULL,
          end_frame INTEGER NOT NULL,
          start_ms REAL NOT NULL,
          end_ms REAL NOT NULL,
          peak_frame INTEGER NOT NULL,
          peak_ms REAL NOT NULL,
          peak_score REAL NOT NULL,
          frame_count INTEGER NOT NULL
        );
        CREATE INDEX events_by_peak ON events(analysis_id, peak_score DESC);
        CREATE TABLE flags (
          id INTEGER PRIMARY KEY,
          session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
          analysis_id INTEGER NOT NULL REFERENCES analyses(id) ON DELETE CASCADE,
          frame_index INTEGER NOT NULL,
          time_ms REAL NOT NULL,
          event_id INTEGER REFERENCES events(id) ON DELETE SET NULL,
          category TEXT NOT NULL,
          note TEXT NOT NULL,
          created_at TEXT NOT NULL
        );
        CREATE INDEX flags_by_analysis_frame ON flags(analysis_id, frame_index);
        -- The timeline (time and score of every frame) packed as little-endian Float64 arrays, TIMELINE_CHUNK
        -- frames a row: the whole timeline of a long drive is a few hundred rows instead of 100,000.
        CREATE TABLE timeline_chunks (
          analysis_id INTEGER NOT NULL REFERENCES analyses(id) ON DELETE CASCADE,
          chunk INTEGER NOT NULL,
          times BLOB NOT NULL,
          scores BLOB NOT NULL,
          PRIMARY KEY (analysis_id, chunk)
        );
        CREATE INDEX flags_by_session ON flags(session_id);
      `);
    },
  },
  knowledgeMigration,
  {
    version: 4,
    name: 'unknown regions per frame, frame score rule, event persistence',
    up(db) {
      db.exec(`
        -- Analyses made before this version scored frames by the pixel 90th percentile and stored no regions.
        ALTER TABLE analyses ADD COLUMN frame_score TEXT NOT NULL DEFAULT 'pixel-p90';
        -- One blob per frame (library/region-codec.ts), apart from frames so that summary scans never read it.
        CREATE TABLE frame_regions (
          analysis_id INTEGER NOT NULL,
          idx INTEGER NOT NULL,
          regions BLOB NOT NULL,
          PRIMARY KEY (analysis_id, idx),
          FOREIGN KEY (analysis_id, idx) REFERENCES frames(analysis_id, idx) ON DELETE CASCADE
        ) WITHOUT ROWID;
        -- 1 frame and 0 ms: no persistence, the rule the events stored before this version were made with.
        ALTER TABLE event_settings ADD COLUMN min_frames INTEGER NOT NULL DEFAULT 1;
        ALTER TABLE event_settings ADD COLUMN min_duration_ms REAL NOT NULL DEFAULT 0;
      `);
    },
  },
  ownershipMigration,
];
