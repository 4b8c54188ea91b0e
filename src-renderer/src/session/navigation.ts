// Where the playhead goes: events by N / P, frames by time (after switching analyses, while playing).
// Imports carry .js so this module also typechecks under NodeNext (its unit test runs it in Node).
import type { EventInfo } from '../../../src-shared/contract/index.js';
import { lowerBound } from './timeline-draw.js';

/**
 * The event N (direction 1) or P (-1) goes to, by peak frame: the first peak after the frame on screen, or the
 * last one before it. Peaks, not starts, order the events: the playhead sits on a peak after every jump, so
 * from inside an event N goes on to the next one and P back to the one before, and an event that starts at
 * frame 0 is reached by N from frame 0 (unless frame 0 is its peak: then the playhead is on it already).
 */
export function eventToward(
  events: readonly EventInfo[],
  frameIndex: number,
  direction: 1 | -1,
): EventInfo | undefined {
  const byPeak = [...events].sort((a, b) => a.peakFrame - b.peakFrame);
  return direction > 0
    ? byPeak.find((event) => event.peakFrame > frameIndex)
    : byPeak.reverse().find((event) => event.peakFrame < frameIndex);
}

/** The last frame shown at or before time t (the first frame before the drive starts); times ascending. */
export function frameAtOrBefore(times: ArrayLike<number>, t: number): number {
  const after = lowerBound(times, t);
  if (after < times.length && (times[after] ?? 0) <= t) return after;
  return Math.max(0, after - 1);
}

/** Playback speeds offered (J / L step through them). */
export const SPEEDS = [0.25, 0.5, 1, 2, 4] as const;

/** The next speed up or down the list from `speed`, staying inside it. */
export function stepSpeed(speed: number, step: 1 | -1): number {
  const index = SPEEDS.findIndex((candidate) => candidate >= speed);
  const at = index < 0 ? SPEEDS.length - 1 : index;
  return SPEEDS[Math.max(0, Math.min(SPEEDS.length - 1, at + step))]!;
}
