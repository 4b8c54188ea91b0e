import { z } from 'zod';
import { FilePath, Id, ModelName, Ok, Rgb, SampleFps } from './common.js';
import { packed } from './packed.js';
import { RleMask } from './teaching.js';

/** A class the model can name: built in (from the model card) or taught by the user. */
export const ClassInfo = z.object({
  index: z.number().int().min(0).max(254),
  name: z.string(),
  color: Rgb,
  taught: z.boolean(),
});
export type ClassInfo = z.infer<typeof ClassInfo>;

export const ModelInfo = z.object({
  name: z.string(),
  description: z.string(),
  /** A model whose files are missing or broken is listed with its problem instead of stopping the app. */
  status: z.enum(['ok', 'error']),
  error: z.string().nullable(),
  sha256: z.string(),
  inputWidth: z.number().int(),
  inputHeight: z.number().int(),
  embeddingDim: z.number().int(),
  classes: z.array(ClassInfo),
  unknownClasses: z.array(z.string()),
  defaultThreshold: z.number(),
  isDefault: z.boolean(),
});
export type ModelInfo = z.infer<typeof ModelInfo>;

export const SourceFile = z.object({
  path: z.string(),
  kind: z.enum(['video', 'image-folder']),
  durationMs: z.number(),
  fps: z.number(),
  width: z.number().int(),
  height: z.number().int(),
  rotation: z.number().int(),
  createdAt: z.string().nullable(),
  sha256: z.string(),
  frameCount: z.number().int(),
  /** The video stream's codec as ffprobe names it (h264, hevc); for image folders the file extension. */
  codec: z.string().nullable(),
  /** Where this clip starts on the session timeline. */
  offsetMs: z.number(),
});
export type SourceFile = z.infer<typeof SourceFile>;

export const AnalysisStatus = z.enum(['queued', 'running', 'done', 'partial', 'failed', 'cancelled']);
export type AnalysisStatus = z.infer<typeof AnalysisStatus>;

/** The statuses of an analysis still to finish: waiting for, or held by, a job. Every other status is an end. */
export const UNFINISHED_ANALYSIS_STATUSES = ['queued', 'running'] as const satisfies readonly AnalysisStatus[];

export function isAnalysisFinished(status: AnalysisStatus): boolean {
  return !(UNFINISHED_ANALYSIS_STATUSES as readonly AnalysisStatus[]).includes(status);
}

/** How an analysis scored its frames: the highest region score, or (before regions) the pixel 90th percentile. */
export const FrameScoreRule = z.enum(['regions', 'pixel-p90']);
export type FrameScoreRule = z.infer<typeof FrameScoreRule>;

export const AnalysisInfo = z.object({
  id: Id,
  sessionId: Id,
  modelName: z.string(),
  modelSha256: z.string(),
  /** Version of the taught-class knowledge base in force, null when none was. */
  knowledgeVersion: z.number().int().nullable(),
  /** Frames per second sampled from the footage; null means every frame. */
  sampleFps: z.number().positive().nullable(),
  threshold: z.number(),
  /** How frame scores were made; analyses from before unknown regions are 'pixel-p90' and have no regions. */
  frameScore: FrameScoreRule,
  status: AnalysisStatus,
  framesDone: z.number().int(),
  framesTotal: z.number().int(),
  fps: z.number(),
  etaSeconds: z.number().nullable(),
  /** Why the analysis failed or stopped early (a truncated file, say), in words a user can act on. */
  message: z.string().nullable(),
  classes: z.array(ClassInfo),
  createdAt: z.string(),
  finishedAt: z.string().nullable(),
});
export type AnalysisInfo = z.infer<typeof AnalysisInfo>;

export const SessionInfo = z.object({
  id: Id,
  name: z.string(),
  createdAt: z.string(),
  durationMs: z.number(),
  width: z.number().int(),
  height: z.number().int(),
  fps: z.number(),
  sources: z.array(SourceFile),
  /** False when no frame of the footage could be decoded for a thumbnail at import. */
  hasThumbnail: z.boolean(),
  latestAnalysis: AnalysisInfo.nullable(),
});
export type SessionInfo = z.infer<typeof SessionInfo>;

