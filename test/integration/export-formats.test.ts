import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { PNG } from 'pngjs';
import { createDispatcher, handlers, type Dispatch } from '../../src-main/api/index.js';
import { createApp } from '../../src-main/app/create-app.js';
import type { AppContext } from '../../src-main/api/context.js';
import { exportFlagged } from '../../src-main/export/index.js';
import type { ExportFormat, ExportResult, Flag, UnknownRegion } from '../../src-shared/contract/index.js';
import { repoRoot, runCli } from '../helpers/cli.js';
import { clip, tempDir } from '../helpers/clips.js';
import {
  decodeCocoRle,
  fillHoles,
  fillPolygon,
  readCvatImages,
  readLabelPng,
  type CvatImage,
} from '../helpers/export-readers.js';
import { e2eModel } from '../e2e/review-helpers.js';

// Every interchange format on a real analysis: 3 s of the val drive at 800x450 through the shipped model at 2
// frames a second, flags on frames with unknown regions that score (one of them through `dmlreview flag`), then each
// format exported and read back by the readers in test/helpers/export-readers.ts and, for the label PNGs, by
// the training package's CamVid and Cityscapes readers.
const work = tempDir('dml-export-formats-');
const libraryPath = join(work, 'library.sqlite');
const UNKNOWN = 255;
const UNKNOWN_ID = 254;
let context: AppContext;
let dispatch: Dispatch;
let sessionId = 0;
let analysisId = 0;
/** Per flagged frame (sorted): the expected class ids at the source size and the stored regions that score. */
const expected = new Map<
  number,
  {
    width: number;
    height: number;
    ids: Uint8Array;
    cells: Uint8Array;
    mapWidth: number;
    mapHeight: number;
    regions: UnknownRegion[];
  }
>();
const exports = new Map<ExportFormat, ExportResult>();

/** `dmlreview ARGS --library <this test's library>`. */
const dml = (...args: string[]) => runCli([...args, '--library', libraryPath]);

async function call(method: string, payload: unknown) {
  const result = await dispatch(method, payload);
  if (!result.ok) throw new Error(`${method}: ${result.error.message}`);
  return result.value;
}

/** The stored class map scaled to the source size by nearest neighbour: pixel x shows cell floor(x * mw / w). */
function scaled(values: Uint8Array, mapWidth: number, mapHeight: number, width: number, height: number) {
  const out = new Uint8Array(width * height);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      out[y * width + x] =
        values[Math.floor((y * mapHeight) / height) * mapWidth + Math.floor((x * mapWidth) / width)]!;
  return out;
}

