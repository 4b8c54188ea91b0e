/**
 * How well the magic wand and the metric-space view pick out objects, model against model, on the CamVid val
 * frames (docs/models.md, "The wand and the metric-space view"). Both go through the app's own teaching service,
 * as the teaching panel calls it, on a throwaway library:
 * - wand: every ground-truth object (an 8-connected component of one class, at least MIN_OBJECT_PIXELS at the
 *   model's map size) of the object classes is clicked at its pixel nearest its centre; the figure is the IoU of
 *   the selection against the object, at the panel's default distance and at the best distance of a grid (a
 *   user who moves the slider, one best distance per object);
 * - view: the panel's point cloud (PCA to three axes, and the neighbours layout of the same points) with each
 *   point labelled by ground truth; per class, the share of its points' nearest neighbours in the view that carry
 *   the same label (kNN purity): how much of a class a lasso round its points would take without taking others.
 *   The same in the embedding itself (the engine's, for the same points) tells what the view loses of it.
 *
 *   node --import tsx scripts/measure-teaching-tools.ts [--model camvid-open --model camvid-open-imagenet --model road]
 *     [--every N] [--json]
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { decodeRle } from '../src-shared/contract/index.js';
import { integerFlag } from '../src-main/cli/command.js';
import { defaultModelsDir, packageRoot } from '../src-main/core/paths.js';
import { decodeImageFile, decodeLabelPng, openEngine, readModelCard, type Engine } from '../src-main/engine/index.js';
import { labelComponents } from '../src-main/engine/regions.js';
import { listCamvidSamples, type Sample } from '../src-main/evaluation/samples.js';
import { openLibrary } from '../src-main/library/index.js';
import { createTeachingService, type TeachingService } from '../src-main/teaching/index.js';
import { resizeNearest } from '../src-main/teaching/images.js';
import { nearestNeighbours, neighboursKept } from '../src-main/teaching/neighbour-layout.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string', multiple: true, default: ['camvid-open', 'camvid-open-imagenet', 'road'] },
    every: { type: 'string', default: '1' },
    json: { type: 'boolean' },
  },
});
const CAMVID = join(packageRoot(), '..', 'shared', 'datasets', 'camvid');
/** Things a reviewer clicks on; the stuff classes (road, sky, building, ...) are not objects. */
const OBJECT_CLASSES = ['pedestrian', 'bicyclist', 'car', 'pole', 'sign'];
const MIN_OBJECT_PIXELS = 200;
/** The teaching panel's default wand distance (src-renderer/src/teaching/draft.ts). */
const PANEL_WAND_DISTANCE = 1;
const WAND_DISTANCES = Array.from({ length: 12 }, (_, i) => (i + 1) * 0.25);
const CLOUD_POINTS = 5000;
const NEIGHBOURS = 10;

interface ClassFigures {
  objects: number;
  wandIouAtDefault: number[];
  wandIouBest: number[];
  viewPurity: number[];
  layoutPurity: number[];
  embeddingPurity: number[];
}

interface ModelFigures {
  model: string;
  sha256: string;
  frames: number;
  explained: number[];
  /** The share of each point's 10 nearest neighbours in the embedding kept in the view, mean over frames. */
  neighboursKept: { pca: number; layout: number };
  classes: Record<string, ClassFigures>;
}

/** CamVid's label ids and names: points and objects are labelled by the dataset, whatever classes a model has. */
function camvidClasses(): Map<number, string> {
  const { classes, ignoreIndex } = JSON.parse(readFileSync(join(CAMVID, 'classes.json'), 'utf8')) as {
    classes: { id: number; name: string }[];
    ignoreIndex: number;
  };
  return new Map(classes.filter((cls) => cls.id !== ignoreIndex).map((cls) => [cls.id, cls.name]));
}

function iou(a: Uint8Array, b: Uint8Array): number {
  let both = 0;
  let either = 0;
  for (let i = 0; i < a.length; i++) {
    if (a[i] || b[i]) either++;
    if (a[i] && b[i]) both++;
  }
  return either ? both / either : 0;
}

/** The object's pixel nearest its centre: where a user clicks, and inside the object even when it is not convex. */
function clickPoint(pixels: number[], width: number): { x: number; y: number } {
  const cx = pixels.reduce((sum, p) => sum + (p % width), 0) / pixels.length;
  const cy = pixels.reduce((sum, p) => sum + Math.floor(p / width), 0) / pixels.length;
  let best = pixels[0]!;
  let bestDistance = Infinity;
  for (const p of pixels) {
    const d = ((p % width) - cx) ** 2 + (Math.floor(p / width) - cy) ** 2;
    if (d < bestDistance) [best, bestDistance] = [p, d];
  }
  return { x: best % width, y: Math.floor(best / width) };
}

