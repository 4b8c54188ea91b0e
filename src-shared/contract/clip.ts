import { z } from 'zod';
import { FilePath, Id, plainName } from './common.js';

/** The viewer's overlay settings, burnt into a clip as they were on screen. */
export const ClipOverlay = z
  .object({
    classes: z.boolean(),
    heat: z.boolean(),
    outline: z.boolean(),
    opacity: z.number().min(0).max(1),
  })
  .strict();
export type ClipOverlay = z.infer<typeof ClipOverlay>;

export const ClipResult = z.object({
  /** The finished clip folder (clip.mp4 and clip.json); it exists only once both were written. */
  path: z.string(),
  /** Paths relative to the folder. */
  video: z.string(),
  metadata: z.string(),
  eventId: Id.nullable(),
  /** Session time of the first frame and the end of the range (exclusive). */
  fromMs: z.number(),
  toMs: z.number(),
  frames: z.number().int(),
  fps: z.number(),
  width: z.number().int(),
  height: z.number().int(),
  bytes: z.number().int(),
});
export type ClipResult = z.infer<typeof ClipResult>;

export const clipMethods = {
  /**
   * Encodes an event (with a second of context each side) or a time range of the session as an H.264 mp4 at the
   * footage's frame rate, the overlay burnt in, into a new folder `name` inside `folder`: complete or absent.
   */
  'export.clip': {
    request: z
      .object({
        sessionId: Id,
        /** Defaults to the event's analysis, else the session's latest. */
        analysisId: Id.optional(),
        eventId: Id.optional(),
        fromMs: z.number().min(0).optional(),
        toMs: z.number().min(0).optional(),
        folder: FilePath,
        /** Defaults to dmlreview-<session name>-clip-<event or range>. */
        name: plainName('folder name').optional(),
        /** Defaults to the flagged-frame export's overlay (classes, unknown tint and outline). */
        overlay: ClipOverlay.optional(),
      })
      .strict()
      .refine((request) => (request.eventId === undefined) !== (request.fromMs === undefined), {
        message: 'give either eventId or fromMs and toMs',
      })
      .refine((request) => (request.fromMs === undefined) === (request.toMs === undefined), {
        message: 'fromMs and toMs go together',
      }),
    response: ClipResult,
  },
} as const;

export const clipNotifications = {
  /** Sent as a clip's frames are encoded. */
  'export.clipProgress': z.object({ sessionId: Id, done: z.number().int(), total: z.number().int() }),
} as const;