before(async () => {
  // Scaled to 800x450 so the maps (480x360) scale up by a different, non-integer factor on each axis.
  const footage = clip(work, 'three-seconds.mp4', 3, [
    '-vf',
    'scale=800:450',
    '-c:v',
    'libx264',
    '-pix_fmt',
    'yuv420p',
  ]);
  context = await createApp({ host: 'review-server', libraryPath });
  dispatch = createDispatcher(handlers, context);
  const session = (await call('sessions.import', {
    paths: [footage],
    analyse: { model: e2eModel(), sampleFps: 2 },
  })) as { id: number; width: number; height: number };
  sessionId = session.id;
  const analysis = (await context.library.analyses.latest(sessionId))!;
  analysisId = analysis.id;
  await context.analyses.queue.waitFor(analysis.id);
  const finished = await context.library.analyses.get(analysis.id);
  assert.equal(finished.status, 'done', JSON.stringify(finished).slice(0, 600));
  const withRegions: number[] = [];
  const { timesMs } = await context.library.frames.timeline(analysisId);
  for (let index = 0; index < timesMs.length; index++) {
    const { regions } = await context.library.frames.regions(analysisId, index);
    if (regions.some((region) => region.score > 0)) withRegions.push(index);
  }
  assert.ok(withRegions.length >= 2, `frames with scoring regions: ${withRegions.join(', ')}`);
  const [first, second] = withRegions;
  await call('flags.add', { analysisId, frameIndex: first, note: 'first <"&"> one' });
  // The second flag through the command line, as a script would add it.
  const flagged = await dml(
    'flag',
    '--session',
    String(sessionId),
    '--frame',
    String(second),
    '--category',
    'unknown-object',
    '--note',
    'from a script',
    '--json',
  );
  assert.equal(flagged.code, 0, flagged.stderr);
  const flag = JSON.parse(flagged.stdout) as Flag;
  assert.deepEqual([flag.frameIndex, flag.category, flag.note], [second, 'unknown-object', 'from a script']);
  // The same frame flagged twice: one image, both flags' categories and notes.
  await call('flags.add', { analysisId, frameIndex: first, category: 'hazard', note: 'again' });

  for (const index of [first!, second!]) {
    const map = PNG.sync.read((await context.library.frames.map(analysisId, index, 'class_map'))!);
    const cells = new Uint8Array(map.width * map.height).map((_, i) => map.data[i * 4]!);
    const { width, height } = session;
    assert.deepEqual([width, height, map.width, map.height], [800, 450, 480, 360]);
    expected.set(index, {
      width,
      height,
      ids: scaled(cells, map.width, map.height, width, height).map((id) => (id === UNKNOWN ? UNKNOWN_ID : id)),
      cells,
      mapWidth: map.width,
      mapHeight: map.height,
      regions: (await context.library.frames.regions(analysisId, index)).regions.filter((region) => region.score > 0),
    });
  }
  const out = join(work, 'exports');
  mkdirSync(out);
  for (const format of ['coco', 'cityscapes', 'camvid', 'fiftyone'] as const)
    exports.set(
      format,
      (await call('export.flagged', {
        sessionId,
        folder: out,
        name: format,
        format,
        semantic: format === 'coco',
      })) as ExportResult,
    );
  // The temporary folder's path has no spaces.
  const cvat = await dml(...`export --session ${sessionId} --out ${out} --name cvat --format cvat --json`.split(' '));
  assert.equal(cvat.code, 0, cvat.stderr);
  exports.set('cvat', JSON.parse(cvat.stdout) as ExportResult);
});

after(() => context?.close());

const flaggedFrames = () => [...expected.keys()];

interface CocoFile {
  info: Record<string, unknown>;
  images: { id: number; file_name: string; width: number; height: number; frame_index: number }[];
  annotations: {
    id: number;
    image_id: number;
    category_id: number;
    segmentation: { size: [number, number]; counts: string };
    area: number;
    bbox: [number, number, number, number];
    iscrowd: number;
    score?: number;
    attributes?: { flag_category: string; note: string };
  }[];
  categories: { id: number; name: string; supercategory: string }[];
}

function readCoco(): CocoFile {
  return JSON.parse(readFileSync(join(exports.get('coco')!.path, 'annotations.json'), 'utf8')) as CocoFile;
}

/** Cells of the map the source pixels of a mask show; the mask must cover each of them whole. */
function maskCells(mask: Uint8Array, frame: ReturnType<typeof expected.get> & object) {
  const cells = new Uint8Array(frame.mapWidth * frame.mapHeight);
  mask.forEach((inside, i) => {
    if (!inside) return;
    const x = i % frame.width;
    const y = (i - x) / frame.width;
    cells[
      Math.floor((y * frame.mapHeight) / frame.height) * frame.mapWidth + Math.floor((x * frame.mapWidth) / frame.width)
    ] = 1;
  });
  assert.deepEqual(scaled(cells, frame.mapWidth, frame.mapHeight, frame.width, frame.height), mask, 'whole cells');
  return cells;
}

