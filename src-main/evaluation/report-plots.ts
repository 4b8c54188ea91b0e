/**
 * The evaluation report's charts as standalone SVG text: no plotting library, no fonts beyond the viewer's
 * sans-serif, so the files open offline anywhere (browser, image viewer, the app's model screen).
 */

export interface Series {
  name: string;
  color: string;
  points: readonly (readonly [number, number])[];
  /** Draw markers at the points (few points) instead of only a line. */
  markers?: boolean;
  /** Draw as a step histogram of bins over the x domain instead of a polyline. */
  steps?: boolean;
}

export interface LineChart {
  title: string;
  xLabel: string;
  yLabel: string;
  x: readonly [number, number];
  y: readonly [number, number];
  series: Series[];
  /** Dashed reference line (the chance diagonal of a ROC). */
  diagonal?: boolean;
}

const WIDTH = 480;
const HEIGHT = 360;
const PLOT = { left: 56, right: 16, top: 40, bottom: 48 };
const AXIS = '#555';
const GRID = '#e4e4e4';

export const escapeXml = (text: string) =>
  text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');

const round = (value: number) => Math.round(value * 100) / 100;

function frame(title: string, body: string[], height = HEIGHT): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${height}" width="${WIDTH}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${WIDTH}" height="${height}" fill="#fff"/>`,
    `<text x="${WIDTH / 2}" y="22" text-anchor="middle" font-size="14" font-weight="bold">${escapeXml(title)}</text>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}

const ticks = (domain: readonly [number, number]) =>
  [0, 0.25, 0.5, 0.75, 1].map((t) => domain[0] + t * (domain[1] - domain[0]));

const label = (value: number) => (Math.abs(value) >= 10 ? value.toFixed(0) : String(Math.round(value * 1000) / 1000));

/** Axes, grid, tick labels and one polyline (or markers, or steps) per series, with a legend. */
export function lineChart(chart: LineChart): string {
  const inner = { width: WIDTH - PLOT.left - PLOT.right, height: HEIGHT - PLOT.top - PLOT.bottom };
  const sx = (x: number) => round(PLOT.left + ((x - chart.x[0]) / (chart.x[1] - chart.x[0] || 1)) * inner.width);
  const sy = (y: number) =>
    round(PLOT.top + inner.height - ((y - chart.y[0]) / (chart.y[1] - chart.y[0] || 1)) * inner.height);
  const body: string[] = [];
  for (const x of ticks(chart.x)) {
    body.push(`<line x1="${sx(x)}" y1="${PLOT.top}" x2="${sx(x)}" y2="${PLOT.top + inner.height}" stroke="${GRID}"/>`);
    body.push(`<text x="${sx(x)}" y="${PLOT.top + inner.height + 14}" text-anchor="middle">${label(x)}</text>`);
  }
  for (const y of ticks(chart.y)) {
    body.push(`<line x1="${PLOT.left}" y1="${sy(y)}" x2="${PLOT.left + inner.width}" y2="${sy(y)}" stroke="${GRID}"/>`);
    body.push(`<text x="${PLOT.left - 6}" y="${sy(y) + 4}" text-anchor="end">${label(y)}</text>`);
  }
  body.push(
    `<rect x="${PLOT.left}" y="${PLOT.top}" width="${inner.width}" height="${inner.height}" fill="none" stroke="${AXIS}"/>`,
    `<text x="${PLOT.left + inner.width / 2}" y="${HEIGHT - 12}" text-anchor="middle">${escapeXml(chart.xLabel)}</text>`,
    `<text transform="translate(14 ${PLOT.top + inner.height / 2}) rotate(-90)" text-anchor="middle">${escapeXml(chart.yLabel)}</text>`,
  );
  if (chart.diagonal)
    body.push(
      `<line x1="${sx(chart.x[0])}" y1="${sy(chart.y[0])}" x2="${sx(chart.x[1])}" y2="${sy(chart.y[1])}" stroke="#aaa" stroke-dasharray="4 4"/>`,
    );
  for (const series of chart.series) body.push(...drawSeries(series, sx, sy, chart));
  chart.series.forEach((series, i) => {
    const y = PLOT.top + 14 + i * 16;
    body.push(
      `<rect x="${PLOT.left + inner.width - 150}" y="${y - 9}" width="12" height="10" fill="${series.color}"/>`,
      `<text x="${PLOT.left + inner.width - 132}" y="${y}">${escapeXml(series.name)}</text>`,
    );
  });
  return frame(chart.title, body);
}

function drawSeries(series: Series, sx: (x: number) => number, sy: (y: number) => number, chart: LineChart): string[] {
  if (series.steps) {
    const width = (chart.x[1] - chart.x[0]) / Math.max(1, series.points.length);
    const path = series.points
      .map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${sx(x)},${sy(y)} L${sx(x + width)},${sy(y)}`)
      .join(' ');
    return [`<path d="${path}" fill="none" stroke="${series.color}" stroke-width="1.8"/>`];
  }
  const line = `<polyline points="${series.points.map(([x, y]) => `${sx(x)},${sy(y)}`).join(' ')}" fill="none" stroke="${series.color}" stroke-width="1.8"/>`;
  if (!series.markers) return [line];
  return [line, ...series.points.map(([x, y]) => `<circle cx="${sx(x)}" cy="${sy(y)}" r="3" fill="${series.color}"/>`)];
}

/** Horizontal bars, one per entry, with the value written at the end of each; null values are marked n/a. */
export function barChart(title: string, bars: readonly { name: string; value: number | null }[], max = 100): string {
  const rowHeight = 20;
  const height = PLOT.top + bars.length * rowHeight + 24;
  const left = 120;
  const width = WIDTH - left - 56;
  const body = bars.map((bar, i) => {
    const y = PLOT.top + i * rowHeight;
    const length = bar.value === null ? 0 : round((Math.max(0, bar.value) / max) * width);
    const value = bar.value === null ? 'n/a' : bar.value.toFixed(2);
    return [
      `<text x="${left - 6}" y="${y + 14}" text-anchor="end">${escapeXml(bar.name)}</text>`,
      `<rect x="${left}" y="${y + 3}" width="${length}" height="${rowHeight - 6}" fill="#3b7dd8"/>`,
      `<text x="${left + length + 4}" y="${y + 14}">${value}</text>`,
    ].join('');
  });
  return frame(title, body, height);
}