export const Region = z.object({
  area: z.number(),
  x: z.number().int(),
  y: z.number().int(),
  width: z.number().int(),
  height: z.number().int(),
});

/**
 * An 8-connected region of unknown pixels of one frame, in pixels of the stored maps (docs/events.md, "Unknown
 * regions"; the rule behind `place` and `score`: src-main/engine/unknown-regions.ts).
 */
export const UnknownRegion = z.object({
  pixels: z.number().int().min(1),
  x: z.number().int().min(0),
  y: z.number().int().min(0),
  width: z.number().int().min(1),
  height: z.number().int().min(1),
  /** Mean pixel OOD score over the region. */
  meanScore: z.number(),
  /** Frame borders the region touches. */
  border: z.array(z.enum(['top', 'right', 'bottom', 'left'])),
  /** On the drivable area (half its boundary or more), beside it (within its own height), or away from it. */
  drivable: z.enum(['on', 'beside', 'away']),
  /** Half its boundary or more against sky. */
  inSky: z.boolean(),
  /** The placement tier that weights its score: by the road, elsewhere, or in the sky / at the top border. */
  place: z.enum(['road', 'elsewhere', 'sky-or-top']),
  /** Mean score times the tier's weight; 0 when the region is under the minimum size. */
  score: z.number(),
});
export type UnknownRegion = z.infer<typeof UnknownRegion>;

export const FrameRegions = z.object({
  analysisId: Id,
  frameIndex: z.number().int().min(0),
  /** False for analyses made before regions were stored (their frames have none to show). */
  hasRegions: z.boolean(),
  /** Size of the maps the boxes are in; 0 without regions. */
  mapWidth: z.number().int().min(0),
  mapHeight: z.number().int().min(0),
  /** Regions by size, largest first. */
  regions: z.array(UnknownRegion),
});
export type FrameRegions = z.infer<typeof FrameRegions>;

/** What the engine stores for every analysed frame (definitions in docs/library.md, "Frame summary"). */
export const FrameSummary = z.object({
  index: z.number().int().min(0),
  timeMs: z.number(),
  score: z.number(),
  unknownFraction: z.number(),
  largestRegion: Region.nullable(),
  /** Fraction of the frame per class index (see AnalysisInfo.classes). */
  classAreas: z.array(z.number()),
  flagged: z.boolean(),
});
export type FrameSummary = z.infer<typeof FrameSummary>;

/** Time and score of every analysed frame, in frame order; packed on the wire (packed.ts). */
export const Timeline = z
  .object({
    analysisId: Id,
    timesMs: packed(Float64Array),
    scores: packed(Float64Array),
  })
  .refine((timeline) => timeline.timesMs.length === timeline.scores.length, {
    message: 'timesMs and scores must have one entry per frame each',
    path: ['scores'],
  });
export type Timeline = z.infer<typeof Timeline>;

export const EventSettings = z.object({
  threshold: z.number().min(0).max(1),
  /** An event ends only when the score falls below threshold - hysteresis. */
  hysteresis: z.number().min(0).max(1),
  /** Events closer than this are merged (at most a day). */
  minGapMs: z.number().min(0).max(86_400_000),
  /**
   * Persistence: a run of frames above the threshold is an event only with at least this many analysed frames
   * and this duration (first to last frame), so a region that blinks for one frame is none. Analyses from
   * before persistence keep 1 and 0, the rule their stored events were made with.
   */
  minFrames: z.number().int().min(1).max(1000).default(2),
  minDurationMs: z.number().min(0).max(600_000).default(500),
});
export type EventSettings = z.infer<typeof EventSettings>;

export const EventInfo = z.object({
  id: Id,
  analysisId: Id,
  startMs: z.number(),
  endMs: z.number(),
  peakMs: z.number(),
  peakScore: z.number(),
  peakFrame: z.number().int(),
  frameCount: z.number().int(),
});
export type EventInfo = z.infer<typeof EventInfo>;

