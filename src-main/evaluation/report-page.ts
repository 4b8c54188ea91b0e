import { PNG } from 'pngjs';
import { HEAT_RAMP } from '../../src-shared/heat-ramp.js';
import { decodeImageFile } from '../engine/index.js';
import type { EvaluationDetails, EvaluationResult, RankedImage } from './evaluate.js';
import { IGNORE_LABEL, OOD_LABEL } from './labels.js';
import { evaluationJson, figure } from './report.js';
import { barChart, escapeXml, lineChart, type LineChart } from './report-plots.js';

export const REPORT_FORMAT = 'dmlreview-eval-report/1';
/** The file the app reads a model's report from (models/reports/NAME/report.json). */
export const REPORT_JSON = 'report.json';

export interface ReportPlot {
  file: string;
  title: string;
  svg: string;
}

/** Adds one file of the report (path relative to its folder); the caller owns the folder (atomic writing). */
export type PutReportFile = (relativePath: string, data: Uint8Array | string) => Promise<unknown>;

/**
 * Writes the evaluation report's files through `put`: one SVG per chart, three PNGs per best and worst image
 * (the image, its OOD scores, its errors at the best-F1 threshold), report.json (the figures of `eval --json`,
 * the plots' data and file names) and index.html, a page that holds everything inline and opens offline.
 */
export async function writeEvaluationReport(put: PutReportFile, result: EvaluationResult, createdAt = new Date()) {
  const details = result.details;
  if (!details) throw new Error('writeEvaluationReport needs runEvaluation({ details: true })');
  const summary = evaluationJson(result);
  const plots = reportPlots(result, details);
  const threshold = result.pooled?.bestF1Threshold ?? null;
  for (const plot of plots) await put(plot.file, plot.svg);
  const images = [];
  for (const [rank, list] of [
    ['best', details.best],
    ['worst', details.worst],
  ] as const) {
    for (const [i, image] of list.entries()) {
      const stem = `images/${rank}-${i + 1}`;
      const pngs = await imagePanels(image, details, threshold);
      const files = { image: `${stem}-image.png`, scores: `${stem}-scores.png`, errors: `${stem}-errors.png` };
      await put(files.image, pngs.image);
      await put(files.scores, pngs.scores);
      await put(files.errors, pngs.errors);
      images.push({ rank, name: image.name, auroc: image.auroc, aupr: image.aupr, fpr95: image.fpr95, files, pngs });
    }
  }
  const json = {
    format: REPORT_FORMAT,
    createdAt: createdAt.toISOString(),
    summary,
    pixelThreshold: threshold,
    plots: plots.map(({ file, title }) => ({ file, title })),
    images: images.map(({ pngs: _pngs, ...rest }) => rest),
    pixelCurve: details.pixelCurve,
    histogram: details.histogram,
    componentCurve: result.components?.byThreshold ?? null,
  };
  await put(REPORT_JSON, `${JSON.stringify(json, null, 2)}\n`);
  await put('index.html', reportHtml(result, summary, plots, images));
  return json;
}

