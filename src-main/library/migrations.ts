/**
 * The library's schema history. Each entry runs once, in version order, inside a transaction, and is recorded
 * in schema_migrations. Entries are never edited once shipped: a change is a new entry with the next version.
 * Version 3 holds the knowledge base of taught classes; version 4 adds unknown regions (frame_regions), the
 * frame score rule of each analysis and event persistence; version 5, the owners of running analyses; version
 * 6, the region descriptors that "find more like this" searches; version 7, the chunks of analyses a fleet of
 * workers runs.
 */
export interface Migration {
  version: number;
  name: string;
  up(schema: SchemaChange): Promise<void>;
}

/**
 * How a migration changes the schema: DDL in SQLite's words, run as written on a library file and turned into
 * PostgreSQL's by dialect.ts on a team's database (the only place the two differ).
 */
export interface SchemaChange {
  exec(statements: string): Promise<void>;
}

export const migrations: Migration[] = [
  {
    version: 1,
    name: 'sessions, sources, analyses, frames, maps',
    async up(schema) {
      await schema.exec(`
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
    async up(schema) {
      await schema.exec(`
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
  // The knowledge base of taught classes. Classes belong to one model (its sha256: a prototype means nothing
  // in another embedding space). Every change writes a knowledge version holding a snapshot of the classes in
  // force, so an analysis that records its version can always be explained later.
  {
    version: 3,
    name: 'knowledge base of taught classes',
    async up(schema) {
      await schema.exec(`
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
  },
  {
    version: 4,
    name: 'unknown regions per frame, frame score rule, event persistence',
    async up(schema) {
      await schema.exec(`
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
  // The owner of each analysis being run (jobs/ownership.ts): several processes may open one library.
  {
    version: 5,
    name: 'analysis owners',
    async up(schema) {
      await schema.exec(`
        -- One row while a process runs the analysis; removed when it stops (a crash leaves it, gone stale).
        CREATE TABLE analysis_owners (
          analysis_id INTEGER PRIMARY KEY REFERENCES analyses(id) ON DELETE CASCADE,
          token TEXT NOT NULL,
          pid INTEGER NOT NULL,
          host TEXT NOT NULL,
          claimed_at TEXT NOT NULL,
          heartbeat_ms INTEGER NOT NULL
        );
      `);
    },
  },
  // Region descriptors (library/descriptor-codec.ts): mean embeddings of unknown regions and large class
  // components, searched by "find more like this" (src-main/similar). Analyses made before have none.
  {
    version: 6,
    name: 'region descriptors',
    async up(schema) {
      await schema.exec(`
        -- One blob per frame, apart from frames so that summary scans never read it; a search reads every
        -- row of an analysis in key order.
        CREATE TABLE frame_descriptors (
          analysis_id INTEGER NOT NULL,
          idx INTEGER NOT NULL,
          descriptors BLOB NOT NULL,
          PRIMARY KEY (analysis_id, idx),
          FOREIGN KEY (analysis_id, idx) REFERENCES frames(analysis_id, idx) ON DELETE CASCADE
        ) WITHOUT ROWID;
      `);
    },
  },
  // The chunks of an analysis run by a fleet of workers on a team database (jobs/fleet): what each covers,
  // whether it is done, and the lease of the worker running it.
  {
    version: 7,
    name: 'analysis chunks',
    async up(schema) {
      await schema.exec(`
        -- One row per chunk: a source file, or a time range of one (from_ms/until_ms on the session timeline,
        -- NULL for its start/end). Its frames are stored from first_index on and numbered contiguously when
        -- the analysis finishes. token/pid/host/heartbeat_ms: the lease of the worker running it, NULL when none.
        CREATE TABLE analysis_chunks (
          analysis_id INTEGER NOT NULL REFERENCES analyses(id) ON DELETE CASCADE,
          chunk INTEGER NOT NULL,
          source_position INTEGER NOT NULL,
          from_ms REAL,
          until_ms REAL,
          first_index INTEGER NOT NULL,
          status TEXT NOT NULL,
          message TEXT,
          token TEXT,
          pid INTEGER,
          host TEXT,
          heartbeat_ms INTEGER,
          PRIMARY KEY (analysis_id, chunk)
        ) WITHOUT ROWID;
      `);
    },
  },
];
