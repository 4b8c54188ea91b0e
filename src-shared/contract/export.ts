import { z } from 'zod';
import { FilePath, Id, plainName } from './common.js';

/** What one export wrote, as the manifest lists it (one row per flagged frame). */
export const ExportedFrame = z.object({
  flagId: Id,
  frameIndex: z.number().int(),
  timeMs: z.number(),
  /** Paths relative to the export folder. */
  frame: z.string(),
  overlay: z.string(),
  oodMap: z.string(),
  classMap: z.string(),
});
export type ExportedFrame = z.infer<typeof ExportedFrame>;

export const ExportResult = z.object({
  /** The finished export folder; it exists only once everything in it was written. */
  path: z.string(),
  frames: z.array(ExportedFrame),
  manifestJson: z.string(),
  manifestCsv: z.string(),
  report: z.string(),
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
      })
      .strict(),
    response: ExportResult,
  },
} as const;

export const exportNotifications = {
  /** Sent after each frame an export has written. */
  'export.progress': z.object({ sessionId: Id, done: z.number().int(), total: z.number().int() }),
} as const;
