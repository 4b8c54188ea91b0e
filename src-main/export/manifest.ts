import type { ClassInfo, Flag, FrameSummary } from '../../src-shared/contract/index.js';

export const EXPORT_FORMAT = 'dmlreview-export/1';

/** One flag of the export: the flagged frame's figures and the files written for it. */
export interface ManifestRow {
  flagId: number;
  category: Flag['category'];
  note: string;
  eventId: number | null;
  flaggedAt: string;
  frameIndex: number;
  timeMs: number;
  score: number;
  unknownFraction: number;
  largestRegion: FrameSummary['largestRegion'];
  /** Share of the frame per class name. */
  classAreas: Record<string, number>;
  sourceFile: string;
  files: { frame: string; overlay: string; oodMap: string; classMap: string };
  /** Size of the original frame as decoded from the footage. */
  frameWidth: number;
  frameHeight: number;
}

export interface Manifest {
  format: typeof EXPORT_FORMAT;
  createdAt: string;
  session: { id: number; name: string; durationMs: number; sources: { path: string; sha256: string }[] };
  analysis: {
    id: number;
    model: string;
    modelSha256: string;
    knowledgeVersion: number | null;
    sampleFps: number | null;
    /** The event threshold in force when exported (the reviewer may have moved it from the model's default). */
    threshold: number;
  };
  classes: { index: number; name: string; color: [number, number, number]; taught: boolean }[];
  /** Class-map value of pixels the model calls unknown. */
  unknownClassIndex: number;
  /** How the OOD map PNG encodes the score: value = round(score * 255). */
  oodMapScale: 255;
  rows: ManifestRow[];
}

export function classAreasByName(summary: FrameSummary, classes: readonly ClassInfo[]): Record<string, number> {
  return Object.fromEntries(classes.map((info) => [info.name, round6(summary.classAreas[info.index] ?? 0)]));
}

const csvColumns = [
  'session',
  'session_id',
  'analysis_id',
  'flag_id',
  'category',
  'note',
  'event_id',
  'frame_index',
  'time_ms',
  'score',
  'unknown_fraction',
  'largest_region_area',
  'source_file',
  'frame_file',
  'overlay_file',
  'ood_map_file',
  'class_map_file',
  'model',
  'model_sha256',
] as const;

/** RFC 4180 CSV, one line per flag, with the same figures as manifest.json. */
export function manifestCsv(manifest: Manifest): string {
  const lines = manifest.rows.map((row) =>
    [
      manifest.session.name,
      manifest.session.id,
      manifest.analysis.id,
      row.flagId,
      row.category,
      row.note,
      row.eventId ?? '',
      row.frameIndex,
      row.timeMs,
      row.score,
      row.unknownFraction,
      row.largestRegion?.area ?? '',
      row.sourceFile,
      row.files.frame,
      row.files.overlay,
      row.files.oodMap,
      row.files.classMap,
      manifest.analysis.model,
      manifest.analysis.modelSha256,
    ]
      .map(csvCell)
      .join(','),
  );
  return `${[csvColumns.join(','), ...lines].join('\r\n')}\r\n`;
}

function csvCell(value: string | number): string {
  // A note starting with = + - @ would run as a formula in a spreadsheet: keep it text (OWASP's advice).
  const text = typeof value === 'string' && /^[=+\-@\t\r]/.test(value) ? `'${value}` : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function round6(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}
