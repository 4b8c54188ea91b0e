// Imports carry .js so this module also typechecks under NodeNext (its unit test runs it in Node).
import type { EventInfo } from '../../../src-shared/contract/index.js';
import { formatTime } from '../ui/format.js';

export interface TimeView {
  startMs: number;
  endMs: number;
}

/** Per-column max and mean of the score over the frames that fall in each pixel column of the view. */
export interface Envelope {
  max: Float32Array;
  mean: Float32Array;
  /** Columns with no frame keep NaN and are skipped. */
  columns: number;
}

/** First index whose time is >= t (times sorted ascending). */
export function lowerBound(times: ArrayLike<number>, t: number): number {
  let low = 0;
  let high = times.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((times[mid] ?? 0) < t) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** The frame index nearest to time t. */
export function nearestFrame(times: ArrayLike<number>, t: number): number {
  if (!times.length) return 0;
  const after = Math.min(times.length - 1, lowerBound(times, t));
  const before = Math.max(0, after - 1);
  return Math.abs((times[before] ?? 0) - t) <= Math.abs((times[after] ?? 0) - t) ? before : after;
}

/** One pass over the frames in view: O(frames) however many there are, O(columns) to draw afterwards. */
export function envelope(
  times: ArrayLike<number>,
  scores: ArrayLike<number>,
  view: TimeView,
  columns: number,
): Envelope {
  const max = new Float32Array(columns).fill(Number.NaN);
  const sum = new Float32Array(columns);
  const count = new Uint32Array(columns);
  const span = view.endMs - view.startMs || 1;
  // Only frames inside the view: one just outside would be clamped into an edge column and show a false peak.
  const first = lowerBound(times, view.startMs);
  const last = lowerBound(times, view.endMs + 1e-6);
  for (let index = first; index < last; index++) {
    const column = Math.min(
      columns - 1,
      Math.max(0, Math.floor((((times[index] ?? 0) - view.startMs) / span) * columns)),
    );
    const score = scores[index] ?? 0;
    if (!(max[column]! >= score)) max[column] = score;
    sum[column]! += score;
    count[column]! += 1;
  }
  const mean = new Float32Array(columns);
  for (let column = 0; column < columns; column++)
    mean[column] = count[column] ? sum[column]! / count[column]! : Number.NaN;
  return { max, mean, columns };
}

/** The score range the plot's height shows. */
export interface ScoreAxis {
  low: number;
  high: number;
}

/**
 * The data's score range with a margin, always holding the threshold and at least 0.1 tall: a drive whose
 * scores all sit near 0.8 still shows its ups and downs instead of a flat line at the top.
 */
export function scoreAxis(scores: ArrayLike<number>, threshold: number): ScoreAxis {
  let low = threshold;
  let high = threshold;
  for (let index = 0; index < scores.length; index++) {
    const score = scores[index]!;
    if (score < low) low = score;
    if (score > high) high = score;
  }
  const margin = Math.max(0.02, (high - low) * 0.08);
  low = Math.max(0, low - margin);
  high = Math.min(1, high + margin);
  if (high - low < 0.1) {
    const middle = (high + low) / 2;
    low = Math.max(0, Math.min(middle - 0.05, 0.9));
    high = low + 0.1;
  }
  return { low, high };
}

export interface PlotStyle {
  ratio: number;
  /** Pixels reserved at the bottom for time labels. */
  axis: number;
  /** Pixels at the top for event and flag marks. */
  marks: number;
}

export interface PlotInput {
  env: Envelope;
  view: TimeView;
  threshold: number;
  events: readonly EventInfo[];
  flagTimes: readonly number[];
  cursorMs: number;
  hoverMs?: number;
  axis: ScoreAxis;
}

const colors = {
  grid: 'rgba(255,255,255,0.06)',
  label: '#a9b3c2',
  labelBacking: 'rgba(24,28,34,0.82)',
  area: 'rgba(79,157,255,0.28)',
  line: '#4f9dff',
  hot: 'rgba(255,93,93,0.55)',
  hotLine: '#ff6b6b',
  event: 'rgba(255,179,71,0.14)',
  eventMark: '#ffb347',
  flag: '#ffd84d',
  threshold: '#ff5d5d',
  cursor: '#ffffff',
  hover: 'rgba(255,255,255,0.35)',
};

/** Draws the whole plot; pure canvas calls so its cost is what the perf figure measures. */
export function drawPlot(
  context: CanvasRenderingContext2D,
  width: number,
  height: number,
  input: PlotInput,
  style: PlotStyle,
): void {
  const { env, view, threshold } = input;
  const { ratio } = style;
  const top = style.marks * ratio;
  const bottom = height - style.axis * ratio;
  const plotHeight = bottom - top;
  const xOf = (ms: number) => ((ms - view.startMs) / (view.endMs - view.startMs || 1)) * width;
  const { low, high } = input.axis;
  const yOf = (score: number) => bottom - Math.max(0, Math.min(1, (score - low) / (high - low))) * plotHeight;
  const columnWidth = width / env.columns;

  const cursorX = Math.round(xOf(input.cursorMs));
  context.clearRect(0, 0, width, height);
  drawGrid(context, width, top, bottom, view, xOf, ratio, cursorX);

  for (const event of input.events) {
    const x0 = xOf(event.startMs);
    const x1 = Math.max(x0 + 2 * ratio, xOf(event.endMs));
    if (x1 < 0 || x0 > width) continue;
    context.fillStyle = colors.event;
    context.fillRect(x0, top, x1 - x0, plotHeight);
    context.fillStyle = colors.eventMark;
    context.fillRect(x0, top - 5 * ratio, x1 - x0, 3 * ratio);
  }

  // Columns without a frame (a sparse drive, or zoomed in) are bridged: the line joins the frames either side.
  const area = new Path2D();
  const line = new Path2D();
  let firstX: number | undefined;
  let lastX = 0;
  for (let column = 0; column < env.columns; column++) {
    const value = env.max[column]!;
    if (Number.isNaN(value)) continue;
    const x = (column + 0.5) * columnWidth;
    const y = yOf(value);
    if (firstX === undefined) {
      firstX = x;
      area.moveTo(x, bottom);
      line.moveTo(x, y);
    } else line.lineTo(x, y);
    area.lineTo(x, y);
    lastX = x;
  }
  if (firstX !== undefined) {
    area.lineTo(lastX, bottom);
    area.closePath();
  }
  context.fillStyle = colors.area;
  context.fill(area);
  context.lineWidth = ratio;
  context.strokeStyle = colors.line;
  context.stroke(line);

  // The part above the threshold again, in red: the eye finds hazards without reading the line.
  const thresholdY = yOf(threshold);
  context.save();
  context.beginPath();
  context.rect(0, top, width, thresholdY - top);
  context.clip();
  context.fillStyle = colors.hot;
  context.fill(area);
  context.strokeStyle = colors.hotLine;
  context.stroke(line);
  context.restore();

  context.fillStyle = colors.flag;
  for (const timeMs of input.flagTimes) {
    const x = xOf(timeMs);
    if (x < -6 || x > width + 6) continue;
    context.beginPath();
    context.moveTo(x - 4 * ratio, 0);
    context.lineTo(x + 4 * ratio, 0);
    context.lineTo(x, 7 * ratio);
    context.closePath();
    context.fill();
  }

  context.setLineDash([5 * ratio, 4 * ratio]);
  context.strokeStyle = colors.threshold;
  context.lineWidth = 1.25 * ratio;
  context.beginPath();
  context.moveTo(0, thresholdY);
  context.lineTo(width, thresholdY);
  context.stroke();
  context.setLineDash([]);
  const label = `threshold ${threshold.toFixed(3)}`;
  context.font = `${11 * ratio}px system-ui, sans-serif`;
  const labelWidth = context.measureText(label).width + 10 * ratio;
  context.fillStyle = colors.threshold;
  context.fillRect(width - labelWidth, thresholdY - 8 * ratio, labelWidth, 16 * ratio);
  context.fillStyle = '#1a0c0c';
  context.fillText(label, width - labelWidth + 5 * ratio, thresholdY + 4 * ratio);

  if (input.hoverMs !== undefined) {
    context.fillStyle = colors.hover;
    context.fillRect(Math.round(xOf(input.hoverMs)), top, ratio, plotHeight);
  }
  context.fillStyle = colors.cursor;
  context.fillRect(cursorX - ratio, top - 6 * ratio, 2 * ratio, plotHeight + 6 * ratio);
  context.beginPath();
  context.moveTo(cursorX - 5 * ratio, top - 8 * ratio);
  context.lineTo(cursorX + 5 * ratio, top - 8 * ratio);
  context.lineTo(cursorX, top - 2 * ratio);
  context.fill();
  // Drawn last, on a backing, so neither the playhead nor the curve hides them.
  drawScoreLabels(context, top, bottom, ratio, input.axis, cursorX < 56 * ratio ? width : 0);
  drawCursorTime(context, cursorX, bottom, width, ratio, formatTime(input.cursorMs));
}

const LABEL_FONT = 12;

function labelBacked(context: CanvasRenderingContext2D, text: string, x: number, y: number, ratio: number) {
  const width = context.measureText(text).width;
  context.fillStyle = colors.labelBacking;
  context.fillRect(x - 2 * ratio, y - LABEL_FONT * ratio, width + 4 * ratio, (LABEL_FONT + 3) * ratio);
  context.fillStyle = colors.label;
  context.fillText(text, x, y);
}

/** The score axis labels at the left edge, or at the right one (edgeX = width) while the playhead is at the left. */
function drawScoreLabels(
  context: CanvasRenderingContext2D,
  top: number,
  bottom: number,
  ratio: number,
  axis: ScoreAxis,
  edgeX: number,
) {
  context.font = `${LABEL_FONT * ratio}px system-ui, sans-serif`;
  for (const share of [0.25, 0.5, 0.75, 1]) {
    const y = Math.round(bottom - share * (bottom - top));
    const text = (axis.low + share * (axis.high - axis.low)).toFixed(2);
    const x = edgeX === 0 ? 4 * ratio : edgeX - context.measureText(text).width - 4 * ratio;
    labelBacked(context, text, x, y + (LABEL_FONT + 1) * ratio, ratio);
  }
}

/** The playhead's own time under it, in the axis row (the tick labels leave it room). */
function drawCursorTime(
  context: CanvasRenderingContext2D,
  cursorX: number,
  bottom: number,
  width: number,
  ratio: number,
  text: string,
) {
  context.font = `600 ${LABEL_FONT * ratio}px system-ui, sans-serif`;
  const textWidth = context.measureText(text).width;
  const x = Math.max(2 * ratio, Math.min(width - textWidth - 2 * ratio, cursorX - textWidth / 2));
  context.fillStyle = colors.cursor;
  context.fillRect(x - 3 * ratio, bottom + 2 * ratio, textWidth + 6 * ratio, (LABEL_FONT + 4) * ratio);
  context.fillStyle = '#111418';
  context.fillText(text, x, bottom + (LABEL_FONT + 2) * ratio);
}

function drawGrid(
  context: CanvasRenderingContext2D,
  width: number,
  top: number,
  bottom: number,
  view: TimeView,
  xOf: (ms: number) => number,
  ratio: number,
  cursorX: number,
) {
  for (const share of [0, 0.25, 0.5, 0.75, 1]) {
    context.fillStyle = colors.grid;
    context.fillRect(0, Math.round(bottom - share * (bottom - top)), width, ratio);
  }
  const step = tickStep((view.endMs - view.startMs) / Math.max(1, width / (110 * ratio)));
  context.font = `${LABEL_FONT * ratio}px system-ui, sans-serif`;
  for (let ms = Math.ceil(view.startMs / step) * step; ms <= view.endMs; ms += step) {
    const x = Math.round(xOf(ms));
    context.fillStyle = colors.grid;
    context.fillRect(x, top, ratio, bottom - top);
    const text = formatTime(ms, step < 1000);
    const textWidth = context.measureText(text).width;
    // A tick label under the playhead's own time label would be hidden by it, one past the edge cut: leave them out.
    if (Math.abs(x + 3 * ratio + textWidth / 2 - cursorX) < textWidth + 12 * ratio) continue;
    if (x + 3 * ratio + textWidth > width) continue;
    context.fillStyle = colors.label;
    context.fillText(text, x + 3 * ratio, bottom + (LABEL_FONT + 2) * ratio);
  }
}

/** A round tick spacing (1, 2, 5 x 10^n ms, then minutes) at least `minimum` wide. */
function tickStep(minimum: number): number {
  const steps = [
    100, 200, 500, 1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000, 1_800_000,
    3_600_000,
  ];
  return steps.find((step) => step >= minimum) ?? 3_600_000 * Math.ceil(minimum / 3_600_000);
}

/** The whole-drive strip under a zoomed timeline, with the visible window outlined. */
export function drawMinimap(
  context: CanvasRenderingContext2D,
  width: number,
  height: number,
  env: Envelope,
  full: TimeView,
  view: TimeView,
  ratio: number,
) {
  context.clearRect(0, 0, width, height);
  const columnWidth = width / env.columns;
  context.fillStyle = 'rgba(79,157,255,0.5)';
  for (let column = 0; column < env.columns; column++) {
    const value = env.max[column]!;
    if (Number.isNaN(value)) continue;
    const barHeight = Math.max(ratio, value * (height - 2 * ratio));
    context.fillRect(column * columnWidth, height - barHeight, Math.max(ratio, columnWidth), barHeight);
  }
  const span = full.endMs - full.startMs || 1;
  const x0 = ((view.startMs - full.startMs) / span) * width;
  const x1 = ((view.endMs - full.startMs) / span) * width;
  context.fillStyle = 'rgba(255,255,255,0.12)';
  context.fillRect(x0, 0, Math.max(2 * ratio, x1 - x0), height);
  context.strokeStyle = 'rgba(255,255,255,0.7)';
  context.lineWidth = ratio;
  context.strokeRect(x0 + ratio / 2, ratio / 2, Math.max(2 * ratio, x1 - x0) - ratio, height - ratio);
}