test('COCO: the required fields, one image per flagged frame, and RLE masks that decode to the stored regions', () => {
  const coco = readCoco();
  for (const key of ['info', 'images', 'annotations', 'categories']) assert.ok(key in coco, key);
  assert.deepEqual(
    coco.images.map((image) => image.frame_index),
    flaggedFrames(),
  );
  const imageIds = new Set(coco.images.map((image) => image.id));
  const categoryIds = new Set(coco.categories.map((category) => category.id));
  for (const category of coco.categories) {
    assert.equal(typeof category.name, 'string');
    assert.equal(typeof category.supercategory, 'string');
  }
  assert.equal(new Set(coco.annotations.map((a) => a.id)).size, coco.annotations.length, 'unique annotation ids');
  for (const image of coco.images) {
    assert.ok(Number.isInteger(image.id) && Number.isInteger(image.width) && Number.isInteger(image.height));
    assert.ok(existsSync(join(exports.get('coco')!.path, 'images', image.file_name)), image.file_name);
    const frame = expected.get(image.frame_index)!;
    assert.deepEqual([image.width, image.height], [frame.width, frame.height]);
    const own = coco.annotations.filter((a) => a.image_id === image.id);
    const unknown = own.filter((a) => a.category_id === 1);
    assert.equal(unknown.length, frame.regions.length, 'one instance per scoring region');
    unknown.forEach((annotation, i) => {
      const region = frame.regions[i]!;
      assert.deepEqual(annotation.segmentation.size, [frame.height, frame.width]);
      assert.equal(typeof annotation.segmentation.counts, 'string', 'compressed RLE');
      const mask = decodeCocoRle(annotation.segmentation);
      assert.equal(
        annotation.area,
        mask.reduce((sum, v) => sum + v, 0),
      );
      assert.deepEqual(annotation.bbox, boxOf(mask, frame.width));
      assert.equal(annotation.iscrowd, 0);
      assert.equal(annotation.score, region.score);
      assert.ok(annotation.attributes!.flag_category.length > 0);
      // The mask covers exactly the cells of one stored region: its count and box, all unknown, nothing
      // unknown 8-adjacent left out.
      const cells = maskCells(mask, frame);
      const count = cells.reduce((sum, v) => sum + v, 0);
      assert.equal(count, region.pixels);
      assert.deepEqual(boxOf(cells, frame.mapWidth), [region.x, region.y, region.width, region.height]);
      cells.forEach((inside, i) => {
        if (!inside) return;
        assert.equal(frame.cells[i], UNKNOWN);
        const x = i % frame.mapWidth;
        const y = (i - x) / frame.mapWidth;
        for (let dy = -1; dy <= 1; dy++)
          for (let dx = -1; dx <= 1; dx++) {
            const nx = x + dx;
            const ny = y + dy;
            if (nx < 0 || ny < 0 || nx >= frame.mapWidth || ny >= frame.mapHeight) continue;
            const j = ny * frame.mapWidth + nx;
            assert.ok(cells[j] || frame.cells[j] !== UNKNOWN, 'the region is a whole component');
          }
      });
    });
    // Semantic segments: one per known class present, decoding to exactly that class's pixels.
    for (const annotation of own.filter((a) => a.category_id !== 1)) {
      assert.ok(categoryIds.has(annotation.category_id));
      const classIndex = annotation.category_id - 2;
      const mask = decodeCocoRle(annotation.segmentation);
      assert.deepEqual(
        mask,
        frame.ids.map((id) => (id === classIndex ? 1 : 0)),
      );
    }
    const present = new Set(frame.ids);
    present.delete(UNKNOWN_ID);
    assert.equal(own.length - unknown.length, present.size, 'a segment per known class present');
  }
  for (const annotation of coco.annotations) assert.ok(imageIds.has(annotation.image_id));
  const twice = coco.annotations.find((a) => a.image_id === coco.images[0]!.id && a.category_id === 1);
  assert.deepEqual(twice?.attributes && [twice.attributes.flag_category, twice.attributes.note], [
    'hazard',
    'first <"&"> one | again',
  ]);
});

function boxOf(mask: Uint8Array, width: number): [number, number, number, number] {
  let [left, top, right, bottom] = [Infinity, Infinity, -1, -1];
  mask.forEach((inside, i) => {
    if (!inside) return;
    const x = i % width;
    const y = (i - x) / width;
    [left, top, right, bottom] = [Math.min(left, x), Math.min(top, y), Math.max(right, x), Math.max(bottom, y)];
  });
  return [left, top, right - left + 1, bottom - top + 1];
}

