import { z } from 'zod';
import { FilePath, Id, ModelName, Ok, Rgb } from './common.js';
import { packed } from './packed.js';

/** Masks and map coordinates are at a model's output size: far below this on any model we ship or can run. */
const MAX_MAP_SIDE = 4096;
/** Embedding values and taught distances are of order 1-100; this keeps squared sums finite in float32. */
const MAX_EMBEDDING_VALUE = 1e4;

/**
 * A binary mask at the model's output size, run-length encoded: `counts` alternates runs of 0 and 1 in
 * row-major order, starting with a (possibly empty) run of 0. A 480x360 object mask is a few hundred numbers.
 */
export const RleMask = z.object({
  width: z.number().int().positive().max(MAX_MAP_SIDE),
  height: z.number().int().positive().max(MAX_MAP_SIDE),
  counts: z
    .array(
      z
        .number()
        .int()
        .min(0)
        .max(MAX_MAP_SIDE * MAX_MAP_SIDE),
    )
    .max(MAX_MAP_SIDE * MAX_MAP_SIDE + 1),
});
export type RleMask = z.infer<typeof RleMask>;

export function encodeRle(mask: ArrayLike<number>, width: number, height: number): RleMask {
  const counts: number[] = [];
  let current = 0;
  let run = 0;
  for (let i = 0; i < width * height; i++) {
    const bit = mask[i] ? 1 : 0;
    if (bit !== current) {
      counts.push(run);
      current = bit;
      run = 0;
    }
    run++;
  }
  counts.push(run);
  return { width, height, counts };
}

/** Decodes a mask; throws when the runs do not cover exactly width x height pixels. */
export function decodeRle(rle: RleMask): Uint8Array {
  const total = rle.width * rle.height;
  const mask = new Uint8Array(total);
  let position = 0;
  rle.counts.forEach((run, i) => {
    if (position + run > total)
      throw new RangeError(`The mask's runs cover more than its ${rle.width}x${rle.height} pixels`);
    if (i % 2 === 1) mask.fill(1, position, position + run);
    position += run;
  });
  if (position !== total)
    throw new RangeError(`The mask's runs cover ${position} pixels, not its ${rle.width}x${rle.height}`);
  return mask;
}

/** A frame to teach from: one of an analysed session's frames, or an image file on the main side. */
export const FrameRef = z.union([
  z.object({ analysisId: Id, frameIndex: z.number().int().min(0) }).strict(),
  z.object({ imagePath: FilePath }).strict(),
]);
export type FrameRef = z.infer<typeof FrameRef>;

export const ShotInput = z.object({ frame: FrameRef, mask: RleMask }).strict();
export type ShotInput = z.infer<typeof ShotInput>;

export const TaughtShot = z.object({
  /** Null for a class imported from another library: its frames are not here, only their description. */
  frame: FrameRef.nullable(),
  description: z.string(),
  /** Marked pixels in this shot. */
  pixels: z.number().int(),
});