/** Every chart the data allows: pixel ROC and PR, component PR, per-class IoU, the score histogram. */
export function reportPlots(result: EvaluationResult, details: EvaluationDetails): ReportPlot[] {
  const plots: ReportPlot[] = [];
  const add = (file: string, chart: LineChart) => plots.push({ file, title: chart.title, svg: lineChart(chart) });
  const unitSquare = { x: [0, 1], y: [0, 1] } as const;
  const curve = details.pixelCurve;
  if (result.pooled && curve.length) {
    add('roc.svg', {
      ...unitSquare,
      title: `Pixel ROC: AUROC ${figure(result.pooled.auroc)}, FPR95 ${figure(result.pooled.fpr95)}`,
      xLabel: 'false positive rate (known pixels called unknown)',
      yLabel: 'true positive rate',
      diagonal: true,
      series: [
        { name: 'pixels', color: UNKNOWN_COLOR, points: [[0, 0], ...curve.map((p) => [p.fpr, p.tpr] as const)] },
      ],
    });
    add('pr.svg', {
      ...unitSquare,
      title: `Pixel precision-recall: AUPR ${figure(result.pooled.aupr)}`,
      xLabel: 'recall (unknown pixels found)',
      yLabel: 'precision',
      series: [{ name: 'pixels', color: UNKNOWN_COLOR, points: curve.map((p) => [p.tpr, p.precision] as const) }],
    });
  }
  const components = result.components?.byThreshold.filter((p) => p.precision !== null && p.recall !== null);
  if (components?.length)
    add('components-pr.svg', {
      ...unitSquare,
      title: `Components (sIoU threshold 0.25-0.75): mean F1 ${figure(result.components?.meanF1)}`,
      xLabel: 'component recall (objects with sIoU > threshold)',
      yLabel: 'component precision',
      series: [
        {
          name: 'one point per threshold',
          color: '#7a3bd8',
          markers: true,
          points: components.map((p) => [p.recall!, p.precision!] as const),
        },
      ],
    });
  if (result.segmentation) {
    const title = `Per-class IoU: mIoU ${figure(result.segmentation.miou)}`;
    const bars = result.segmentation.classes.map((cls) => ({ name: cls.name, value: cls.iou }));
    plots.push({ file: 'iou.svg', title, svg: barChart(title, bars) });
  }
  const { histogram } = details;
  const binWidth = (histogram.max - histogram.min) / histogram.known.length;
  const bins = (values: number[]) => values.map((value, i) => [histogram.min + i * binWidth, value] as const);
  add('histogram.svg', {
    title: 'OOD score of known and unknown pixels',
    xLabel: `score (${result.score})`,
    yLabel: 'fraction of the pixels',
    x: [histogram.min, histogram.max],
    y: [0, Math.max(...histogram.known, ...histogram.unknown, 0.01)],
    series: [
      { name: 'known pixels', color: KNOWN_COLOR, steps: true, points: bins(histogram.known) },
      { name: 'unknown pixels', color: UNKNOWN_COLOR, steps: true, points: bins(histogram.unknown) },
    ],
  });
  return plots;
}

const UNKNOWN_COLOR = '#d8433b';
const KNOWN_COLOR = '#3b7dd8';

/** Long side of the report's image panels. */
const PANEL_LONG_SIDE = 480;

/**
 * The image, its OOD scores as the viewer's heat map over the dimmed image, and its errors at the pixel
 * threshold: found unknown yellow, missed unknown blue, known called unknown red, void black.
 */
async function imagePanels(image: RankedImage, details: EvaluationDetails, threshold: number | null) {
  const frame = await decodeImageFile(image.path);
  const step = Math.max(1, Math.ceil(Math.max(image.width, image.height) / PANEL_LONG_SIDE));
  const width = Math.ceil(image.width / step);
  const height = Math.ceil(image.height / step);
  const { min, max } = details.histogram;
  const panels = {
    image: new PNG({ width, height }),
    scores: new PNG({ width, height }),
    errors: new PNG({ width, height }),
  };
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const source = y * step * image.width + x * step;
      const out = (y * width + x) * 4;
      const rgb = [0, 1, 2].map((c) => frame.data[source * 3 + c]!);
      const score = image.scores[source]!;
      const truth = image.truth[source]!;
      const ramp = Math.round(Math.min(1, Math.max(0, (score - min) / (max - min || 1))) * 255) * 4;
      const alpha = HEAT_RAMP[ramp + 3]! / 255;
      const predicted = threshold !== null && score >= threshold;
      const error =
        truth === IGNORE_LABEL
          ? [0, 0, 0]
          : truth === OOD_LABEL
            ? predicted
              ? [255, 220, 0]
              : [40, 110, 255]
            : predicted
              ? [230, 40, 40]
              : rgb.map((v) => v * 0.45);
      for (let c = 0; c < 3; c++) {
        panels.image.data[out + c] = rgb[c]!;
        panels.scores.data[out + c] = Math.round(rgb[c]! * 0.35 * (1 - alpha) + HEAT_RAMP[ramp + c]! * alpha);
        panels.errors.data[out + c] = Math.round(error[c]!);
      }
      for (const panel of Object.values(panels)) panel.data[out + 3] = 255;
    }
  }
  return {
    image: PNG.sync.write(panels.image),
    scores: PNG.sync.write(panels.scores),
    errors: PNG.sync.write(panels.errors),
  };
}