function objectsOf(labels: Uint8Array, datasetId: number, width: number, height: number): number[][] {
  const components = labelComponents(labels, datasetId, width, height);
  const objects: number[][] = Array.from({ length: components.count }, () => []);
  components.labels.forEach((label, p) => label && objects[label - 1]!.push(p));
  return objects.filter((pixels) => pixels.length >= MIN_OBJECT_PIXELS);
}

async function measureWand(
  service: TeachingService,
  model: string,
  sample: Sample,
  object: number[],
  width: number,
  height: number,
): Promise<{ atDefault: number; best: number }> {
  const truth = new Uint8Array(width * height);
  for (const p of object) truth[p] = 1;
  const click = clickPoint(object, width);
  const scores = new Map<number, number>();
  for (const maxDistance of [PANEL_WAND_DISTANCE, ...WAND_DISTANCES]) {
    if (scores.has(maxDistance)) continue;
    const answer = await service.wand({ model, frame: { imagePath: sample.image }, ...click, maxDistance });
    scores.set(maxDistance, iou(decodeRle(answer.mask), truth));
  }
  return { atDefault: scores.get(PANEL_WAND_DISTANCE)!, best: Math.max(...scores.values()) };
}

/**
 * Per class present: the mean share of each point's nearest neighbours that carry its class. Points are rows of
 * `dim` numbers: the view's three coordinates, or the embedding itself.
 */
function neighbourPurity(points: Float32Array, dim: number, classOf: (string | undefined)[]): Map<string, number> {
  const count = classOf.length;
  const sums = new Map<string, { total: number; points: number }>();
  const nearest = new Float64Array(NEIGHBOURS);
  const nearestIndex = new Int32Array(NEIGHBOURS);
  for (let i = 0; i < count; i++) {
    const name = classOf[i];
    if (!name) continue;
    nearest.fill(Infinity);
    for (let j = 0; j < count; j++) {
      if (j === i || !classOf[j]) continue;
      let d = 0;
      for (let c = 0; c < dim; c++) d += (points[i * dim + c]! - points[j * dim + c]!) ** 2;
      if (d >= nearest[NEIGHBOURS - 1]!) continue;
      let k = NEIGHBOURS - 1;
      for (; k > 0 && nearest[k - 1]! > d; k--) [nearest[k], nearestIndex[k]] = [nearest[k - 1]!, nearestIndex[k - 1]!];
      [nearest[k], nearestIndex[k]] = [d, j];
    }
    let same = 0;
    for (const j of nearestIndex) if (classOf[j] === name) same++;
    const entry = sums.get(name) ?? { total: 0, points: 0 };
    entry.total += same / NEIGHBOURS;
    entry.points++;
    sums.set(name, entry);
  }
  return new Map([...sums].map(([name, { total, points }]) => [name, total / points]));
}

/** The embedding rows of the cloud's points, as the engine computes them for the same frame. */
async function embeddingRows(engine: Engine, sample: Sample, pixels: ArrayLike<number>): Promise<Float32Array> {
  const result = await engine.analyze(await decodeImageFile(sample.image), { keepEmbedding: true });
  const dim = engine.embeddingDim;
  const total = result.width * result.height;
  const rows = new Float32Array(pixels.length * dim);
  for (let i = 0; i < pixels.length; i++)
    for (let c = 0; c < dim; c++) rows[i * dim + c] = result.embedding![c * total + pixels[i]!]!;
  return rows;
}

