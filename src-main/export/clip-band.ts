import { drawText, fillRect, GLYPH_HEIGHT, textWidth } from './bitmap-font.js';
import type { RgbaImage } from './images.js';

/** The analysed frames a clip spans, to draw its score strip. */
export interface ClipTimeline {
  fromMs: number;
  toMs: number;
  /** Session times and scores of every analysed frame, in time order. */
  timesMs: ArrayLike<number>;
  scores: ArrayLike<number>;
  /** The event threshold, drawn as a line across the strip. */
  threshold: number;
}

/** The band burnt in below a clip's picture: time and score text, then the score strip with the playhead. */
export interface ClipBand {
  height: number;
  /** Draws the band for the frame shown at `timeMs` into `target`, starting at row `top`. */
  draw(target: RgbaImage, top: number, timeMs: number, score: number | null): void;
}

const BACKGROUND: [number, number, number] = [16, 16, 16];
const STRIP_BACKGROUND: [number, number, number] = [40, 40, 44];
const TEXT: [number, number, number] = [235, 235, 235];
const BELOW: [number, number, number] = [90, 140, 200];
const ABOVE: [number, number, number] = [255, 138, 0];
const THRESHOLD: [number, number, number] = [200, 200, 200];
const PLAYHEAD: [number, number, number] = [255, 255, 255];
/** The caption is always this long ("0:00.000  SCORE 0.00"), so the strip does not move as the clock runs. */
const CAPTION_CHARACTERS = 20;

/**
 * Index of the analysed frame shown at `timeMs`: the last one at or before it (half a millisecond of slack
 * for rounded timestamps), -1 before the first. Frames between analysed ones hold its overlay and score.
 */
export function heldFrame(timesMs: ArrayLike<number>, timeMs: number): number {
  let [low, high] = [0, timesMs.length - 1];
  let found = -1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    if (timesMs[middle]! <= timeMs + 0.5) [found, low] = [middle, middle + 1];
    else high = middle - 1;
  }
  return found;
}

/** m:ss.mmm, or h:mm:ss.mmm past an hour. */
export function clock(timeMs: number): string {
  const total = Math.max(0, Math.round(timeMs));
  const [hours, minutes, seconds, millis] = [
    Math.floor(total / 3_600_000),
    Math.floor(total / 60_000) % 60,
    Math.floor(total / 1000) % 60,
    total % 1000,
  ];
  const tail = `${String(seconds).padStart(2, '0')}.${String(millis).padStart(3, '0')}`;
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${tail}` : `${minutes}:${tail}`;
}

export function caption(timeMs: number, score: number | null): string {
  return `${clock(timeMs)}  SCORE ${score === null ? '-' : score.toFixed(2)}`.padEnd(CAPTION_CHARACTERS);
}

/** Band height for a picture `videoHeight` tall: about a tenth of it, at least 36 px, even (4:2:0 video). */
export function bandHeight(videoHeight: number): number {
  return 2 * Math.ceil(Math.max(36, videoHeight * 0.09) / 2);
}

export function createBand(width: number, videoHeight: number, timeline: ClipTimeline): ClipBand {
  const height = bandHeight(videoHeight);
  const scale = Math.max(2, Math.floor(height / (2 * GLYPH_HEIGHT)));
  const margin = 2 * scale;
  const textY = Math.floor((height - GLYPH_HEIGHT * scale) / 2);
  const strip = {
    x: margin + textWidth(''.padEnd(CAPTION_CHARACTERS), scale) + margin,
    y: margin,
    height: height - 2 * margin,
  };
  const stripWidth = width - margin - strip.x;
  const base = { width, height, data: new Uint8Array(width * height * 4) };
  fillRect(base, 0, 0, width, height, BACKGROUND);
  if (stripWidth > 0) drawScores(base, { ...strip, width: stripWidth }, timeline);
  const span = Math.max(1, timeline.toMs - timeline.fromMs);
  return {
    height,
    draw(target, top, timeMs, score) {
      target.data.set(base.data, top * width * 4);
      const band = { width, height, data: target.data.subarray(top * width * 4, (top + height) * width * 4) };
      drawText(band, caption(timeMs, score), margin, textY, scale, TEXT);
      if (stripWidth <= 0) return;
      const x = strip.x + Math.min(1, Math.max(0, (timeMs - timeline.fromMs) / span)) * (stripWidth - 1);
      fillRect(band, x - Math.floor(scale / 2), 0, Math.max(2, scale), height, PLAYHEAD);
    },
  };
}

/** One bar per strip column: the score held at that column's time, orange at or above the threshold. */
function drawScores(
  image: RgbaImage,
  strip: { x: number; y: number; width: number; height: number },
  timeline: ClipTimeline,
): void {
  fillRect(image, strip.x, strip.y, strip.width, strip.height, STRIP_BACKGROUND);
  const span = timeline.toMs - timeline.fromMs;
  for (let column = 0; column < strip.width; column++) {
    const index = heldFrame(timeline.timesMs, timeline.fromMs + (column / strip.width) * span);
    if (index < 0) continue;
    const score = Math.min(1, Math.max(0, timeline.scores[index]!));
    const bar = Math.round(score * strip.height);
    const color = score >= timeline.threshold ? ABOVE : BELOW;
    fillRect(image, strip.x + column, strip.y + strip.height - bar, 1, bar, color);
  }
  const lineY = strip.y + strip.height - Math.round(Math.min(1, timeline.threshold) * strip.height);
  fillRect(image, strip.x, lineY, strip.width, 1, THRESHOLD);
}