/** The figures table: each cell carries the key of `eval --json` it shows, so anyone can check they agree. */
function figuresTable(summary: ReturnType<typeof evaluationJson>): string {
  const rows: [string, keyof typeof summary][] = [
    ['AUROC (pixels)', 'auroc'],
    ['AUPR (pixels)', 'aupr'],
    ['FPR at 95 % TPR (pixels)', 'fpr95'],
    ['AUROC (mean over images)', 'auroc_image'],
    ['AUPR (mean over images)', 'aupr_image'],
    ['FPR95 (mean over images)', 'fpr95_image'],
    ['best pixel F1', 'pixel_f1'],
    ['sIoU (components)', 'siou'],
    ['PPV (components)', 'ppv'],
    ['mean F1 (components)', 'mean_f1'],
    ['mIoU (known classes)', 'miou'],
    ['pixel accuracy', 'acc'],
  ];
  return `<table class="figures">${rows
    .map(
      ([name, key]) => `<tr><th>${name}</th><td data-key="${key}">${figure(summary[key] as number | null)}</td></tr>`,
    )
    .join('')}</table>`;
}

type ShownImage = {
  rank: string;
  name: string;
  auroc: number;
  aupr: number;
  fpr95: number;
  pngs: Record<string, Buffer>;
};

function reportHtml(
  result: EvaluationResult,
  summary: ReturnType<typeof evaluationJson>,
  plots: ReportPlot[],
  images: ShownImage[],
): string {
  const inline = (png: Buffer | undefined, alt: string) =>
    `<img alt="${escapeXml(alt)}" src="data:image/png;base64,${png?.toString('base64') ?? ''}">`;
  const imageRows = images
    .map(
      (
        image,
      ) => `<figure class="image"><figcaption><b>${image.rank}</b> ${escapeXml(image.name)}: AUROC ${figure(image.auroc)}, AUPR ${figure(image.aupr)}, FPR95 ${figure(image.fpr95)}</figcaption>
${inline(image.pngs.image, 'image')}${inline(image.pngs.scores, 'OOD scores')}${inline(image.pngs.errors, 'errors')}</figure>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'"><title>Evaluation of ${escapeXml(result.model)}</title>
<style>
body{font-family:sans-serif;margin:24px;color:#222;max-width:1500px}
table.figures{border-collapse:collapse;margin:12px 0}table.figures th,table.figures td{border-bottom:1px solid #ddd;padding:4px 12px;text-align:left}
.plots{display:flex;flex-wrap:wrap;gap:16px}.plots figure{margin:0}
figure.image img{width:32%;margin-right:1%}figcaption{margin:8px 0}
</style></head><body>
<h1>Evaluation of ${escapeXml(result.model)}</h1>
<p>Score <b>${escapeXml(result.score)}</b>, ${result.images} images (${result.imagesWithOod} with unknown pixels), label format ${escapeXml(result.format)}, unknown: ${escapeXml(result.ood.join(', ') || '-')}. Figures in percent; the same as <code>dmlreview eval --json</code>.</p>
${figuresTable(summary)}
<div class="plots">${plots.map((plot) => `<figure>${plot.svg.replace(/^<svg /, `<svg role="img" aria-label="${escapeXml(plot.title)}" `)}</figure>`).join('\n')}</div>
<h2>Best and worst images (by their own AUPR)</h2>
<p>Each: the image; its OOD scores (heat); its errors at the best pixel F1 threshold${result.pooled ? ` (score ≥ ${result.pooled.bestF1Threshold.toFixed(4)})` : ''}: yellow found unknown, blue missed unknown, red known called unknown, black void.</p>
${imageRows || '<p>No image holds both unknown and known pixels.</p>'}
</body></html>
`;
}
