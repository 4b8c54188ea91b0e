import type { EventSettings } from '../../src-shared/contract/index.js';

export interface ScoredFrame {
  index: number;
  timeMs: number;
  score: number;
}

export interface EventSpan {
  startFrame: number;
  endFrame: number;
  startMs: number;
  endMs: number;
  peakFrame: number;
  peakMs: number;
  peakScore: number;
  frameCount: number;
}

export const defaultEventSettings = (threshold: number): EventSettings => ({
  threshold,
  hysteresis: 0.05,
  minGapMs: 1000,
});

/** Share of a drive's frames that the default event threshold lets through at least. */
export const DEFAULT_EVENT_SHARE = 0.1;

/**
 * The threshold events start with once a drive is analysed: the model's calibrated frame threshold, lowered to
 * the drive's own 90th percentile of frame scores when fewer than 10% of its frames reach it. The calibration
 * comes from the training drives; a drive unlike them (light, camera, place) can score lower throughout, and
 * would otherwise show no event at all. Every drive thus shows at least its most unusual tenth for review.
 */
export function defaultEventThreshold(calibrated: number, scores: ArrayLike<number>): number {
  if (scores.length === 0) return calibrated;
  const sorted = Float64Array.from(scores).sort();
  const tenthFromTop = sorted[Math.floor((1 - DEFAULT_EVENT_SHARE) * (sorted.length - 1))]!;
  return Math.min(calibrated, tenthFromTop);
}

/**
 * Events are runs of frames whose score rises above the threshold and stays at or above
 * threshold - hysteresis (so a score wavering around the threshold makes one event, not many); events whose
 * gap (next start - previous end) is under minGapMs are merged. Frames must come in timeline order.
 */
export function detectEvents(frames: readonly ScoredFrame[], settings: EventSettings): EventSpan[] {
  return mergeClose(findRuns(frames, settings), settings.minGapMs);
}

function findRuns(frames: readonly ScoredFrame[], settings: EventSettings): EventSpan[] {
  const runs: EventSpan[] = [];
  const stayAbove = settings.threshold - settings.hysteresis;
  let open: EventSpan | undefined;
  for (const frame of frames) {
    if (open && frame.score >= stayAbove) {
      extend(open, frame);
    } else if (frame.score > settings.threshold) {
      if (open) runs.push(open);
      open = startSpan(frame);
    } else if (open) {
      runs.push(open);
      open = undefined;
    }
  }
  if (open) runs.push(open);
  return runs;
}

function startSpan(frame: ScoredFrame): EventSpan {
  return {
    startFrame: frame.index,
    endFrame: frame.index,
    startMs: frame.timeMs,
    endMs: frame.timeMs,
    peakFrame: frame.index,
    peakMs: frame.timeMs,
    peakScore: frame.score,
    frameCount: 1,
  };
}

function extend(span: EventSpan, frame: ScoredFrame): void {
  span.endFrame = frame.index;
  span.endMs = frame.timeMs;
  span.frameCount += 1;
  if (frame.score > span.peakScore) {
    span.peakFrame = frame.index;
    span.peakMs = frame.timeMs;
    span.peakScore = frame.score;
  }
}

function mergeClose(runs: EventSpan[], minGapMs: number): EventSpan[] {
  const merged: EventSpan[] = [];
  for (const run of runs) {
    const previous = merged.at(-1);
    if (previous && run.startMs - previous.endMs < minGapMs) {
      const peak = run.peakScore > previous.peakScore ? run : previous;
      merged[merged.length - 1] = {
        startFrame: previous.startFrame,
        startMs: previous.startMs,
        endFrame: run.endFrame,
        endMs: run.endMs,
        peakFrame: peak.peakFrame,
        peakMs: peak.peakMs,
        peakScore: peak.peakScore,
        frameCount: run.endFrame - previous.startFrame + 1,
      };
    } else {
      merged.push(run);
    }
  }
  return merged;
}
