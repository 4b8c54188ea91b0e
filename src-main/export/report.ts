import type { Timeline } from '../../src-shared/contract/index.js';
import type { Manifest } from './manifest.js';

/** Per row: small JPEGs of the frame and of its overlay, inlined so the report needs no other file. */
export interface ReportThumbnails {
  frame: Buffer;
  overlay: Buffer;
}

const PLOT = { width: 1000, height: 170, left: 34, right: 8, top: 10, bottom: 22 };
const MAX_POINTS = 1500;

/**
 * One HTML file that opens offline in any browser: the session and model, the score over the whole drive as
 * inline SVG with the flags marked, and a card per flag with its thumbnails and figures. Links to the
 * full-resolution files are relative, so they work wherever the folder is copied.
 */
export function renderReport(manifest: Manifest, timeline: Timeline, thumbnails: ReportThumbnails[]): string {
  const { session, analysis } = manifest;
  const cards = manifest.rows.map((row, index) => {
    const thumbs = thumbnails[index];
    return `<article class="card" id="flag-${row.flagId}">
  <div class="thumbs">
    <a href="${attr(row.files.frame)}"><img alt="frame ${row.frameIndex}" src="data:image/jpeg;base64,${thumbs?.frame.toString('base64') ?? ''}"></a>
    <a href="${attr(row.files.overlay)}"><img alt="overlay of frame ${row.frameIndex}" src="data:image/jpeg;base64,${thumbs?.overlay.toString('base64') ?? ''}"></a>
  </div>
  <div class="facts">
    <h3><span class="n">${index + 1}</span> <span class="chip ${attr(row.category)}">${text(row.category)}</span> ${formatTime(row.timeMs)} <small>frame ${row.frameIndex}</small></h3>
    <p class="note">${row.note ? text(row.note) : '<em>no note</em>'}</p>
    <table>
      <tr><th>OOD score</th><td>${row.score.toFixed(3)}${row.score > analysis.threshold ? ' <b class="hot">above threshold</b>' : ''}</td></tr>
      <tr><th>Unknown area</th><td>${(row.unknownFraction * 100).toFixed(2)} %</td></tr>
      <tr><th>Largest unknown region</th><td>${row.largestRegion ? `${(row.largestRegion.area * 100).toFixed(2)} % at (${row.largestRegion.x}, ${row.largestRegion.y}) ${row.largestRegion.width}×${row.largestRegion.height}` : '–'}</td></tr>
      <tr><th>Source</th><td>${text(row.sourceFile)}</td></tr>
      <tr><th>Files</th><td>${[row.files.frame, row.files.overlay, row.files.oodMap, row.files.classMap].map((file) => `<a href="${attr(file)}">${text(file)}</a>`).join('<br>')}</td></tr>
    </table>
  </div>
</article>`;
  });
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data: 'self'; style-src 'unsafe-inline'">
<title>dmlreview report: ${text(session.name)}</title>
<style>
body { font: 14px/1.45 system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; margin: 24px auto; max-width: 1080px; color: #1b1f24; padding: 0 16px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 16px; margin: 28px 0 8px; } h3 { font-size: 15px; margin: 0 0 6px; }
.meta { color: #555; } .meta code { font-size: 12px; word-break: break-all; }
svg { width: 100%; height: auto; background: #fafbfc; border: 1px solid #dde1e6; border-radius: 6px; }
.card { display: flex; gap: 16px; padding: 14px 0; border-top: 1px solid #e3e6ea; page-break-inside: avoid; }
.thumbs { display: flex; flex-direction: column; gap: 6px; } .thumbs img { width: 300px; display: block; border-radius: 4px; }
.facts { flex: 1; min-width: 0; } table { border-collapse: collapse; font-size: 13px; } th { text-align: left; color: #666; font-weight: 500; padding: 2px 14px 2px 0; vertical-align: top; } td { padding: 2px 0; word-break: break-all; }
.n { display: inline-block; min-width: 22px; padding: 0 6px; border-radius: 11px; background: #1b1f24; color: #fff; text-align: center; font-size: 12px; }
.chip { padding: 1px 8px; border-radius: 10px; font-size: 12px; background: #eee; } .chip.hazard { background: #ffd9d9; color: #9a1010; } .chip.unknown-object { background: #d4f7fb; color: #05606b; } .chip.false-alarm { background: #e6e8eb; } .chip.other { background: #ffecc9; color: #7a4a00; }
.note { white-space: pre-wrap; margin: 4px 0 8px; } .hot { color: #c01818; } small { color: #777; font-weight: 400; }
.legend span { display: inline-block; margin-right: 12px; font-size: 12px; } .legend i { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 4px; vertical-align: -1px; }
</style>
</head>
<body>
<h1>${text(session.name)}</h1>
<p class="meta">${manifest.rows.length} flagged frame${manifest.rows.length === 1 ? '' : 's'} · drive ${formatTime(session.durationMs)} · exported ${text(manifest.createdAt)}<br>
Model <b>${text(analysis.model)}</b> <code>sha256 ${text(analysis.modelSha256)}</code><br>
Analysis #${analysis.id} · threshold ${analysis.threshold.toFixed(2)} · ${analysis.sampleFps ? `${analysis.sampleFps} fps sampled` : 'every frame'}${analysis.knowledgeVersion !== null ? ` · taught classes v${analysis.knowledgeVersion}` : ''}<br>
Footage: ${session.sources.map((source) => `${text(source.path)} <code>sha256 ${text(source.sha256.slice(0, 16))}…</code>`).join(', ')}</p>
<h2>OOD score over the drive</h2>
${timelineSvg(timeline, manifest)}
<p class="legend">${manifest.classes.map((info) => `<span><i style="background:rgb(${info.color.join(',')})"></i>${text(info.name)}</span>`).join('')}<span><i style="background:rgb(255,40,40)"></i>unknown</span><span><i style="background:rgb(0,240,255)"></i>unknown outline</span></p>
<h2>Flagged frames</h2>
${cards.join('\n')}
</body>
</html>
`;
}

/** The score envelope (max per bucket) as one SVG path, the threshold, and a numbered mark per flag. */
export function timelineSvg(timeline: Timeline, manifest: Manifest): string {
  const { width, height, left, right, top, bottom } = PLOT;
  const times = timeline.timesMs;
  const start = times[0] ?? 0;
  const end = Math.max(start + 1, times[times.length - 1] ?? start + 1);
  const plotWidth = width - left - right;
  const plotHeight = height - top - bottom;
  const x = (ms: number) => left + ((ms - start) / (end - start)) * plotWidth;
  // The vertical range follows the data (and the threshold), so a drive scored around 0.8 is not a flat line.
  const threshold = manifest.analysis.threshold;
  const [low, high] = scoreRange([...timeline.scores, threshold]);
  const y = (score: number) => top + (1 - Math.max(0, Math.min(1, (score - low) / (high - low)))) * plotHeight;
  const buckets = Math.min(MAX_POINTS, times.length);
  const peaks = new Array<number>(buckets).fill(-1);
  times.forEach((ms, index) => {
    const bucket = Math.min(buckets - 1, Math.floor(((ms - start) / (end - start)) * buckets));
    peaks[bucket] = Math.max(peaks[bucket]!, timeline.scores[index] ?? 0);
  });
  const points = peaks.flatMap((peak, bucket) =>
    peak < 0 ? [] : [`${(left + ((bucket + 0.5) / buckets) * plotWidth).toFixed(1)},${y(peak).toFixed(1)}`],
  );
  const area = points.length
    ? `M${points[0]!.split(',')[0]},${y(low)} L${points.join(' L')} L${points[points.length - 1]!.split(',')[0]},${y(low)} Z`
    : '';
  const ticks = [0, 0.25, 0.5, 0.75, 1]
    .map(
      (fraction) =>
        // The end labels hang inwards, so the plot's edges do not cut them.
        `<text x="${x(start + fraction * (end - start)).toFixed(1)}" y="${height - 6}" font-size="11" fill="#777" text-anchor="${fraction === 0 ? 'start' : fraction === 1 ? 'end' : 'middle'}">${formatTime(start + fraction * (end - start))}</text>`,
    )
    .join('');
  const lanes = markLanes(manifest.rows.map((row) => x(row.timeMs)));
  const marks = manifest.rows
    .map((row, index) => {
      const [cx, cy] = [x(row.timeMs).toFixed(1), top + 7 + lanes[index]! * MARK_LANE];
      return `<a href="#flag-${row.flagId}"><line x1="${cx}" x2="${cx}" y1="${cy}" y2="${y(low)}" stroke="#e0a800" stroke-width="1.5"/><circle cx="${cx}" cy="${cy}" r="7" fill="#e0a800" stroke="#fff"/><text x="${cx}" y="${cy + 4}" font-size="10" text-anchor="middle" fill="#000">${index + 1}</text></a>`;
    })
    .join('');
  // The label sits above the line unless that would leave the plot, then below it.
  const labelY = y(threshold) - 4 < top + 10 ? y(threshold) + 13 : y(threshold) - 4;
  return `<svg viewBox="0 0 ${width} ${height}" xmlns="http://www.w3.org/2000/svg" role="img" aria-label="OOD score timeline">
<text x="4" y="${y(high) + 8}" font-size="10" fill="#777">${high.toFixed(2)}</text><text x="4" y="${y(low)}" font-size="10" fill="#777">${low.toFixed(2)}</text>
<line x1="${left}" x2="${width - right}" y1="${y(low)}" y2="${y(low)}" stroke="#ccc"/>
<path d="${area}" fill="rgba(46,120,220,0.25)" stroke="#2e78dc" stroke-width="1"/>
<line x1="${left}" x2="${width - right}" y1="${y(threshold).toFixed(1)}" y2="${y(threshold).toFixed(1)}" stroke="#d22" stroke-dasharray="5 4"/>
<text x="${width - right - 4}" y="${labelY.toFixed(1)}" font-size="10" fill="#d22" text-anchor="end">threshold ${threshold.toFixed(2)}</text>
${marks}${ticks}
</svg>`;
}

/** Vertical spacing of the lanes of flag marks, in SVG units. */
const MARK_LANE = 16;
const MARK_LANES = 4;

/**
 * A lane per flag mark, so numbered marks closer than their width stack instead of covering each other: each
 * mark takes the first lane whose last mark is far enough to its left (marks come in time order).
 */
export function markLanes(xs: readonly number[], minGap = 16): number[] {
  const lastX: number[] = [];
  return xs.map((x) => {
    let lane = lastX.findIndex((previous) => x - previous >= minGap);
    if (lane < 0) lane = lastX.length < MARK_LANES ? lastX.length : lastX.indexOf(Math.min(...lastX));
    lastX[lane] = x;
    return lane;
  });
}

/** Lowest and highest value padded by a tenth of the spread, at least 0.2 apart, inside 0..1. */
function scoreRange(values: readonly number[]): [number, number] {
  const lowest = values.reduce((a, b) => Math.min(a, b), 1);
  const highest = values.reduce((a, b) => Math.max(a, b), 0);
  const pad = Math.max(0.02, (highest - lowest) / 10);
  const low = Math.max(0, Math.min(lowest - pad, 0.8));
  return [low, Math.min(1, Math.max(highest + pad, low + 0.2))];
}

function formatTime(ms: number): string {
  const seconds = Math.max(0, ms) / 1000;
  const minutes = Math.floor(seconds / 60);
  const hours = Math.floor(minutes / 60);
  const rest = (seconds % 60).toFixed(1).padStart(4, '0');
  return hours > 0 ? `${hours}:${String(minutes % 60).padStart(2, '0')}:${rest}` : `${minutes}:${rest}`;
}

const entities: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Notes and names are user text: escaped everywhere they land in the HTML. */
export function text(value: string): string {
  return value.replace(/[&<>"']/g, (char) => entities[char] ?? char);
}

function attr(value: string): string {
  return text(encodeURI(value));
}