async function measureModel(
  service: TeachingService,
  engine: Engine,
  model: string,
  samples: Sample[],
): Promise<ModelFigures> {
  const { sha256 } = await readModelCard(defaultModelsDir(), model);
  const names = camvidClasses();
  const classes: Record<string, ClassFigures> = {};
  const figuresOf = (name: string) =>
    (classes[name] ??= {
      objects: 0,
      wandIouAtDefault: [],
      wandIouBest: [],
      viewPurity: [],
      layoutPurity: [],
      embeddingPurity: [],
    });
  const explained: number[][] = [];
  const kept = { pca: [] as number[], layout: [] as number[] };
  for (const [n, sample] of samples.entries()) {
    const cloud = await service.embeddings({
      model,
      frame: { imagePath: sample.image },
      samples: CLOUD_POINTS,
      axes: 'pca',
    });
    const { width, height } = cloud;
    const label = await decodeLabelPng(sample.label);
    const labels = resizeNearest(label.data, label.width, label.height, width, height);
    explained.push(cloud.explained);
    const classOf = Array.from(cloud.pixels, (p) => names.get(labels[p]!));
    for (const [name, purity] of neighbourPurity(cloud.positions, 3, classOf)) figuresOf(name).viewPurity.push(purity);
    // The same points (the sample is seeded by the frame), laid out by their neighbours.
    const layout = await service.embeddings({
      model,
      frame: { imagePath: sample.image },
      samples: CLOUD_POINTS,
      axes: 'neighbours',
    });
    assert.deepEqual(layout.pixels, cloud.pixels);
    kept.layout.push(layout.neighboursKept!);
    for (const [name, purity] of neighbourPurity(layout.positions, 3, classOf))
      figuresOf(name).layoutPurity.push(purity);
    const rows = await embeddingRows(engine, sample, cloud.pixels);
    kept.pca.push(neighboursKept(nearestNeighbours(rows, engine.embeddingDim, NEIGHBOURS), cloud.positions));
    for (const [name, purity] of neighbourPurity(rows, engine.embeddingDim, classOf))
      figuresOf(name).embeddingPurity.push(purity);
    for (const [datasetId, name] of names) {
      if (!OBJECT_CLASSES.includes(name)) continue;
      for (const object of objectsOf(labels, datasetId, width, height)) {
        const { atDefault, best } = await measureWand(service, model, sample, object, width, height);
        const figures = figuresOf(name);
        figures.objects++;
        figures.wandIouAtDefault.push(atDefault);
        figures.wandIouBest.push(best);
      }
    }
    if (!values.json) process.stderr.write(`\r${model}: ${n + 1}/${samples.length} frames`);
  }
  if (!values.json) process.stderr.write('\n');
  const meanExplained = [0, 1, 2].map((axis) => mean(explained.map((row) => row[axis] ?? NaN)));
  return {
    model,
    sha256,
    frames: samples.length,
    explained: meanExplained,
    neighboursKept: { pca: mean(kept.pca), layout: mean(kept.layout) },
    classes,
  };
}

const mean = (list: number[]) => (list.length ? list.reduce((a, b) => a + b, 0) / list.length : NaN);
const percent = (value: number) => (Number.isFinite(value) ? (100 * value).toFixed(1) : '-');

function printTable(results: ModelFigures[]): void {
  const names = [...new Set(results.flatMap((result) => Object.keys(result.classes)))].sort();
  console.log(`val frames: ${results[0]?.frames}; wand at distance ${PANEL_WAND_DISTANCE} / best of 0.25-3.0;`);
  console.log(
    `view: ${CLOUD_POINTS} points, ${NEIGHBOURS} nearest neighbours in the PCA view, the neighbours layout and the embedding\n`,
  );
  for (const result of results) {
    const share = result.explained.map((value) => percent(value)).join(' / ');
    console.log(
      `${result.model} (sha256 ${result.sha256.slice(0, 12)}), PCA axes explain ${share}%, ` +
        `neighbours kept: PCA ${percent(result.neighboursKept.pca)}%, neighbours layout ${percent(result.neighboursKept.layout)}%`,
    );
    console.log(
      'class        objects  wand IoU (default)  wand IoU (best)  kNN purity: PCA view  neighbours layout  embedding',
    );
    for (const name of names) {
      const figures = result.classes[name];
      if (!figures) continue;
      const cells = [
        name.padEnd(12),
        (figures.objects ? String(figures.objects) : '-').padStart(7),
        percent(mean(figures.wandIouAtDefault)).padStart(19),
        percent(mean(figures.wandIouBest)).padStart(16),
        percent(mean(figures.viewPurity)).padStart(20),
        percent(mean(figures.layoutPurity)).padStart(17),
        percent(mean(figures.embeddingPurity)).padStart(9),
      ];
      console.log(cells.join('  '));
    }
    console.log('');
  }
}

async function main(): Promise<void> {
  const every = integerFlag('every', values.every, 1);
  const samples = listCamvidSamples(join(CAMVID, 'val'), '--val').filter((_, i) => i % every === 0);
  const directory = mkdtempSync(join(tmpdir(), 'dmlreview-teaching-tools-'));
  const library = await openLibrary(join(directory, 'library.sqlite'));
  const service = createTeachingService(library, defaultModelsDir());
  try {
    const results: ModelFigures[] = [];
    for (const model of values.model) {
      const engine = await openEngine(defaultModelsDir(), model);
      try {
        results.push(await measureModel(service, engine, model, samples));
      } finally {
        await engine.dispose();
      }
    }
    if (values.json) console.log(JSON.stringify(results));
    else printTable(results);
  } finally {
    await service.close();
    await library.close();
    rmSync(directory, { recursive: true, force: true });
  }
}

await main();