export const FlagCategory = z.enum(['hazard', 'unknown-object', 'false-alarm', 'other']);
export const Flag = z.object({
  id: Id,
  sessionId: Id,
  analysisId: Id,
  frameIndex: z.number().int(),
  timeMs: z.number(),
  eventId: Id.nullable(),
  category: FlagCategory,
  note: z.string(),
  createdAt: z.string(),
});
export type Flag = z.infer<typeof Flag>;

/** A box in pixels of the source video frame (not of the stored maps). */
export const SourceBox = z.object({
  x: z.number().int(),
  y: z.number().int(),
  width: z.number().int(),
  height: z.number().int(),
});
export type SourceBox = z.infer<typeof SourceBox>;

/**
 * What to search for, on frame `frameIndex` of analysis `analysisId`: the region under a point (source-frame
 * pixels: an unknown region, or a large component of a known class); an unknown region by its index in
 * frames.regions' list; or the pixels of a mask at the model's output size (a lasso, a teaching mask: their
 * mean embedding, which runs the model on that frame again).
 */
export const SimilarQuery = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('point'), x: z.number().min(0), y: z.number().min(0) }).strict(),
  z.object({ kind: z.literal('region'), regionIndex: z.number().int().min(0) }).strict(),
  z.object({ kind: z.literal('mask'), mask: RleMask }).strict(),
]);
export type SimilarQuery = z.infer<typeof SimilarQuery>;

/** One region found (docs/similar.md). */
export const SimilarResult = z.object({
  sessionId: Id,
  sessionName: z.string(),
  analysisId: Id,
  frameIndex: z.number().int().min(0),
  timeMs: z.number(),
  /** The region's bounding box in source-frame pixels. */
  box: SourceBox,
  /** An unknown region, or a component of a known (or taught) class. */
  kind: z.enum(['unknown', 'class']),
  /** The class of a component; null for unknown regions. */
  classIndex: z.number().int().min(0).max(254).nullable(),
  /** Index of the unknown region in frames.regions' list for that frame (largest first); null for components. */
  regionIndex: z.number().int().min(0).nullable(),
  /** Pixels of the region at the stored maps' size. */
  pixels: z.number().int(),
  /** Squared Euclidean distance between the two mean embeddings. */
  distance: z.number(),
  /** exp(-ln 2 * distance / similarityScale): 1 identical, 1/2 as far apart as two neighbouring known classes. */
  similarity: z.number().min(0).max(1),
  /** The stored event that holds this frame, if any. */
  eventId: Id.nullable(),
});
export type SimilarResult = z.infer<typeof SimilarResult>;

/** An analysis the search did not look in, and why (with what to do, in `message`). */
export const SimilarSkipped = z.object({
  analysisId: Id,
  sessionId: Id,
  sessionName: z.string(),
  modelName: z.string(),
  /** no-descriptors: analysed before descriptors were stored (re-analyse it); other-model: another embedding space. */
  reason: z.enum(['no-descriptors', 'other-model']),
  message: z.string(),
});
export type SimilarSkipped = z.infer<typeof SimilarSkipped>;

export const SimilarAnswer = z.object({
  /** The query region as found on its frame (for a mask: the mask's bounding box, kind 'unknown' and no index). */
  query: z.object({
    analysisId: Id,
    frameIndex: z.number().int().min(0),
    box: SourceBox,
    kind: z.enum(['unknown', 'class']),
    classIndex: z.number().int().min(0).max(254).nullable(),
    regionIndex: z.number().int().min(0).nullable(),
    pixels: z.number().int(),
    modelName: z.string(),
    modelSha256: z.string(),
  }),
  /** The squared distance at which similarity is 1/2: the model's median distance between neighbouring class prototypes. */
  similarityScale: z.number().positive(),
  /** Nearest first; the query's own frame left out. */
  results: z.array(SimilarResult),
  /** Analyses and regions looked through. */
  searched: z.object({ analyses: z.number().int(), regions: z.number().int() }),
  skipped: z.array(SimilarSkipped),
});
export type SimilarAnswer = z.infer<typeof SimilarAnswer>;

const AnalysisRef = z.object({ analysisId: Id }).strict();
const SessionRef = z.object({ sessionId: Id }).strict();

