import { basename } from 'node:path';
import type {
  AnalysisInfo,
  ExportedFrame,
  ExportFormat,
  ExportResult,
  Flag,
  SessionInfo,
} from '../../src-shared/contract/index.js';
import { AppError } from '../core/errors.js';
import { extractFullFrame } from '../footage/index.js';
import type { Library } from '../library/index.js';
import { nodeExportFs, writeFolderAtomically, type ExportFs, type PutFile } from './atomic.js';
import { formatWriters, frameStem, loadFlaggedFrame, storedMapPng, type FormatContext } from './formats/index.js';
import { compositeOverlay, decodeByteMap, decodePng, encodeJpeg, encodePng, shrink } from './images.js';
import { classAreasByName, EXPORT_FORMAT, manifestCsv, round6, type Manifest, type ManifestRow } from './manifest.js';
import { renderReport, type ReportThumbnails } from './report.js';
import { pickAnalysis, safeName } from './session-pick.js';

export { writeFolderAtomically, nodeExportFs, type ExportFs } from './atomic.js';
export { exportClip, type ClipRequest, type ClipDependencies } from './clip.js';
export { EXPORT_OVERLAY_STYLE, type OverlayStyle } from './images.js';

export interface ExportRequest {
  sessionId: number;
  analysisId?: number;
  /** Existing folder the export folder is created in. */
  folder: string;
  name?: string;
  /** Defaults to folder, the originals-overlays-maps-report export. */
  format?: ExportFormat;
  /** COCO: the known classes as semantic segments too. */
  semantic?: boolean;
}

export interface ExportDependencies {
  library: Library;
  /** Full-resolution PNG of an analysed frame, decoded from the footage. */
  fullFrame?: (analysisId: number, frameIndex: number) => Promise<Buffer>;
  fs?: ExportFs;
  onProgress?: (done: number, total: number) => void;
  now?: () => Date;
}

/** Long side of the report's inline thumbnails, in pixels. */
const THUMBNAIL_LONG_SIDE = 480;

/**
 * Exports the flagged frames of one analysis in request.format (folder by default, see exportFolder), into a
 * new folder written atomically (see writeFolderAtomically): it is complete or absent. Progress is reported
 * per frame written.
 */
export async function exportFlagged(request: ExportRequest, deps: ExportDependencies): Promise<ExportResult> {
  const format = request.format ?? 'folder';
  const { library } = deps;
  const session = await library.sessions.get(request.sessionId);
  const analysis = await pickAnalysis(library, session, request.analysisId);
  const flags = (await library.flags.list(session.id)).filter((flag) => flag.analysisId === analysis.id);
  if (!flags.length) {
    throw new AppError(
      'export_nothing_flagged',
      `Session "${session.name}" has no flagged frame in analysis ${analysis.id}: flag frames (F in the session view) before exporting`,
    );
  }
  flags.sort((a, b) => a.timeMs - b.timeMs || a.id - b.id);
  const createdAt = (deps.now?.() ?? new Date()).toISOString();
  const name = request.name ?? `dmlreview-${safeName(session.name)}-${createdAt.replace(/[:.]/g, '-').slice(0, 19)}`;
  const fullFrame =
    deps.fullFrame ??
    (async (analysisId, frameIndex) => {
      const frame = await library.frames.source(analysisId, frameIndex);
      return extractFullFrame(await library.sessions.sources(frame.sessionId), frame.timeMs);
    });
  const flagged = { session, analysis, flags, createdAt, name, fullFrame };
  if (format === 'folder') return exportFolder(request, deps, flagged);
  return exportInterchange(request, deps, { ...flagged, format, semantic: request.semantic ?? false });
}

interface Flagged {
  session: SessionInfo;
  analysis: AnalysisInfo;
  /** Sorted by time. */
  flags: Flag[];
  createdAt: string;
  name: string;
  fullFrame: (analysisId: number, frameIndex: number) => Promise<Buffer>;
}

/** The flagged frames in a format another tool imports (src-main/export/formats). */
async function exportInterchange(
  request: ExportRequest,
  deps: ExportDependencies,
  flagged: Flagged & FormatContext & { format: Exclude<ExportFormat, 'folder'> },
): Promise<ExportResult> {
  const { library } = deps;
  const byFrame = new Map<number, Flag[]>();
  for (const flag of flagged.flags) byFrame.set(flag.frameIndex, [...(byFrame.get(flag.frameIndex) ?? []), flag]);
  const writer = formatWriters[flagged.format](flagged);
  const written = await writeFolderAtomically(
    request.folder,
    flagged.name,
    async (put) => {
      const frames: ExportedFrame[] = [];
      let done = 0;
      for (const frameFlags of byFrame.values()) {
        const frame = await loadFlaggedFrame(library, flagged.analysis, frameFlags, flagged.fullFrame);
        const files = await writer.writeFrame(put, frame);
        for (const flag of frameFlags)
          frames.push({ flagId: flag.id, frameIndex: flag.frameIndex, timeMs: frame.timeMs, ...files });
        deps.onProgress?.(++done, byFrame.size);
      }
      await writer.finish(put);
      return frames;
    },
    deps.fs ?? nodeExportFs,
  );
  return {
    format: flagged.format,
    path: written.path,
    frames: written.value,
    index: writer.index,
    bytes: written.bytes,
  };
}

