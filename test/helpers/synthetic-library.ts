/**
 * Sessions with an analysis written straight into a library through the library's own store, without footage
 * or a model: the store's unit tests, the long-drive performance test and the jobs and server benchmarks
 * (bench/) build their libraries with it.
 */
import type { ProbedSource } from '../../src-main/footage/index.js';
import type { Library, NewAnalysis, StoredFrame } from '../../src-main/library/index.js';

export interface SyntheticSession {
  frames: number;
  /** Frame `index` as stored; called once per frame, in index order. */
  frame(index: number): StoredFrame;
  name?: string;
  /** Default: one synthetic 480x360 video of `frames` frames at 2 fps. */
  sources?: ProbedSource[];
  /** What differs from a 480x360 model named "synthetic" with no classes, run at 2 fps. */
  analysis?: Partial<Omit<NewAnalysis, 'sessionId' | 'framesTotal'>>;
  /** Frames per write transaction. */
  batch?: number;
}

/** A 480x360 video of `frames` frames, `frameMs` apart, that exists only in the library. */
export function syntheticVideo(frames: number, frameMs: number, path = '/synthetic.mp4'): ProbedSource {
  return {
    path,
    kind: 'video',
    durationMs: frames * frameMs,
    fps: 1000 / frameMs,
    width: 480,
    height: 360,
    rotation: 0,
    createdAt: null,
    sha256: '0'.repeat(64),
    frameCount: frames,
    startMs: 0,
    codec: 'h264',
    images: null,
  };
}

const SMALL_BLOB = Buffer.alloc(2000, 7);

/** Frames 500 ms apart scored like a drive: low noise with bursts every few hundred frames; 2 kB maps and preview. */
export function driveLikeFrame(index: number): StoredFrame {
  const burst = Math.sin(index / 37) > 0.97 ? 0.5 : 0;
  const score = Math.min(1, 0.1 + 0.2 * Math.abs(Math.sin(index * 12.9898) * 0.5) + burst);
  return {
    index,
    sourceIndex: 0,
    timeMs: index * 500,
    score,
    unknownFraction: score / 10,
    largestRegion: null,
    classAreas: Array.from({ length: 11 }, () => 1 / 11),
    regions: { mapWidth: 480, mapHeight: 360, regions: [] },
    classMapPng: SMALL_BLOB,
    oodMapPng: SMALL_BLOB,
    previewJpeg: SMALL_BLOB,
  };
}

/** Writes the session, its analysis and its frames; insertSeconds is the time the frames took. */
export async function writeSyntheticSession(
  store: Library,
  session: SyntheticSession,
): Promise<{ sessionId: number; analysisId: number; insertSeconds: number }> {
  const { frames, batch = 1000 } = session;
  const created = await store.sessions.create(
    session.name ?? 'synthetic',
    session.sources ?? [syntheticVideo(frames, 500)],
    null,
  );
  const plan = await store.analyses.create({
    modelName: 'synthetic',
    modelSha256: '0'.repeat(64),
    knowledgeVersion: null,
    sampleFps: 2,
    inputWidth: 480,
    inputHeight: 360,
    classes: [],
    threshold: 0.5,
    pixelThreshold: 0.3,
    ...session.analysis,
    sessionId: created.id,
    framesTotal: frames,
  });
  const insertStart = performance.now();
  for (let first = 0; first < frames; first += batch) {
    await store.frames.write(
      plan.id,
      Array.from({ length: Math.min(batch, frames - first) }, (_, i) => session.frame(first + i)),
    );
  }
  return { sessionId: created.id, analysisId: plan.id, insertSeconds: (performance.now() - insertStart) / 1000 };
}
