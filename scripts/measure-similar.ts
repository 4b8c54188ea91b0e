/**
 * "Find more like this" measured on the val drive (docs/similar.md, "Measured"). The drive (0016E5-val.mp4,
 * frame i = the i-th val image in name order) is analysed with camvid-open, for which pedestrians and
 * bicyclists are unknown, into a fresh library. Queries: the described unknown regions that are mostly (half
 * their pixels or more) labelled bicyclist; "the" query is the one with most bicyclist pixels, and the mean over
 * all of them is printed too. A result is right when at least a tenth of its region's pixels are labelled
 * bicyclist (rules fixed before any run, not tuned). Each query ranks every other frame's described unknown
 * regions twice: by the stored mean embedding (the product's search, SimilarSearch) and, as the baseline, by a
 * plain colour histogram of the region's pixels (8 x 8 x 8 RGB bins, normalised, squared L2).
 *
 *   node --import tsx scripts/measure-similar.ts [--model camvid-open] [--json]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { packageRoot } from '../src-main/core/paths.js';
import {
  decodeClassMapPng,
  decodeImageFile,
  decodeLabelPng,
  componentRuns,
  labelAllComponents,
  numberComponents,
  UNKNOWN_CLASS,
} from '../src-main/engine/index.js';
import { openLibrary } from '../src-main/library/index.js';
import { SimilarSearch } from '../src-main/similar/index.js';

const { values } = parseArgs({
  options: { model: { type: 'string', default: 'camvid-open' }, json: { type: 'boolean' } },
});
const camvid = join(packageRoot(), '..', 'shared', 'datasets', 'camvid');
const BICYCLIST = 10;
const QUERY_SHARE = 0.5;
const RIGHT_SHARE = 0.1;
const BINS = 8;
const KS = [10, 50];

interface Candidate {
  frame: number;
  pixel: number; // one map pixel of the region (a point query)
  pixels: number;
  bicyclist: number;
  histogram: Float64Array;
}

const library = join(mkdtempSync(join(tmpdir(), 'dml-measure-similar-')), 'library.sqlite');
execFileSync(
  process.execPath,
  [
    '--import',
    'tsx',
    join(packageRoot(), 'src-main', 'cli', 'index.ts'),
    'analyze',
    join(camvid, 'footage', '0016E5-val.mp4'),
    '--library',
    library,
    '--model',
    values.model,
    '--fps',
    'all',
    '--json',
  ],
  { stdio: ['ignore', 'ignore', 'inherit'] },
);
const store = await openLibrary(library);
const images = readdirSync(join(camvid, 'val', 'images')).sort();
const candidates: Candidate[] = [];
for (let frame = 0; frame < images.length; frame++) {
  const described = await store.descriptors.frame(1, frame);
  if (!described) continue;
  const { width, height, classMap } = decodeClassMapPng((await store.frames.map(1, frame, 'class_map'))!);
  const label = await decodeLabelPng(join(camvid, 'val', 'labels', images[frame]!.replace(/\.jpg$/, '.png')));
  const image = await decodeImageFile(join(camvid, 'val', 'images', images[frame]!));
  if (label.width !== width || image.width !== width)
    throw new Error(`frame ${frame}: maps, labels and images differ in size`);
  const components = labelAllComponents(classMap, width, height);
  const numbered = numberComponents(componentRuns(classMap, width, height), classMap);
  for (const region of described.regions) {
    if (region.classIndex !== UNKNOWN_CLASS) continue;
    const label1 =
      numbered.findIndex((n) => n.classIndex === UNKNOWN_CLASS && n.regionIndex === region.regionIndex) + 1;
    const histogram = new Float64Array(BINS ** 3);
    let bicyclist = 0;
    let pixel = -1;
    for (let p = 0; p < width * height; p++) {
      if (components.labels[p] !== label1) continue;
      if (pixel < 0) pixel = p;
      if (label.data[p] === BICYCLIST) bicyclist++;
      const bin = (c: number) => Math.floor((image.data[p * 3 + c]! * BINS) / 256);
      histogram[(bin(0) * BINS + bin(1)) * BINS + bin(2)]! += 1 / region.pixels;
    }
    candidates.push({ frame, pixel, pixels: region.pixels, bicyclist, histogram });
  }
}
const right = (c: Candidate) => c.bicyclist >= RIGHT_SHARE * c.pixels;
const queries = candidates
  .filter((c) => c.bicyclist >= QUERY_SHARE * c.pixels)
  .sort((a, b) => b.bicyclist - a.bicyclist);
if (queries.length === 0) throw new Error('no described unknown region is mostly bicyclist');

const precision = (ranked: Candidate[], k: number) => ranked.slice(0, k).filter(right).length / k;
const search = new SimilarSearch(store);
const width = 480;

async function embeddingRanking(query: Candidate): Promise<Candidate[]> {
  const answer = await search.find({
    analysisId: 1,
    frameIndex: query.frame,
    query: { kind: 'point', x: query.pixel % width, y: Math.floor(query.pixel / width) },
    among: 'unknown',
    limit: Math.max(...KS),
  });
  return answer.results.map((result) => {
    const found = candidates.find((c) => c.frame === result.frameIndex && c.pixels === result.pixels);
    if (!found) throw new Error(`result on frame ${result.frameIndex} is no described region`);
    return found;
  });
}

function histogramRanking(query: Candidate): Candidate[] {
  const distance = (c: Candidate) => c.histogram.reduce((sum, value, i) => sum + (value - query.histogram[i]!) ** 2, 0);
  return candidates
    .filter((c) => c.frame !== query.frame)
    .map((c) => ({ c, d: distance(c) }))
    .sort((a, b) => a.d - b.d)
    .map(({ c }) => c);
}

const figures = { embedding: KS.map(() => [] as number[]), histogram: KS.map(() => [] as number[]) };
for (const query of queries) {
  const byEmbedding = await embeddingRanking(query);
  const byHistogram = histogramRanking(query);
  KS.forEach((k, i) => {
    figures.embedding[i]!.push(precision(byEmbedding, k));
    figures.histogram[i]!.push(precision(byHistogram, k));
  });
}
await store.close();
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const relevant = candidates.filter(right).length;
const report = {
  model: values.model,
  candidates: candidates.length,
  bicyclistRegions: relevant,
  queries: queries.length,
  largestQuery: { frame: queries[0]!.frame, pixels: queries[0]!.pixels, bicyclistPixels: queries[0]!.bicyclist },
  ...Object.fromEntries(
    (['embedding', 'histogram'] as const).map((name) => [
      name,
      Object.fromEntries(
        KS.flatMap((k, i) => [
          [`p@${k}`, figures[name][i]![0]],
          [`mean p@${k}`, mean(figures[name][i]!)],
        ]),
      ),
    ]),
  ),
};
if (values.json) console.log(JSON.stringify(report));
else {
  console.log(
    `${values.model} on the val drive: ${candidates.length} described unknown regions, ${relevant} of them bicyclist (>= 10% of pixels): a random ranking's precision is ${(relevant / candidates.length).toFixed(2)}`,
  );
  console.log(
    `queries: ${queries.length} regions mostly bicyclist; the largest on frame ${report.largestQuery.frame} (${report.largestQuery.pixels} px)`,
  );
  for (const name of ['embedding', 'histogram'] as const)
    console.log(
      `${name.padEnd(9)}: ${KS.map((k, i) => `P@${k} ${figures[name][i]![0]!.toFixed(2)} (mean over queries ${mean(figures[name][i]!).toFixed(2)})`).join(', ')}`,
    );
}