/**
 * The folder format: per frame the original from the footage at full resolution, an overlay, the OOD map and
 * the class-id map; then manifest.json, manifest.csv and report.html.
 */
async function exportFolder(
  request: ExportRequest,
  deps: ExportDependencies,
  { session, analysis, flags, createdAt, name, fullFrame }: Flagged,
): Promise<ExportResult> {
  const { library } = deps;
  const written = await writeFolderAtomically(
    request.folder,
    name,
    async (put) => {
      const rows: ManifestRow[] = [];
      const thumbnails: ReportThumbnails[] = [];
      const frameFiles = new Map<
        number,
        { row: Omit<ManifestRow, 'flagId' | 'category' | 'note' | 'eventId' | 'flaggedAt'>; thumbs: ReportThumbnails }
      >();
      for (const [done, flag] of flags.entries()) {
        let frame = frameFiles.get(flag.frameIndex);
        if (!frame) {
          frame = await writeFrame(put, library, analysis, session, flag, fullFrame);
          frameFiles.set(flag.frameIndex, frame);
        }
        rows.push({
          flagId: flag.id,
          category: flag.category,
          note: flag.note,
          eventId: flag.eventId,
          flaggedAt: flag.createdAt,
          ...frame.row,
        });
        thumbnails.push(frame.thumbs);
        deps.onProgress?.(done + 1, flags.length);
      }
      const manifest = buildManifest(
        session,
        analysis,
        (await library.analyses.eventSettings(analysis.id)).threshold,
        rows,
        createdAt,
      );
      await put('manifest.json', `${JSON.stringify(manifest, null, 2)}\n`);
      await put('manifest.csv', manifestCsv(manifest));
      await put('report.html', renderReport(manifest, await library.frames.timeline(analysis.id), thumbnails));
      return rows;
    },
    deps.fs ?? nodeExportFs,
  );

  const frames: ExportedFrame[] = written.value.map((row) => ({
    flagId: row.flagId,
    frameIndex: row.frameIndex,
    timeMs: row.timeMs,
    frame: row.files.frame,
    overlay: row.files.overlay,
    oodMap: row.files.oodMap,
    classMap: row.files.classMap,
  }));
  return {
    format: 'folder',
    path: written.path,
    frames,
    index: 'report.html',
    manifestJson: 'manifest.json',
    manifestCsv: 'manifest.csv',
    report: 'report.html',
    bytes: written.bytes,
  };
}

async function writeFrame(
  put: PutFile,
  library: Library,
  analysis: AnalysisInfo,
  session: SessionInfo,
  flag: Flag,
  fullFrame: (analysisId: number, frameIndex: number) => Promise<Buffer>,
) {
  const summary = await library.frames.get(analysis.id, flag.frameIndex);
  const classPng = await storedMapPng(library, analysis.id, flag.frameIndex, 'class_map');
  const oodPng = await storedMapPng(library, analysis.id, flag.frameIndex, 'ood_map');
  const stem = frameStem(flag.frameIndex, summary.timeMs);
  const files = {
    frame: `frames/${stem}.png`,
    overlay: `overlays/${stem}.png`,
    oodMap: `oodmaps/${stem}.png`,
    classMap: `classmaps/${stem}.png`,
  };
  const original = await fullFrame(analysis.id, flag.frameIndex);
  const classMap = decodeByteMap(classPng);
  const decoded = decodePng(original);
  await put(files.frame, original);
  await put(files.overlay, encodePng(compositeOverlay(decoded, classMap, analysis.classes)));
  await put(files.oodMap, oodPng);
  await put(files.classMap, classPng);

  // Thumbnails from the original, not the stored preview: older libraries stored previews at the model's
  // input shape (4:3), which would show a 16:9 drive squashed.
  const small = shrink(decoded, THUMBNAIL_LONG_SIDE);
  const thumbs = {
    frame: encodeJpeg(small),
    overlay: encodeJpeg(compositeOverlay(small, classMap, analysis.classes)),
  };
  const frameSource = await library.frames.source(analysis.id, flag.frameIndex);
  const sources = await library.sessions.sources(session.id);
  const source = sources[frameSource.sourceIndex] ?? sources[0];
  const row = {
    frameIndex: flag.frameIndex,
    timeMs: summary.timeMs,
    score: round6(summary.score),
    unknownFraction: round6(summary.unknownFraction),
    largestRegion: summary.largestRegion,
    classAreas: classAreasByName(summary, analysis.classes),
    sourceFile: source ? basename(source.path) : '',
    files,
    frameWidth: decoded.width,
    frameHeight: decoded.height,
  };
  return { row, thumbs };
}

function buildManifest(
  session: SessionInfo,
  analysis: AnalysisInfo,
  threshold: number,
  rows: ManifestRow[],
  createdAt: string,
): Manifest {
  return {
    format: EXPORT_FORMAT,
    createdAt,
    session: {
      id: session.id,
      name: session.name,
      durationMs: session.durationMs,
      sources: session.sources.map(({ path, sha256 }) => ({ path, sha256 })),
    },
    analysis: {
      id: analysis.id,
      model: analysis.modelName,
      modelSha256: analysis.modelSha256,
      knowledgeVersion: analysis.knowledgeVersion,
      sampleFps: analysis.sampleFps,
      threshold,
    },
    classes: analysis.classes.map(({ index, name, color, taught }) => ({ index, name, color, taught })),
    unknownClassIndex: 255,
    oodMapScale: 255,
    rows,
  };
}
