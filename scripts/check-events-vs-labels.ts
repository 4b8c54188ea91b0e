/**
 * Events against the val labels, the old frame score beside the new one in one run (docs/events.md, "Events
 * against the val labels"). The val drive (0016E5-val.mp4, frame i = the i-th val image in name order) holds
 * pedestrians and bicyclists, which camvid-open never saw; the highway clip is ordinary footage from another
 * camera. Every frame of both is analysed once by the engine, and each frame is scored by both rules:
 * - old: the 90th percentile of the pixel scores, events at the old calibrated frame threshold lowered to the
 *   drive's top tenth (defaultEventThreshold), hysteresis 0.05, no persistence: the app before regions;
 * - new: the best unknown region's score, events under the app's defaults now (defaultEventSettings);
 * - new, lowered: the new score and defaults, its threshold lowered as the old one was, to tell the score's
 *   share of a difference from the threshold's.
 * Figures: event recall (pedestrian/bicyclist components of at least 1,000 px in a frame inside some event,
 * and of those, the share the viewer outlines there), false events per minute (events holding no such
 * component), and on ordinary frames (the highway clip; val frames without pedestrians or bicyclists) false
 * events per minute and the share of the frame outlined as unknown.
 *
 *   node --import tsx scripts/check-events-vs-labels.ts [--model camvid-open] [--json]
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { outlinedUnknown } from '../src-shared/region-view.js';
import type { EventSettings, UnknownRegion } from '../src-shared/contract/index.js';
import { defaultModelsDir, packageRoot } from '../src-main/core/paths.js';
import {
  decodeLabelPng,
  openEngine,
  readModelCard,
  regionFrameThreshold,
  type Engine,
} from '../src-main/engine/index.js';
import { componentBoxes, labelComponents } from '../src-main/engine/regions.js';
import { pixelPercentileScore, tallyFrame } from '../src-main/engine/summary.js';
import { UNKNOWN_CLASS } from '../src-main/engine/types.js';
import { decodeSource, probeSource, type DecodeOutcome } from '../src-main/footage/index.js';
import {
  defaultEventSettings,
  defaultEventThreshold,
  detectEvents,
  type EventSpan,
} from '../src-main/library/events.js';

const { values } = parseArgs({
  options: { model: { type: 'string', default: 'camvid-open' }, json: { type: 'boolean' } },
});
const shared = join(packageRoot(), '..', 'shared', 'datasets');
const VAL_DRIVE = join(shared, 'camvid', 'footage', '0016E5-val.mp4');
const HIGHWAY = join(shared, 'footage', 'udacity-highway.mp4');
const VAL_LABELS = join(shared, 'camvid', 'val', 'labels');
const UNSEEN = [9, 10]; // CamVid ids of pedestrian and bicyclist
const MIN_OBJECT_PIXELS = 1000;
const RULES = ['old', 'new'] as const;
type Rule = (typeof RULES)[number];
/**
 * The figures' columns: each rule with its own defaults, and the new score with the old drive fallback too,
 * which tells how much of a difference comes from the score and how much from not lowering the threshold.
 */
const COLUMNS = [
  { name: 'old', rule: 'old', lowered: true },
  { name: 'new', rule: 'new', lowered: false },
  { name: 'new, lowered', rule: 'new', lowered: true },
] as const;
type Column = (typeof COLUMNS)[number];

/** A ground-truth object: one 8-connected pedestrian/bicyclist component of a val label. */
interface LabelledObject {
  frame: number;
  pixels: Uint32Array;
  /** Whether the viewer outlines any of its pixels, under each rule (set by analyseDrive). */
  outlined: Record<Rule, boolean>;
}

/** What a frame shows under each rule: its score and the share of it outlined as unknown. */
interface FrameRow {
  timeMs: number;
  score: Record<Rule, number>;
  outlinedShare: Record<Rule, number>;
}

interface CheckResult {
  model: string;
  val: { frames: number; objects: number; frames_with_objects: number };
  highway: { frames: number };
  columns: Record<Column['name'], { val: ReturnType<typeof valFigures>; highway: ReturnType<typeof ordinaryFigures> }>;
}