export const libraryMethods = {
  'models.list': { request: z.object({}).strict(), response: z.array(ModelInfo) },
  'sessions.list': { request: z.object({}).strict(), response: z.array(SessionInfo) },
  'sessions.get': { request: SessionRef, response: SessionInfo },
  'sessions.import': {
    request: z
      .object({
        paths: z.array(FilePath).min(1).max(1000),
        name: z.string().min(1).max(200).optional(),
        /** Frame rate of image folders (their files carry no timing); default 1 image per second. */
        imageFps: SampleFps.optional(),
        /** Start an analysis right after import (the usual case). */
        analyse: z
          .object({ model: ModelName.optional(), sampleFps: SampleFps.nullable().optional() })
          .strict()
          .optional(),
      })
      .strict(),
    response: SessionInfo,
  },
  'sessions.delete': { request: SessionRef, response: Ok },
  'analysis.start': {
    request: z
      .object({ sessionId: Id, model: ModelName.optional(), sampleFps: SampleFps.nullable().optional() })
      .strict(),
    response: AnalysisInfo,
  },
  'analysis.cancel': { request: AnalysisRef, response: AnalysisInfo },
  'analysis.list': { request: SessionRef, response: z.array(AnalysisInfo) },
  'timeline.get': { request: AnalysisRef, response: Timeline },
  'frames.get': {
    request: z.object({ analysisId: Id, frameIndex: z.number().int().min(0) }).strict(),
    response: FrameSummary,
  },
  'frames.top': {
    request: z
      .object({
        analysisId: Id,
        offset: z.number().int().min(0).max(100_000_000).default(0),
        limit: z.number().int().min(1).max(1000).default(100),
        minScore: z.number().min(-1).max(2).optional(),
        classIndex: z.number().int().min(0).max(255).optional(),
        flaggedOnly: z.boolean().optional(),
      })
      .strict(),
    response: z.object({ total: z.number().int(), frames: z.array(FrameSummary) }),
  },
  'frames.regions': {
    request: z.object({ analysisId: Id, frameIndex: z.number().int().min(0) }).strict(),
    response: FrameRegions,
  },
  'events.list': {
    /** With settings, events are recomputed with them and stored; without, the stored ones come back. */
    request: z.object({ analysisId: Id, settings: EventSettings.optional() }).strict(),
    response: z.object({ settings: EventSettings, events: z.array(EventInfo) }),
  },
  'events.preview': {
    /** How many events these settings would give, computed but not stored: the count shown while dragging. */
    request: z.object({ analysisId: Id, settings: EventSettings }).strict(),
    response: z.object({ count: z.number().int() }),
  },
  'flags.list': { request: SessionRef, response: z.array(Flag) },
  'flags.add': {
    request: z
      .object({
        analysisId: Id,
        frameIndex: z.number().int().min(0).optional(),
        /** Flag a whole event: its peak frame carries the flag and the event id. */
        eventId: Id.optional(),
        category: FlagCategory.default('hazard'),
        note: z.string().max(2000).default(''),
      })
      .strict()
      .refine((value) => value.frameIndex !== undefined || value.eventId !== undefined, 'Give frameIndex or eventId'),
    response: Flag,
  },
  'flags.update': {
    request: z
      .object({ flagId: Id, category: FlagCategory.optional(), note: z.string().max(2000).optional() })
      .strict(),
    response: Flag,
  },
  'flags.remove': { request: z.object({ flagId: Id }).strict(), response: Ok },
  /** "Find more like this": regions of every analysis made with the same model, nearest first (docs/similar.md). */
  'similar.find': {
    request: z
      .object({
        analysisId: Id,
        frameIndex: z.number().int().min(0),
        query: SimilarQuery,
        /** Search unknown regions only (the default), or known-class components too. */
        among: z.enum(['unknown', 'all']).default('unknown'),
        limit: z.number().int().min(1).max(1000).default(100),
        /** Leave out results farther than this squared distance. */
        maxDistance: z.number().min(0).optional(),
      })
      .strict(),
    response: SimilarAnswer,
  },
} as const;

export const libraryNotifications = {
  /** Sent on every state change and about twice a second while running. */
  'analysis.progress': AnalysisInfo,
  'sessions.changed': z.object({ sessionId: Id.nullable() }),
} as const;
