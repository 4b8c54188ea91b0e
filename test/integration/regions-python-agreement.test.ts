import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { UnknownRegion } from '../../src-shared/contract/index.js';
import { decodeImageFile, openEngine, readModelCard } from '../../src-main/engine/index.js';
import { UNKNOWN_CLASS } from '../../src-main/engine/types.js';
import { findUnknownRegions, regionFrameScore, regionPlaces } from '../../src-main/engine/unknown-regions.js';
import { tempDir, valImages } from '../helpers/clips.js';
import { testModelsDir } from '../helpers/models.js';
import { runTrainingTool } from '../helpers/python.js';

const MODEL = 'camvid-open';
/** Val frames spread over the drive (every 23rd: 5 frames), so regions of more than one placement score. */
const EVERY = 23;

interface MapCase {
  width: number;
  height: number;
  classes: string[];
  classMap: Uint8Array;
  ood: Float32Array;
  regions: UnknownRegion[];
  frameScore: number;
}

/** Engine output of val frames: real maps with real regions (and the engine's own regions). */
async function engineMaps(): Promise<MapCase[]> {
  const card = await readModelCard(testModelsDir, MODEL);
  const engine = await openEngine(testModelsDir, MODEL, { provider: 'cpu', threads: 2, lanes: 1 });
  const names = readdirSync(valImages)
    .sort()
    .filter((_, i) => i % EVERY === 0);
  try {
    const cases: MapCase[] = [];
    for (const name of names) {
      const result = await engine.analyze(await decodeImageFile(join(valImages, name)));
      cases.push({
        width: result.width,
        height: result.height,
        classes: card.classes.map((cls) => cls.name),
        classMap: result.classMap,
        ood: result.oodMap,
        regions: result.regions,
        frameScore: result.summary.score,
      });
    }
    return cases;
  } finally {
    await engine.dispose();
  }
}

/** A map all unknown (no known boundary, every border): one region, scored by the TypeScript rule here. */
function wholeFrameUnknown(): MapCase {
  const [width, height] = [40, 30];
  const classMap = new Uint8Array(width * height).fill(UNKNOWN_CLASS);
  const ood = Float32Array.from({ length: classMap.length }, (_, i) => 0.7 + (i % 7) / 100);
  const classes = ['road', 'sky'];
  const places = regionPlaces(classes.map((name, index) => ({ index, name })));
  const regions = findUnknownRegions(classMap, ood, places, width, height);
  return { width, height, classes, classMap, ood, regions, frameScore: regionFrameScore(regions) };
}

function closeRegions(label: string, ts: UnknownRegion[], python: UnknownRegion[]) {
  assert.equal(python.length, ts.length, `${label}: ${ts.length} regions in TypeScript, ${python.length} in Python`);
  ts.forEach((region, i) => {
    const other = python[i]!;
    const { meanScore, score, ...facts } = region;
    const { meanScore: otherMean, score: otherScore, ...otherFacts } = other;
    assert.deepEqual(otherFacts, facts, `${label} region ${i}`);
    assert.ok(Math.abs(meanScore - otherMean) <= 1e-6, `${label} region ${i} mean ${meanScore} vs ${otherMean}`);
    assert.ok(Math.abs(score - otherScore) <= 1e-6, `${label} region ${i} score ${score} vs ${otherScore}`);
  });
}

test(
  'unknown regions and the frame score: TypeScript (engine) and Python (training) agree on the same maps',
  { timeout: 180_000 },
  async () => {
    const cases = await engineMaps();
    cases.push(wholeFrameUnknown());
    const dir = tempDir('dml-regions-');
    const manifest = cases.map((entry, i) => {
      writeFileSync(join(dir, `${i}.u8`), entry.classMap);
      writeFileSync(join(dir, `${i}.f32`), Buffer.from(entry.ood.buffer, entry.ood.byteOffset, entry.ood.byteLength));
      return {
        width: entry.width,
        height: entry.height,
        classes: entry.classes,
        classMap: join(dir, `${i}.u8`),
        ood: join(dir, `${i}.f32`),
      };
    });
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
    const output = runTrainingTool('regions_reference', [join(dir, 'manifest.json')]);
    const python = JSON.parse(output.trim().split('\n').at(-1)!) as { regions: UnknownRegion[]; frameScore: number }[];
    const places = new Set<string>();
    for (const [i, entry] of cases.entries()) {
      closeRegions(`map ${i}`, entry.regions, python[i]!.regions);
      assert.ok(Math.abs(entry.frameScore - python[i]!.frameScore) <= 1e-6, `map ${i} frame score`);
      for (const region of entry.regions) if (region.score > 0) places.add(region.place);
    }
    assert.ok(
      places.size >= 2,
      `regions of two placements or more score, so their weights are compared: ${[...places].join(', ')}`,
    );
    assert.deepEqual(python.at(-1)!.regions[0]!.border, ['top', 'right', 'bottom', 'left']);
  },
);
