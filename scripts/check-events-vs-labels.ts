/**
 * The done-when check of the drive-analysis issue: analyse the val drive (0016E5-val.mp4, frame i = the i-th
 * val image in name order) and compare the events' peak frames with the frames that hold the most
 * pedestrian + bicyclist pixels in the val labels (the classes camvid-open never saw).
 *
 *   node --import tsx scripts/check-events-vs-labels.ts [--model camvid-open] [--library PATH] [--json]
 */
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultModelsDir, packageRoot } from '../src-main/core/paths.js';
import { decodeLabelPng } from '../src-main/engine/index.js';
import { AnalysisService } from '../src-main/jobs/index.js';
import { LibraryStore } from '../src-main/library/index.js';
import type { EventSettings } from '../src-shared/contract/index.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'camvid-open' },
    library: { type: 'string' },
    json: { type: 'boolean' },
  },
});
const camvid = join(packageRoot(), '..', 'shared', 'datasets', 'camvid');
const UNSEEN = [9, 10]; // pedestrian, bicyclist

async function unseenFractions(): Promise<number[]> {
  const dir = join(camvid, 'val', 'labels');
  const names = readdirSync(dir)
    .filter((name) => name.endsWith('.png'))
    .sort();
  const fractions: number[] = [];
  for (const name of names) {
    const label = await decodeLabelPng(join(dir, name));
    let count = 0;
    for (const id of label.data) if (UNSEEN.includes(id)) count++;
    fractions.push(count / label.data.length);
  }
  return fractions;
}

/** Area under the ROC curve of `scores` for telling positive frames from the rest (ties count half). */
function auroc(scores: number[], positive: boolean[]): number {
  let wins = 0;
  let pairs = 0;
  scores.forEach((a, i) => {
    if (!positive[i]) return;
    scores.forEach((b, j) => {
      if (positive[j]) return;
      pairs++;
      wins += a > b ? 1 : a === b ? 0.5 : 0;
    });
  });
  return pairs ? wins / pairs : NaN;
}

function ranks(values: number[]): number[] {
  const order = values.map((value, index) => ({ value, index })).sort((a, b) => a.value - b.value);
  const result = new Array<number>(values.length);
  order.forEach((entry, rank) => (result[entry.index] = rank));
  return result;
}

function spearman(a: number[], b: number[]): number {
  const ra = ranks(a);
  const rb = ranks(b);
  const mean = (a.length - 1) / 2;
  let num = 0;
  let da = 0;
  let db = 0;
  ra.forEach((value, i) => {
    num += (value - mean) * (rb[i]! - mean);
    da += (value - mean) ** 2;
    db += (rb[i]! - mean) ** 2;
  });
  return num / Math.sqrt(da * db);
}

const library = values.library ?? join(mkdtempSync(join(tmpdir(), 'dml-check-')), 'library.sqlite');
const store = new LibraryStore(library);
const service = new AnalysisService(store, defaultModelsDir(), () => {});
const session = await service.importSession([join(camvid, 'footage', '0016E5-val.mp4')]);
const started = await service.startAnalysis(session.id, { model: values.model, sampleFps: null });
const analysis = await service.queue.waitFor(started.id);
await service.close();
const scores = store.timeline(analysis.id).scores;
const fractions = await unseenFractions();
// The share of frames that hold a lot of the unseen classes: the top quarter by pixel share.
const quartile = [...fractions].sort((a, b) => b - a)[Math.floor(fractions.length / 4)]!;
const positive = fractions.map((fraction) => fraction > quartile);

/** Events under some settings against the labels: do the peaks fall on the frames richest in unseen classes? */
function compare(label: string, settings: EventSettings) {
  const events = store.recomputeEvents(analysis.id, settings);
  const k = events.length;
  const top = fractions
    .map((fraction, index) => ({ fraction, index }))
    .sort((a, b) => b.fraction - a.fraction)
    .slice(0, k)
    .map((entry) => entry.index);
  const peaks = events.map((event) => event.peakFrame);
  const hits = peaks.filter((frame) => top.includes(frame)).length;
  return {
    label,
    settings,
    events: k,
    peak_frames: peaks,
    top_labelled_frames: top,
    peak_overlap: k ? hits / k : 0,
    peaks_in_top_quarter: k ? peaks.filter((frame) => positive[frame]).length / k : 0,
    mean_unseen_share_at_peaks: k ? peaks.reduce((sum, frame) => sum + fractions[frame]!, 0) / k : 0,
  };
}

const sorted = [...scores].sort((a, b) => a - b);
const p90 = sorted[Math.floor(0.9 * (sorted.length - 1))]!;
const results = {
  model: values.model,
  frames: scores.length,
  mean_unseen_share: fractions.reduce((sum, value) => sum + value, 0) / fractions.length,
  frame_score_auroc_top_quarter: auroc(scores, positive),
  spearman_score_vs_unseen_share: spearman(scores, fractions),
  comparisons: [
    compare('default settings', store.eventSettings(analysis.id)),
    compare('threshold at the 90th percentile of frame scores', { threshold: p90, hysteresis: 0, minGapMs: 0 }),
  ],
};
store.close();
if (values.json) console.log(JSON.stringify(results));
else {
  console.log(`val drive with ${results.model}: ${results.frames} frames, library ${library}`);
  console.log(
    `frame score vs pedestrian+bicyclist pixel share: Spearman ${results.spearman_score_vs_unseen_share.toFixed(3)}, AUROC for the top-quarter frames ${results.frame_score_auroc_top_quarter.toFixed(3)}`,
  );
  for (const c of results.comparisons) {
    console.log(`- ${c.label} (threshold ${c.settings.threshold.toFixed(3)}): ${c.events} events`);
    console.log(
      `  peak frames ${c.peak_frames.join(', ')}; top-${c.events} labelled frames ${c.top_labelled_frames.join(', ')}`,
    );
    console.log(
      `  overlap ${(c.peak_overlap * 100).toFixed(0)}%; peaks in the top quarter by share ${(c.peaks_in_top_quarter * 100).toFixed(0)}%; share at peaks ${(c.mean_unseen_share_at_peaks * 100).toFixed(2)}% vs ${(results.mean_unseen_share * 100).toFixed(2)}% over the drive`,
    );
  }
}