test('Cityscapes, CamVid and FiftyOne label PNGs hold the class ids at the source size, unknown as 254', () => {
  const layouts: Record<string, (stem: string) => [string, string]> = {
    cityscapes: (stem) => [
      `leftImg8bit/flagged/session-${sessionId}/${stem}_leftImg8bit.png`,
      `gtFine/flagged/session-${sessionId}/${stem}_gtFine_labelTrainIds.png`,
    ],
    camvid: (stem) => [`images/${stem}.png`, `labels/${stem}.png`],
    fiftyone: (stem) => [`data/${stem}.png`, `labels/${stem}.png`],
  };
  for (const [format, paths] of Object.entries(layouts)) {
    const result = exports.get(format as ExportFormat)!;
    const frames = [...new Map(result.frames.map((frame) => [frame.frameIndex, frame])).values()];
    assert.deepEqual(
      frames.map((frame) => frame.frameIndex),
      flaggedFrames(),
      format,
    );
    for (const frame of frames) {
      const want = expected.get(frame.frameIndex)!;
      const stem = frame.frame
        .split('/')
        .at(-1)!
        .replace(/(_leftImg8bit)?\.png$/, '');
      assert.deepEqual([frame.frame, frame.label], paths(stem), format);
      const label = readLabelPng(join(result.path, frame.label!));
      assert.deepEqual([label.width, label.height], [want.width, want.height]);
      assert.deepEqual(label.values, want.ids, `${format} ${frame.label}`);
    }
    const table = JSON.parse(readFileSync(join(result.path, 'classes.json'), 'utf8')) as {
      classes: { id: number; name: string }[];
    };
    assert.deepEqual(table.classes.at(-1), { id: UNKNOWN_ID, name: 'unknown', color: [255, 40, 40] });
  }
  const targets = JSON.parse(readFileSync(join(exports.get('fiftyone')!.path, 'mask_targets.json'), 'utf8')) as Record<
    string,
    string
  >;
  assert.equal(targets[UNKNOWN_ID], 'unknown');
});

test('the training package reads the CamVid and Cityscapes exports back with the same ids', () => {
  // load_pair relabels through the reader's LabelMap: CamVid with "unknown" held out gives the training
  // package's OOD id (254) for unknown pixels; Cityscapes has no unknown class, so they read as ignore (255).
  const script = `
import hashlib, json, sys
sys.path.insert(0, sys.argv[1])
import numpy as np
from dmlnet.data import build_label_map, load_pair, read_camvid, read_cityscapes
out = {}
for name, spec, lut in [
    ("camvid", read_camvid(sys.argv[2], ""), None),
    ("cityscapes", read_cityscapes(sys.argv[3], "flagged"), None),
]:
    labelmap = build_label_map(spec, ["unknown"] if name == "camvid" else [])
    rows = []
    for image, label in spec.samples:
        img, lab = load_pair(image, label, labelmap.lut)
        rows.append({"label": label, "shape": list(lab.shape), "sha256": hashlib.sha256(np.ascontiguousarray(lab).tobytes()).hexdigest()})
    out[name] = rows
print(json.dumps(out))
`;
  const printed = execFileSync(
    '/usr/bin/python3',
    ['-c', script, join(repoRoot, 'training'), exports.get('camvid')!.path, exports.get('cityscapes')!.path],
    { encoding: 'utf8' },
  );
  const read = JSON.parse(printed) as Record<string, { label: string; shape: number[]; sha256: string }[]>;
  for (const format of ['camvid', 'cityscapes'] as const) {
    const frames = flaggedFrames().map((index) => expected.get(index)!);
    assert.equal(read[format]!.length, frames.length, format);
    read[format]!.forEach((row, i) => {
      const want = frames[i]!;
      assert.deepEqual(row.shape, [want.height, want.width]);
      const ids = format === 'camvid' ? want.ids : want.ids.map((id) => (id === UNKNOWN_ID ? 255 : id));
      assert.equal(row.sha256, sha256(ids), `${format} ${row.label}`);
    });
  }
});

function sha256(bytes: Uint8Array): string {
  return execFileSync('sha256sum', { input: bytes, encoding: 'utf8' }).split(' ')[0]!;
}

