import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ClassInfo, Timeline } from '../../src-shared/contract/index.js';
import { compositeOverlay, shrink } from '../../src-main/export/images.js';
import { manifestCsv, type Manifest } from '../../src-main/export/manifest.js';
import { markLanes, renderReport } from '../../src-main/export/report.js';

const classes: ClassInfo[] = [
  { index: 0, name: 'road', color: [128, 64, 128], taught: false },
  { index: 1, name: 'car', color: [64, 0, 128], taught: false },
];

function manifest(note: string): Manifest {
  return {
    format: 'dmlreview-export/1',
    createdAt: '2026-11-27T19:00:00.000Z',
    session: {
      id: 3,
      name: 'drive "A", <night>',
      durationMs: 101_000,
      sources: [{ path: '/d/a.mp4', sha256: 'ab'.repeat(32) }],
    },
    analysis: {
      id: 7,
      model: 'camvid-open',
      modelSha256: 'cd'.repeat(32),
      knowledgeVersion: null,
      sampleFps: null,
      threshold: 0.6,
    },
    classes: classes.map(({ index, name, color, taught }) => ({ index, name, color, taught })),
    unknownClassIndex: 255,
    oodMapScale: 255,
    rows: [
      {
        flagId: 1,
        category: 'hazard',
        note,
        eventId: null,
        flaggedAt: '2026-11-27T18:59:00.000Z',
        frameIndex: 42,
        timeMs: 42_000,
        score: 0.71,
        unknownFraction: 0.05,
        largestRegion: { area: 0.03, x: 1, y: 2, width: 3, height: 4 },
        classAreas: { road: 0.5, car: 0.45 },
        sourceFile: 'a.mp4',
        files: {
          frame: 'frames/000042_t000042000.png',
          overlay: 'overlays/x.png',
          oodMap: 'oodmaps/x.png',
          classMap: 'classmaps/x.png',
        },
        frameWidth: 960,
        frameHeight: 720,
      },
    ],
  };
}

test('the CSV quotes commas, quotes and line breaks, and keeps formula-looking notes as text', () => {
  const csv = manifestCsv(manifest('=HYPERLINK("http://x"), then "more"\nline two'));
  const [header, row] = csv.split('\r\n');
  assert.ok(header?.startsWith('session,session_id,analysis_id,flag_id,category,note'));
  assert.ok(header?.endsWith('model,model_sha256'));
  assert.ok(
    row?.startsWith('"drive ""A"", <night>",3,7,1,hazard,"\'=HYPERLINK(""http://x""), then ""more""\nline two"'),
    row,
  );
  assert.ok(csv.includes(`camvid-open,${'cd'.repeat(32)}`));
});

test('the report escapes user text and inlines everything it shows', () => {
  const timeline: Timeline = {
    analysisId: 7,
    timesMs: Float64Array.of(0, 1000, 2000),
    scores: Float64Array.of(0.1, 0.9, 0.2),
  };
  const html = renderReport(manifest('<script>alert(1)</script>'), timeline, [
    { frame: Buffer.from('jpeg'), overlay: Buffer.from('jpg2') },
  ]);
  assert.ok(!html.includes('<script>alert'));
  assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
  assert.ok(html.includes('drive &quot;A&quot;, &lt;night&gt;'));
  assert.ok(html.includes(`src="data:image/jpeg;base64,${Buffer.from('jpeg').toString('base64')}"`));
  assert.match(html, /<svg [^>]*aria-label="OOD score timeline"/);
  assert.ok(!/src="https?:/.test(html), 'no remote resource');
});

test('the overlay blends class colours by nearest cell and outlines unknown regions', () => {
  // A 4x2 frame of mid grey over a 2x1 class map: left cell road, right cell unknown.
  const frame = { width: 4, height: 2, data: new Uint8Array(4 * 2 * 4).fill(100) };
  const out = compositeOverlay(frame, { width: 2, height: 1, values: new Uint8Array([0, 255]) }, classes);
  const pixel = (x: number, y: number) => Array.from(out.data.subarray((y * 4 + x) * 4, (y * 4 + x) * 4 + 4));
  assert.deepEqual(pixel(0, 0), [
    Math.round(100 * 0.55 + 128 * 0.45),
    Math.round(100 * 0.55 + 64 * 0.45),
    Math.round(100 * 0.55 + 128 * 0.45),
    255,
  ]);
  assert.deepEqual(pixel(2, 0), [0, 240, 255, 255], 'unknown pixel next to a known one is outline');
  assert.deepEqual(pixel(3, 1), [
    Math.round(100 * 0.45 + 255 * 0.55),
    Math.round(100 * 0.45 + 40 * 0.55),
    Math.round(100 * 0.45 + 40 * 0.55),
    255,
  ]);
  assert.deepEqual(Array.from(frame.data.subarray(0, 4)), [100, 100, 100, 100], 'the input is not modified');
});

test('report thumbnails keep the frame aspect: a 1280x720 frame shrinks to 480x270 by box averaging', () => {
  const [width, height] = [1280, 720];
  const data = new Uint8Array(width * height * 4);
  // Left half black, right half white: the middle output column averages both.
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      data.set(x < width / 2 ? [0, 0, 0, 255] : [255, 255, 255, 255], (y * width + x) * 4);
  const small = shrink({ width, height, data }, 480);
  assert.deepEqual([small.width, small.height], [480, 270]);
  assert.equal(small.data[0], 0);
  assert.equal(small.data[(479 * 4) | 0], 255);
  assert.deepEqual(shrink({ width: 4, height: 2, data: new Uint8Array(32) }, 480).width, 4, 'never enlarged');
});

test('flag marks closer than a mark stack in lanes instead of overprinting', () => {
  assert.deepEqual(markLanes([100, 105, 110, 300, 301]), [0, 1, 2, 0, 1]);
  assert.deepEqual(markLanes([10, 40, 70]), [0, 0, 0]);
});