/** Spearman rank correlation (ties broken by position, as the old script did). */
function spearman(a: number[], b: number[]): number {
  const ranks = (values: number[]) => {
    const order = values.map((value, index) => ({ value, index })).sort((x, y) => x.value - y.value);
    const rank = new Array<number>(values.length);
    order.forEach((entry, position) => (rank[entry.index] = position));
    return rank;
  };
  const [ra, rb] = [ranks(a), ranks(b)];
  const centre = (a.length - 1) / 2;
  let [num, da, db] = [0, 0, 0];
  ra.forEach((value, i) => {
    num += (value - centre) * (rb[i]! - centre);
    da += (value - centre) ** 2;
    db += (rb[i]! - centre) ** 2;
  });
  return num / Math.sqrt(da * db);
}

async function labelledObjects(): Promise<{ objects: LabelledObject[]; unseenFrames: boolean[]; shares: number[] }> {
  const names = readdirSync(VAL_LABELS)
    .filter((name) => name.endsWith('.png'))
    .sort();
  const objects: LabelledObject[] = [];
  const unseenFrames: boolean[] = [];
  const shares: number[] = [];
  for (const [frame, name] of names.entries()) {
    const label = await decodeLabelPng(join(VAL_LABELS, name));
    const mask = label.data.map((id) => (UNSEEN.includes(id) ? 1 : 0));
    unseenFrames.push(mask.some((value) => value === 1));
    shares.push(mask.reduce((sum, value) => sum + value, 0) / mask.length);
    const components = labelComponents(mask, 1, label.width, label.height);
    const boxes = componentBoxes(components, label.width, label.height);
    boxes.forEach((box, i) => {
      if (box.pixels < MIN_OBJECT_PIXELS) return;
      const pixels = new Uint32Array(box.pixels);
      let n = 0;
      components.labels.forEach((value, p) => value === i + 1 && (pixels[n++] = p));
      objects.push({ frame, pixels, outlined: { old: false, new: false } });
    });
  }
  return { objects, unseenFrames, shares };
}

/**
 * The old viewer outlined every unknown pixel; the new one what region-view.ts says at the app's default event
 * threshold (the "new, lowered" column's outline figures are those at the default threshold too).
 */
function outlined(
  classMap: Uint8Array,
  width: number,
  regions: UnknownRegion[],
  threshold: number,
): Record<Rule, Uint8Array> {
  return {
    old: classMap.map((value) => (value === UNKNOWN_CLASS ? 1 : 0)),
    new: outlinedUnknown(classMap, width, regions, threshold),
  };
}

async function analyseDrive(
  engine: Engine,
  path: string,
  objects: LabelledObject[],
  outlineThreshold: number,
): Promise<FrameRow[]> {
  const source = { ...(await probeSource(path)), position: 0, offsetMs: 0 };
  const outcome: DecodeOutcome = { complete: false, message: null, framesSampled: 0 };
  const size = { width: engine.inputWidth, height: engine.inputHeight, sampleFps: null };
  const rows: FrameRow[] = [];
  for await (const decoded of decodeSource(source, size, outcome)) {
    const result = await engine.analyze(decoded.rgb);
    const masks = outlined(result.classMap, result.width, result.regions, outlineThreshold);
    for (const object of objects.filter((candidate) => candidate.frame === rows.length))
      for (const rule of RULES) object.outlined[rule] = object.pixels.some((p) => masks[rule][p] === 1);
    const share = (mask: Uint8Array) => mask.reduce((sum, value) => sum + value, 0) / mask.length;
    rows.push({
      timeMs: decoded.timeMs,
      score: { old: pixelPercentileScore(tallyFrame(result.classMap, result.oodMap)), new: result.summary.score },
      outlinedShare: { old: share(masks.old), new: share(masks.new) },
    });
  }
  if (!outcome.complete) throw new Error(`${path} did not decode to the end: ${outcome.message}`);
  return rows;
}