test('CVAT 1.1: one polygon per scoring region, filling to the COCO mask with its holes closed', () => {
  const result = exports.get('cvat')!;
  const xml = readFileSync(join(result.path, 'annotations.xml'), 'utf8');
  assert.match(xml, /^<\?xml version="1.0" encoding="utf-8"\?>\n<annotations>\n {2}<version>1.1<\/version>/);
  // Python's XML parser accepts it (well-formed, escaped notes).
  execFileSync('/usr/bin/python3', [
    '-c',
    'import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])',
    join(result.path, 'annotations.xml'),
  ]);
  const images: CvatImage[] = readCvatImages(xml);
  const coco = readCoco();
  assert.equal(images.length, coco.images.length);
  images.forEach((image, i) => {
    const cocoImage = coco.images[i]!;
    assert.equal(image.name, cocoImage.file_name);
    assert.ok(existsSync(join(result.path, 'images', image.name)));
    const masks = coco.annotations
      .filter((a) => a.image_id === cocoImage.id && a.category_id === 1)
      .map((a) => decodeCocoRle(a.segmentation));
    assert.equal(image.polygons.length, masks.length);
    image.polygons.forEach((polygon, j) => {
      assert.equal(polygon.label, 'unknown');
      assert.deepEqual(
        fillPolygon(polygon.points, image.width, image.height),
        fillHoles(masks[j]!, image.width, image.height),
      );
      assert.ok(Number(polygon.attributes.score) > 0);
    });
  });
  assert.equal(images[0]!.polygons[0]!.attributes.note, 'first <"&"> one | again');
});

test('an interchange export that fails part-way leaves nothing behind; progress counts frames', async () => {
  const out = join(work, 'failing');
  mkdirSync(out);
  const progress: string[] = [];
  let calls = 0;
  await assert.rejects(
    exportFlagged(
      { sessionId, folder: out, name: 'coco', format: 'coco' },
      {
        library: context.library,
        onProgress: (done, total) => progress.push(`${done}/${total}`),
        fullFrame: async () => {
          if (++calls === 2) throw new Error('the footage went away');
          return readFileSync(join(exports.get('coco')!.path, exports.get('coco')!.frames[0]!.frame));
        },
      },
    ),
    /footage went away/,
  );
  assert.deepEqual(readdirSync(out), []);
  assert.deepEqual(progress, ['1/2']);
});

test("`dmlreview flag --event` flags the event's peak frame with the event, as the UI does", async () => {
  // Every analysed frame above a zero threshold: one event over the clip.
  const { events } = (await call('events.list', {
    analysisId,
    settings: { threshold: 0, hysteresis: 0, minGapMs: 0, minFrames: 1, minDurationMs: 0 },
  })) as { events: { id: number; peakFrame: number }[] };
  const event = events[0]!;
  const flagged = await dml('flag', '--session', String(sessionId), '--event', String(event.id), '--json');
  assert.equal(flagged.code, 0, flagged.stderr);
  const flag = JSON.parse(flagged.stdout) as Flag;
  assert.deepEqual(
    [flag.eventId, flag.frameIndex, flag.category, flag.note],
    [event.id, event.peakFrame, 'hazard', ''],
  );
  assert.deepEqual(await context.library.flags.get(flag.id), flag, 'stored as printed');
  const missing = await dml('flag', '--session', String(sessionId), '--event', '9999');
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^dmlreview flag: Event 9999 was not found\n$/);
});

test('the command line names a bad --format, a missing session and a bad flag', async () => {
  const out = join(work, 'cli-errors');
  mkdirSync(out);
  const badFormat = await dml('export', '--session', String(sessionId), '--out', out, '--format', 'yolo');
  assert.equal(badFormat.code, 2);
  assert.match(
    badFormat.stderr,
    /^dmlreview export: --format must be one of folder, coco, cityscapes, camvid, fiftyone, cvat; got "yolo"\n$/,
  );
  const semantic = await dml('export', '--session', String(sessionId), '--out', out, '--format', 'cvat', '--semantic');
  assert.equal(semantic.code, 2);
  assert.match(semantic.stderr, /^dmlreview export: --semantic applies to --format coco only, not to cvat\n$/);
  const missing = await dml('export', '--session', '999', '--out', out, '--format', 'coco');
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^dmlreview export: Session 999 was not found\n$/);
  const badCategory = await dml('flag', '--session', String(sessionId), '--frame', '0', '--category', 'cat');
  assert.equal(badCategory.code, 2);
  assert.match(badCategory.stderr, /^dmlreview flag: --category: /);
  const noFrame = await dml('flag', '--session', '999', '--frame', '0');
  assert.equal(noFrame.code, 1);
  assert.match(noFrame.stderr, /Session 999/);
  const both = await dml('flag', '--session', String(sessionId), '--frame', '0', '--event', '1');
  assert.equal(both.code, 2);
  assert.match(both.stderr, /either --frame INDEX or --event ID/);
  assert.deepEqual(readdirSync(out), []);
});
