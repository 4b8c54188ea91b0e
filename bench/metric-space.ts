/**
 * `npm run bench -- metric-space`: what the metric-space view waits for once a frame is embedded, through the
 * teaching service as the panel calls it (the frame's embedding is cached by a first call, so the figures are the
 * placing alone): PCA of 20,000 points, and the neighbours layout of 2,000 and 5,000 (its own thread included),
 * with the share of neighbours the layout keeps; then the layout alone on this thread, which tells the thread's
 * start (under tsx, as here, it loads the TypeScript loader first; the app's bundled worker starts faster).
 * Val frames spread over the drive, `camvid-open`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CloudAxes } from '../src-shared/contract/index.js';
import { defaultModelsDir, packageRoot } from '../src-main/core/paths.js';
import { listCamvidSamples } from '../src-main/evaluation/samples.js';
import { openLibrary } from '../src-main/library/index.js';
import { decodeImageFile, openEngine } from '../src-main/engine/index.js';
import { createTeachingService } from '../src-main/teaching/index.js';
import { layoutByNeighbours } from '../src-main/teaching/neighbour-layout.js';
import { sampledRows } from '../src-main/teaching/prototypes.js';

const MODEL = process.env.BENCH_METRIC_MODEL ?? 'camvid-open';
const FRAMES = Number(process.env.BENCH_METRIC_FRAMES ?? 5);
const CASES: { axes: CloudAxes; samples: number }[] = [
  { axes: 'pca', samples: 20_000 },
  { axes: 'neighbours', samples: 2_000 },
  { axes: 'neighbours', samples: 5_000 },
];

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;

export const metricSpaceBench = {
  name: 'metric-space',
  async run() {
    const all = listCamvidSamples(join(packageRoot(), '..', 'shared', 'datasets', 'camvid', 'val'), '--val');
    const frames = Array.from({ length: FRAMES }, (_, i) => all[Math.floor((i * all.length) / FRAMES)]!);
    const directory = mkdtempSync(join(tmpdir(), 'dmlreview-bench-metric-'));
    const library = await openLibrary(join(directory, 'library.sqlite'));
    const service = createTeachingService(library, defaultModelsDir());
    try {
      const times = CASES.map(() => [] as number[]);
      const kept = CASES.map(() => [] as number[]);
      for (const sample of frames) {
        const frame = { imagePath: sample.image };
        await service.embeddings({ model: MODEL, frame, samples: 100, axes: 'pca' });
        for (const [n, { axes, samples }] of CASES.entries()) {
          const started = performance.now();
          const cloud = await service.embeddings({ model: MODEL, frame, samples, axes });
          times[n]!.push(performance.now() - started);
          if (cloud.neighboursKept !== null) kept[n]!.push(cloud.neighboursKept);
        }
      }
      console.log(`${MODEL}, ${FRAMES} val frames, median (min-max) per frame, the frame already embedded:`);
      for (const [n, { axes, samples }] of CASES.entries()) {
        const ms = times[n]!;
        const share = kept[n]!.length ? `, keeps ${(100 * median(kept[n]!)).toFixed(0)}% of 10 nearest` : '';
        console.log(
          `  ${axes.toString().padEnd(10)} ${samples.toLocaleString('en').padStart(6)} points: ` +
            `${median(ms).toFixed(0)} ms (${Math.min(...ms).toFixed(0)}-${Math.max(...ms).toFixed(0)})${share}`,
        );
      }
      await layoutAlone(frames.map((sample) => sample.image));
    } finally {
      await service.close();
      await library.close();
      rmSync(directory, { recursive: true, force: true });
    }
  },
};

/** layoutByNeighbours on this thread, on the pixels the service samples from each frame's embedding. */
async function layoutAlone(images: string[]): Promise<void> {
  const counts = [2_000, 5_000];
  const ms = counts.map(() => [] as number[]);
  const engine = await openEngine(defaultModelsDir(), MODEL);
  try {
    for (const image of images) {
      const result = await engine.analyze(await decodeImageFile(image), { keepEmbedding: true });
      const embedding = { dim: engine.embeddingDim, pixels: result.width * result.height, data: result.embedding! };
      for (const [n, count] of counts.entries()) {
        const { rows } = sampledRows(embedding, count);
        const started = performance.now();
        layoutByNeighbours(rows, embedding.dim);
        ms[n]!.push(performance.now() - started);
      }
    }
  } finally {
    await engine.dispose();
  }
  for (const [n, count] of counts.entries())
    console.log(
      `  the layout alone, ${count.toLocaleString('en').padStart(5)} points: ${median(ms[n]!).toFixed(0)} ms`,
    );
}