/**
 * The event settings of a column for one drive's scores: the app's defaults of its rule (the old rule: the old
 * calibrated threshold, hysteresis 0.05, no persistence), lowered to the drive's top tenth where it says so.
 */
function settingsFor(
  column: Column,
  rows: FrameRow[],
  card: Awaited<ReturnType<typeof readModelCard>>,
  oldCalibrated: number,
) {
  const settings: EventSettings =
    column.rule === 'new'
      ? defaultEventSettings(regionFrameThreshold(card), card.scores.threshold)
      : { threshold: oldCalibrated, hysteresis: 0.05, minGapMs: 1000, minFrames: 1, minDurationMs: 0 };
  if (!column.lowered) return settings;
  const scores = rows.map((row) => row.score[column.rule]);
  return { ...settings, threshold: defaultEventThreshold(settings.threshold, scores) };
}

function eventsOf(rows: FrameRow[], rule: Rule, settings: EventSettings): EventSpan[] {
  return detectEvents(
    rows.map((row, index) => ({ index, timeMs: row.timeMs, score: row.score[rule] })),
    settings,
  );
}

const minutes = (rows: FrameRow[]) =>
  (rows.length * (rows.length > 1 ? (rows.at(-1)!.timeMs - rows[0]!.timeMs) / (rows.length - 1) : 1000)) / 60_000;
const inEvent = (events: EventSpan[], frame: number) =>
  events.some((e) => frame >= e.startFrame && frame <= e.endFrame);
const mean = (values: number[]) => (values.length ? values.reduce((a, b) => a + b, 0) / values.length : Number.NaN);

/** The val drive under one rule: recall of the labelled objects, false events per minute, ordinary frames. */
function valFigures(
  rows: FrameRow[],
  rule: Rule,
  settings: EventSettings,
  { objects, unseenFrames: unseen, shares }: Awaited<ReturnType<typeof labelledObjects>>,
) {
  const events = eventsOf(rows, rule, settings);
  const framesWithObjects = new Set(objects.map((object) => object.frame));
  const recalled = objects.filter((object) => inEvent(events, object.frame));
  const outlinedThere = recalled.filter((object) => object.outlined[rule]);
  const falseEvents = events.filter((e) => ![...framesWithObjects].some((f) => f >= e.startFrame && f <= e.endFrame));
  const ordinary = rows.filter((_, frame) => !unseen[frame]);
  const ordinaryEvents = events.filter((e) =>
    rows.slice(e.startFrame, e.endFrame + 1).every((_, i) => !unseen[e.startFrame + i]),
  );
  return {
    settings,
    events: events.length,
    event_frames: events.reduce((sum, e) => sum + e.frameCount, 0),
    recall: recalled.length / objects.length,
    recalled_and_outlined: outlinedThere.length / objects.length,
    false_events: falseEvents.length,
    false_events_per_minute: falseEvents.length / minutes(rows),
    ordinary_frames: ordinary.length,
    ordinary_false_events_per_minute: ordinary.length ? ordinaryEvents.length / minutes(ordinary) : null,
    ordinary_outlined_share: ordinary.length ? mean(ordinary.map((row) => row.outlinedShare[rule])) : null,
    outlined_share_all_frames: mean(rows.map((row) => row.outlinedShare[rule])),
    spearman_score_vs_unseen_share: spearman(
      rows.map((row) => row.score[rule]),
      shares,
    ),
  };
}

/** Ordinary footage under one rule: every event is a false one. */
function ordinaryFigures(rows: FrameRow[], rule: Rule, settings: EventSettings) {
  const events = eventsOf(rows, rule, settings);
  return {
    settings,
    frames: rows.length,
    events: events.length,
    false_events_per_minute: events.length / minutes(rows),
    outlined_share: mean(rows.map((row) => row.outlinedShare[rule])),
  };
}

