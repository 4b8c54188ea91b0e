import type { EventSettings, Timeline } from '../../src-shared/contract/index.js';

export interface ScoredFrame {
  index: number;
  timeMs: number;
  score: number;
}

/** The timeline's frames as events are made from them. */
export function timelineFrames({ timesMs, scores }: Timeline): ScoredFrame[] {
  // Frame indices run 0..n-1 without gaps, so a frame's index is its position on the timeline.
  return Array.from(scores, (score, index) => ({ index, timeMs: timesMs[index]!, score }));
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

/**
 * The settings an analysis starts with, from the model's frame threshold and pixel threshold.
 * - Hysteresis: a quarter of the way from the frame threshold down to the pixel threshold. A region's score
 *   (its mean pixel score, every pixel above the pixel threshold) lives in that band, so an event stays open
 *   while its score keeps three quarters of its height above the floor; a fixed 0.05 would, with the shipped
 *   models' 0.07-wide band, hold an event open over nearly any frame with a region by the road.
 * - Persistence: two analysed frames (one is a blink) spanning half a second (at the default 2 fps those are
 *   two neighbouring frames; at 25 fps a two-frame blip of 40 ms is still no event). A thing on the road that
 *   matters stays in view longer than that: at 50 km/h half a second is 7 m.
 */
export function defaultEventSettings(frameThreshold: number, pixelThreshold: number): EventSettings {
  return {
    threshold: frameThreshold,
    hysteresis: Math.max(0, (frameThreshold - pixelThreshold) / 4),
    minGapMs: 1000,
    minFrames: 2,
    minDurationMs: 500,
  };
}

/** Share of a drive's frames that the default event threshold lets through at least. */
export const DEFAULT_EVENT_SHARE = 0.1;

/**
 * The default event threshold of analyses scored by the pixel 90th percentile (before unknown regions): the
 * model's calibrated frame threshold, lowered to the drive's own 90th percentile of frame scores when fewer than
 * 10% of its frames reach it, since a drive unlike the training drives could score lower throughout. Region
 * scores are not lowered (EventStore.finish); this stays so scripts/check-events-vs-labels.ts can set
 * the old rule beside the new one.
 */
export function defaultEventThreshold(calibrated: number, scores: ArrayLike<number>): number {
  if (scores.length === 0) return calibrated;
  const sorted = Float64Array.from(scores).sort();
  const tenthFromTop = sorted[Math.floor((1 - DEFAULT_EVENT_SHARE) * (sorted.length - 1))]!;
  return Math.min(calibrated, tenthFromTop);
}

/**
 * Events are runs of frames whose score rises above the threshold and stays at or above
 * threshold - hysteresis (so a score wavering around the threshold makes one event, not many). A run must
 * persist, over at least minFrames analysed frames and minDurationMs from its first to its last frame, or it
 * is dropped; runs are judged before merging, so two blinks close together do not make an event. Events whose
 * gap (next start - previous end) is under minGapMs are then merged. Frames must come in timeline order.
 */
export function detectEvents(frames: readonly ScoredFrame[], settings: EventSettings): EventSpan[] {
  const persistent = findRuns(frames, settings).filter(
    (run) => run.frameCount >= settings.minFrames && run.endMs - run.startMs >= settings.minDurationMs,
  );
  return mergeClose(persistent, settings.minGapMs);
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