export const TaughtClassInfo = z.object({
  id: Id,
  name: z.string(),
  color: Rgb,
  enabled: z.boolean(),
  modelSha256: z.string(),
  prototypes: z.array(z.array(z.number())),
  /** Squared distance under which a pixel may join the class (it must also beat every built-in prototype). */
  acceptanceRadius: z.number(),
  shots: z.array(TaughtShot),
  createdBy: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type TaughtClassInfo = z.infer<typeof TaughtClassInfo>;

/** Something the user should look at before trusting a class, e.g. a prototype almost on top of another class. */
export const TeachingWarning = z.object({
  code: z.enum(['near_existing_class']),
  message: z.string(),
  /** Euclidean distance to the nearest existing prototype. */
  distance: z.number(),
  className: z.string(),
});
export type TeachingWarning = z.infer<typeof TeachingWarning>;

const TeachRequest = z
  .object({
    model: ModelName.optional(),
    name: z.string().trim().min(1).max(64),
    shots: z.array(ShotInput).min(1).max(5),
    /** Prototypes per class (k-means over the marked pixels); 1 is NPM. */
    prototypes: z.number().int().min(1).max(3).default(1),
  })
  .strict();

/** What one shot frame looks like before and after the class is added. */
export const ShotPreview = z.object({
  frame: FrameRef,
  width: z.number().int(),
  height: z.number().int(),
  /** Pixels the current model leaves unknown (before), and pixels the new class takes (after). */
  unknownBefore: RleMask,
  taughtAfter: RleMask,
  /** Share of the marked pixels the new class takes, and pixels it takes outside the mask. */
  maskRecall: z.number(),
  pixelsOutsideMask: z.number().int(),
});

export const TeachingPreview = z.object({
  prototypes: z.array(z.array(z.number())),
  acceptanceRadius: z.number(),
  warnings: z.array(TeachingWarning),
  shots: z.array(ShotPreview),
});

export const KnowledgeDocument = z.object({
  format: z.literal('dmlreview-knowledge/1'),
  modelName: z.string().max(200),
  modelSha256: z.string().max(128),
  embeddingDim: z.number().int().positive().max(4096),
  exportedAt: z.string().max(64),
  classes: z
    .array(
      z.object({
        name: z.string().trim().min(1).max(64),
        color: Rgb,
        enabled: z.boolean(),
        prototypes: z
          .array(z.array(z.number().min(-MAX_EMBEDDING_VALUE).max(MAX_EMBEDDING_VALUE)).max(4096))
          .min(1)
          .max(3),
        acceptanceRadius: z
          .number()
          .positive()
          .max(MAX_EMBEDDING_VALUE ** 2),
        createdBy: z.string().max(100),
        createdAt: z.string().max(64),
        shots: z
          .array(z.object({ description: z.string().max(1000), pixels: z.number().int().min(0).max(1e9) }))
          .max(5),
      }),
    )
    // Class indices 0..254 are all a model can name (255 is unknown).
    .max(255),
});
export type KnowledgeDocument = z.infer<typeof KnowledgeDocument>;

const ClassRef = z.object({ classId: Id }).strict();
const Channel = z.number().int().min(0).max(4095);
const ModelRef = z.object({ model: ModelName.optional() }).strict();

/**
 * How the metric-space view places points: PCA's three axes; three embedding channels as x, y, z; or the
 * neighbours layout (UMAP), which keeps each pixel's nearest neighbours in the embedding near it in the view.
 */
export const CloudAxes = z.union([z.enum(['pca', 'neighbours']), z.tuple([Channel, Channel, Channel])]);
export type CloudAxes = z.infer<typeof CloudAxes>;
/** The neighbours layout's cost grows with the square of the points: it draws at most this many. */
export const NEIGHBOURS_LAYOUT_MAX_POINTS = 5_000;

export const EmbeddingCloud = z
  .object({
    width: z.number().int(),
    height: z.number().int(),
    /** x, y, z per point, placed as the request's axes say. */
    positions: packed(Float32Array),
    /** Pixel indices (row-major at width x height), one per point. */
    pixels: packed(Uint32Array),
    /** A class index per point; 255 = unknown. */
    classes: packed(Uint8Array),
    count: z.number().int(),
    /** Embedding size D: the channels a caller may choose as axes. */
    dim: z.number().int(),
    /** Share of the variance each of the three axes explains; empty for the neighbours layout. */
    explained: z.array(z.number()),
    /**
     * The neighbours layout's mean share of each point's 10 nearest points in the embedding that are also among
     * its 10 nearest in the view; null for the linear axes, where it is not computed.
     */
    neighboursKept: z.number().nullable(),
    /**
     * Every class's prototypes, placed as the points are; the neighbours layout leaves out those of classes with
     * no point in the sample, for which it has no place.
     */
    prototypes: z.array(
      z.object({
        name: z.string(),
        color: Rgb,
        taught: z.boolean(),
        position: z.tuple([z.number(), z.number(), z.number()]),
      }),
    ),
    classColors: z.array(Rgb),
    classNames: z.array(z.string()),
  })
  .refine(
    (cloud) =>
      cloud.positions.length === cloud.count * 3 &&
      cloud.pixels.length === cloud.count &&
      cloud.classes.length === cloud.count,
    { message: 'positions, pixels and classes must hold count points each' },
  );
export type EmbeddingCloud = z.infer<typeof EmbeddingCloud>;

export const teachingMethods = {
  'teaching.classes.list': {
    request: ModelRef,
    response: z.object({
      knowledgeVersion: z.number().int().nullable(),
      modelSha256: z.string(),
      classes: z.array(TaughtClassInfo),
    }),
  },
  'teaching.preview': { request: TeachRequest, response: TeachingPreview },
  'teaching.teach': {
    request: TeachRequest.extend({ color: Rgb, author: z.string().max(100).optional() }).strict(),
    response: z.object({
      taughtClass: TaughtClassInfo,
      knowledgeVersion: z.number().int(),
      warnings: z.array(TeachingWarning),
    }),
  },
  'teaching.update': {
    request: z
      .object({
        classId: Id,
        name: z.string().trim().min(1).max(64).optional(),
        color: Rgb.optional(),
        enabled: z.boolean().optional(),
      })
      .strict(),
    response: z.object({ taughtClass: TaughtClassInfo, knowledgeVersion: z.number().int() }),
  },
  'teaching.delete': { request: ClassRef, response: Ok.extend({ knowledgeVersion: z.number().int() }) },
  'teaching.export': { request: ModelRef, response: KnowledgeDocument },
  'teaching.import': {
    /** The document as read from a file: validated on the main side so a corrupt file gets a clear error. */
    request: z
      .object({
        model: ModelName.optional(),
        document: z
          .string()
          .min(1)
          .max(16 * 2 ** 20),
      })
      .strict(),
    response: z.object({
      imported: z.array(z.string()),
      skipped: z.array(z.string()),
      knowledgeVersion: z.number().int(),
    }),
  },
  'teaching.wand': {
    request: z
      .object({
        model: ModelName.optional(),
        frame: FrameRef,
        x: z.number().int().min(0).max(MAX_MAP_SIDE),
        y: z.number().int().min(0).max(MAX_MAP_SIDE),
        maxDistance: z.number().positive().max(MAX_EMBEDDING_VALUE),
      })
      .strict(),
    response: z.object({ mask: RleMask, pixels: z.number().int() }),
  },
  'teaching.embeddings': {
    request: z
      .object({
        model: ModelName.optional(),
        frame: FrameRef,
        /** Points drawn: by default 20,000, or NEIGHBOURS_LAYOUT_MAX_POINTS for the neighbours layout. */
        samples: z.number().int().min(100).max(100_000).optional(),
        axes: CloudAxes.default('pca'),
      })
      .strict()
      .refine((request) => request.axes !== 'neighbours' || (request.samples ?? 0) <= NEIGHBOURS_LAYOUT_MAX_POINTS, {
        message: `The neighbours layout draws at most ${NEIGHBOURS_LAYOUT_MAX_POINTS.toLocaleString('en')} points: ask for fewer samples`,
        path: ['samples'],
      }),
    response: EmbeddingCloud,
  },
  'teaching.reanalyse': {
    request: z.object({ sessionIds: z.array(Id).min(1).max(1000), model: ModelName.optional() }).strict(),
    response: z.object({ analysisIds: z.array(Id), knowledgeVersion: z.number().int().nullable() }),
  },
} as const;