async function main() {
  const modelsDir = defaultModelsDir();
  const card = await readModelCard(modelsDir, values.model);
  const raw = JSON.parse(readFileSync(join(modelsDir, `${values.model}.json`), 'utf8')) as {
    training?: { calibration?: { pixelFrameThresholds?: Record<string, number> } };
  };
  const oldCalibrated = raw.training?.calibration?.pixelFrameThresholds?.[card.scores.default];
  if (oldCalibrated === undefined)
    throw new Error(
      `${values.model}.json has no training.calibration.pixelFrameThresholds.${card.scores.default} (the old rule's threshold)`,
    );
  const labelled = await labelledObjects();
  const { objects, unseenFrames } = labelled;
  const engine = await openEngine(modelsDir, values.model, { provider: 'cpu' });
  const outlineThreshold = regionFrameThreshold(card);
  const val = await analyseDrive(engine, VAL_DRIVE, objects, outlineThreshold);
  const highway = await analyseDrive(engine, HIGHWAY, [], outlineThreshold);
  await engine.dispose();
  if (val.length !== unseenFrames.length)
    throw new Error(`the val drive has ${val.length} frames, the labels ${unseenFrames.length}`);
  const result: CheckResult = {
    model: values.model,
    val: {
      frames: val.length,
      objects: objects.length,
      frames_with_objects: new Set(objects.map((o) => o.frame)).size,
    },
    highway: { frames: highway.length },
    columns: Object.fromEntries(
      COLUMNS.map((column) => [
        column.name,
        {
          val: valFigures(val, column.rule, settingsFor(column, val, card, oldCalibrated), labelled),
          highway: ordinaryFigures(highway, column.rule, settingsFor(column, highway, card, oldCalibrated)),
        },
      ]),
    ) as CheckResult['columns'],
  };
  if (values.json) console.log(JSON.stringify(result));
  else printTable(result);
}

function printTable(result: CheckResult) {
  const f = (value: number | null, digits = 2) => (value === null || Number.isNaN(value) ? '-' : value.toFixed(digits));
  const pct = (value: number | null) => (value === null || Number.isNaN(value) ? '-' : `${(100 * value).toFixed(1)}%`);
  const rule = (s: EventSettings) =>
    `thr ${s.threshold.toFixed(3)} hyst ${s.hysteresis.toFixed(3)} >=${s.minFrames} fr ${s.minDurationMs} ms`;
  type Figures = CheckResult['columns'][Column['name']];
  const ordinary = result.columns.old.val.ordinary_frames;
  const rows: [string, (c: Figures) => string][] = [
    ['val: event settings', (c) => rule(c.val.settings)],
    ['val: events (frames in them)', (c) => `${c.val.events} (${c.val.event_frames})`],
    ['val: event recall', (c) => pct(c.val.recall)],
    ['val: recalled and outlined there', (c) => pct(c.val.recalled_and_outlined)],
    ['val: false events / min', (c) => f(c.val.false_events_per_minute)],
    ['val: share of a frame outlined', (c) => pct(c.val.outlined_share_all_frames)],
    ['val: Spearman, score vs unseen pixel share', (c) => f(c.val.spearman_score_vs_unseen_share, 3)],
    [`val ordinary frames (${ordinary}): false events / min`, (c) => f(c.val.ordinary_false_events_per_minute)],
    ['val ordinary frames: share outlined', (c) => pct(c.val.ordinary_outlined_share)],
    ['highway: event settings', (c) => rule(c.highway.settings)],
    ['highway: events', (c) => String(c.highway.events)],
    ['highway: false events / min', (c) => f(c.highway.false_events_per_minute)],
    ['highway: share of a frame outlined', (c) => pct(c.highway.outlined_share)],
  ];
  console.log(
    `${result.model}: val drive ${result.val.frames} frames, ${result.val.objects} pedestrian/bicyclist components >= ${MIN_OBJECT_PIXELS} px in ${result.val.frames_with_objects} frames; highway ${result.highway.frames} frames`,
  );
  const heads = ['old: pixel p90, lowered', 'new: regions', 'new, lowered to top tenth'];
  console.log(`${'figure'.padEnd(50)}${heads.map((head) => head.padEnd(38)).join('')}`);
  for (const [label, cell] of rows)
    console.log(`${label.padEnd(50)}${COLUMNS.map((column) => cell(result.columns[column.name]).padEnd(38)).join('')}`);
}

await main();
