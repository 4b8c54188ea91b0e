/**
 * The library's tables as the query builder sees them (the schema itself: migrations.ts). Generated<T> marks a
 * column the database fills when an insert leaves it out (ids, defaults).
 */
import type { Generated } from 'kysely';

export interface SessionsTable {
  id: Generated<number>;
  name: string;
  created_at: string;
  thumbnail: Buffer | null;
}

export interface SourceFilesTable {
  id: Generated<number>;
  session_id: number;
  position: number;
  path: string;
  kind: string;
  duration_ms: number;
  fps: number;
  width: number;
  height: number;
  rotation: number;
  created_at: string | null;
  sha256: string;
  frame_count: number;
  offset_ms: number;
  start_ms: Generated<number>;
  codec: string | null;
  images: string | null;
}

export interface AnalysesTable {
  id: Generated<number>;
  session_id: number;
  model_name: string;
  model_sha256: string;
  knowledge_version: number | null;
  sample_fps: number | null;
  input_width: number;
  input_height: number;
  classes: string;
  threshold: number;
  frame_score: Generated<string>;
  status: string;
  frames_done: Generated<number>;
  frames_total: Generated<number>;
  fps: Generated<number>;
  eta_seconds: number | null;
  message: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  decode_ms: Generated<number>;
  engine_ms: Generated<number>;
  write_ms: Generated<number>;
}

export interface FramesTable {
  analysis_id: number;
  idx: number;
  source_index: number;
  time_ms: number;
  score: number;
  unknown_fraction: number;
  region_area: number | null;
  region_x: number | null;
  region_y: number | null;
  region_w: number | null;
  region_h: number | null;
  class_areas: Buffer;
}

export interface FrameMapsTable {
  analysis_id: number;
  idx: number;
  class_map: Uint8Array;
  ood_map: Uint8Array;
  preview: Uint8Array;
}

export interface FrameRegionsTable {
  analysis_id: number;
  idx: number;
  regions: Buffer;
}

export interface FrameDescriptorsTable {
  analysis_id: number;
  idx: number;
  descriptors: Buffer;
}

export interface EventSettingsTable {
  analysis_id: number;
  threshold: number;
  hysteresis: number;
  min_gap_ms: number;
  min_frames: Generated<number>;
  min_duration_ms: Generated<number>;
}

export interface EventsTable {
  id: Generated<number>;
  analysis_id: number;
  start_frame: number;
  end_frame: number;
  start_ms: number;
  end_ms: number;
  peak_frame: number;
  peak_ms: number;
  peak_score: number;
  frame_count: number;
}

export interface FlagsTable {
  id: Generated<number>;
  session_id: number;
  analysis_id: number;
  frame_index: number;
  time_ms: number;
  event_id: number | null;
  category: string;
  note: string;
  created_at: string;
}

export interface TimelineChunksTable {
  analysis_id: number;
  chunk: number;
  times: Buffer;
  scores: Buffer;
}

export interface TaughtClassesTable {
  id: Generated<number>;
  model_sha256: string;
  name: string;
  color: string;
  enabled: Generated<number>;
  prototypes: string;
  acceptance_radius: number;
  embedding_dim: number;
  created_by: string;
  created_at: string;
  updated_at: string;
}

export interface TaughtShotsTable {
  class_id: number;
  position: number;
  analysis_id: number | null;
  frame_index: number | null;
  image_path: string | null;
  description: string;
  pixels: number;
  mask: string;
}

export interface KnowledgeVersionsTable {
  version: Generated<number>;
  created_at: string;
  author: string;
  change: string;
  classes: string;
}

export interface AnalysisOwnersTable {
  analysis_id: number;
  token: string;
  pid: number;
  host: string;
  claimed_at: string;
  heartbeat_ms: number;
}

export interface AnalysisChunksTable {
  analysis_id: number;
  chunk: number;
  source_position: number;
  from_ms: number | null;
  until_ms: number | null;
  first_index: number;
  status: string;
  message: string | null;
  token: string | null;
  pid: number | null;
  host: string | null;
  heartbeat_ms: number | null;
}

export interface SchemaMigrationsTable {
  version: number;
  name: string;
  applied_at: string;
}

export interface LibraryTables {
  sessions: SessionsTable;
  source_files: SourceFilesTable;
  analyses: AnalysesTable;
  frames: FramesTable;
  frame_maps: FrameMapsTable;
  frame_regions: FrameRegionsTable;
  frame_descriptors: FrameDescriptorsTable;
  event_settings: EventSettingsTable;
  events: EventsTable;
  flags: FlagsTable;
  timeline_chunks: TimelineChunksTable;
  taught_classes: TaughtClassesTable;
  taught_shots: TaughtShotsTable;
  knowledge_versions: KnowledgeVersionsTable;
  analysis_owners: AnalysisOwnersTable;
  analysis_chunks: AnalysisChunksTable;
  schema_migrations: SchemaMigrationsTable;
}
