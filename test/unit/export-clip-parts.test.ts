import assert from 'node:assert/strict';
import { test } from 'node:test';
import { methods } from '../../src-shared/contract/index.js';
import { drawText, textWidth } from '../../src-main/export/bitmap-font.js';
import { bandHeight, caption, clock, createBand, heldFrame } from '../../src-main/export/clip-band.js';
import { compositeOverlay, EXPORT_OVERLAY_STYLE, type RgbaImage } from '../../src-main/export/images.js';

test('a frame between analysed frames holds the last analysed one', () => {
  const times = [0, 200, 400];
  assert.equal(heldFrame(times, -40), -1);
  assert.equal(heldFrame(times, 0), 0);
  assert.equal(heldFrame(times, 199.6), 1, 'half a millisecond of slack for rounded timestamps');
  assert.equal(heldFrame(times, 399), 1);
  assert.equal(heldFrame(times, 10_000), 2);
  assert.equal(heldFrame([], 5), -1);
});

test('the caption has a fixed width and the clock rolls over to hours', () => {
  assert.equal(clock(61_234.4), '1:01.234');
  assert.equal(clock(3_723_004), '1:02:03.004');
  assert.equal(caption(800, 0.8234), '0:00.800  SCORE 0.82');
  assert.equal(caption(800, null).length, caption(800, 0.5).length);
});

test('the font draws its glyphs and refuses characters it lacks', () => {
  const image = { width: 40, height: 10, data: new Uint8Array(40 * 10 * 4) };
  drawText(image, '1', 0, 0, 1, [255, 255, 255]);
  const lit = [...Array(70).keys()].filter((i) => image.data[(Math.floor(i / 5) * 40 + (i % 5)) * 4] === 255).length;
  assert.equal(lit, 10, 'the glyph of 1 has ten pixels');
  assert.equal(textWidth('12', 3), 36);
  assert.throws(() => drawText(image, 'x', 0, 0, 1, [255, 255, 255]), /no glyph for "x"/);
});

test('the band draws the playhead where the frame lies in the clip', () => {
  const width = 640;
  const band = createBand(width, 360, { fromMs: 0, toMs: 1000, timesMs: [0, 500], scores: [0.2, 0.9], threshold: 0.5 });
  assert.equal(band.height, bandHeight(360));
  const playheadColumns = (timeMs: number) => {
    const canvas = { width, height: band.height, data: new Uint8Array(width * band.height * 4) };
    band.draw(canvas, 0, timeMs, 0.9);
    const row = 1; // above the strip's bars: only the playhead is white there
    return [...Array(width).keys()].filter((x) => canvas.data[(row * width + x) * 4 + 1] === 255 && x > width / 2);
  };
  const early = playheadColumns(600);
  const late = playheadColumns(990);
  assert.ok(early.length > 0 && late.length > 0);
  assert.ok(Math.min(...late) > Math.max(...early), 'the playhead moves right as time passes');
});

test('the overlay style switches the layers the viewer has', () => {
  const frame: RgbaImage = { width: 4, height: 1, data: new Uint8Array(16).fill(100) };
  const classMap = { width: 4, height: 1, values: Uint8Array.from([0, 0, 255, 255]) };
  const oodMap = { width: 4, height: 1, values: Uint8Array.from([0, 0, 255, 255]) };
  const classes = [{ index: 0, name: 'road', color: [0, 0, 200] as [number, number, number], taught: false }];
  const plain = compositeOverlay(frame, classMap, classes, { classes: false, heat: false, outline: false, opacity: 1 });
  assert.deepEqual([...plain.data.subarray(0, 3)], [100, 100, 100], 'no layer leaves the frame as it is');
  const exported = compositeOverlay(frame, classMap, classes);
  assert.deepEqual([...exported.data.subarray(0, 3)], [55, 55, 145], 'class colour at the export opacity');
  assert.deepEqual([...exported.data.subarray(8, 11)], [0, 240, 255], 'the unknown border is outlined');
  const heat = compositeOverlay(
    frame,
    classMap,
    classes,
    { ...EXPORT_OVERLAY_STYLE, classes: false, outline: false, heat: true },
    oodMap,
  );
  assert.deepEqual([...heat.data.subarray(0, 3)], [100, 100, 100], 'a zero score adds no heat');
  assert.notDeepEqual([...heat.data.subarray(12, 15)], [100, 100, 100], 'a high score does');
});

test('export.clip takes an event or a range, not both and not half a range', () => {
  const request = methods['export.clip'].request;
  const base = { sessionId: 1, folder: '/tmp' };
  assert.ok(request.safeParse({ ...base, eventId: 3 }).success);
  assert.ok(request.safeParse({ ...base, fromMs: 0, toMs: 500 }).success);
  assert.ok(!request.safeParse({ ...base, eventId: 3, fromMs: 0, toMs: 500 }).success);
  assert.ok(!request.safeParse({ ...base, fromMs: 0 }).success);
  assert.ok(!request.safeParse(base).success);
  assert.ok(
    !request.safeParse({ ...base, eventId: 3, overlay: { classes: true, heat: false, outline: true, opacity: 2 } })
      .success,
  );
});
