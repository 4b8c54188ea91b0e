import { z } from 'zod';
import { FilePath, Id, plainName } from './common.js';

/**
 * What an export writes: `folder` (originals, overlays, maps, manifests, HTML report), or the flagged frames in
 * a format other tools import (docs/exports.md): COCO instances, Cityscapes or CamVid label PNGs, a FiftyOne
 * image-segmentation folder, CVAT for images 1.1 XML.
 */
export const ExportFormat = z.enum(['folder', 'coco', 'cityscapes', 'camvid', 'fiftyone', 'cvat']);
export type ExportFormat = z.infer<typeof ExportFormat>;

/** What one export wrote for one flag (the folder format's manifest has one row per flagged frame). */
export const ExportedFrame = z.object({
  flagId: Id,
  frameIndex: z.number().int(),
  timeMs: z.number(),
  /** Paths relative to the export folder: the full-resolution original, in every format. */
  frame: z.string(),
  /** The folder format's overlay and maps at the model's size. */
  overlay: z.string().optional(),
  oodMap: z.string().optional(),
  classMap: z.string().optional(),
  /** The label PNG (class ids at the source resolution) of the label formats. */
  label: z.string().optional(),
});
export type ExportedFrame = z.infer<typeof ExportedFrame>;

export const ExportResult = z.object({
  format: ExportFormat,
  /** The finished export folder; it exists only once everything in it was written. */
  path: z.string(),
  frames: z.array(ExportedFrame),
  /** The file to open or import first, relative to the folder (report.html, annotations.json, ...). */
  index: z.string(),
  /** The folder format's manifests and report. */
  manifestJson: z.string().optional(),
  manifestCsv: z.string().optional(),
  report: z.string().optional(),
  bytes: z.number().int(),
});
export type ExportResult = z.infer<typeof ExportResult>;

export const exportMethods = {
  /**
   * Writes the session's flagged frames into a new folder `name` inside `folder` (which must exist). The folder
   * appears complete or not at all: it is written beside the target under a temporary name and renamed last.
   */
  'export.flagged': {
    request: z
      .object({
        sessionId: Id,
        /** Defaults to the session's latest analysis. */
        analysisId: Id.optional(),
        folder: FilePath,
        /** Defaults to dmlreview-<session name>-<timestamp>. */
        name: plainName('folder name').optional(),
        format: ExportFormat.default('folder'),
        /** COCO only: the known classes as semantic segments too (one mask per class and image). */
        semantic: z.boolean().default(false),
      })
      .strict(),
    response: ExportResult,
  },
} as const;

export const exportNotifications = {
  /** Sent after each frame an export has written. */
  'export.progress': z.object({ sessionId: Id, done: z.number().int(), total: z.number().int() }),
} as const;
