import type { EvaluationResult } from './evaluate.js';
import type { OodMetrics } from './ood-metrics.js';

/** A figure as the table, the report and its plots print it: two decimals, '-' when there is none. */
export const figure = (value: number | null | undefined) =>
  value === null || value === undefined ? '-' : value.toFixed(2);

/** The stable JSON summary other tools read (last line of `eval --json`). */
export function evaluationJson(result: EvaluationResult) {
  return {
    model: result.model,
    score: result.score,
    format: result.format,
    auroc: result.pooled?.auroc ?? null,
    aupr: result.pooled?.aupr ?? null,
    fpr95: result.pooled?.fpr95 ?? null,
    auroc_image: result.perImageMean?.auroc ?? null,
    aupr_image: result.perImageMean?.aupr ?? null,
    fpr95_image: result.perImageMean?.fpr95 ?? null,
    // SegmentMeIfYouCan's component metrics (component-metrics.ts), percent, at the best pixel F1's threshold.
    siou: result.components?.siou ?? null,
    ppv: result.components?.ppv ?? null,
    mean_f1: result.components?.meanF1 ?? null,
    pixel_f1: result.pooled?.bestF1 ?? null,
    pixel_f1_threshold: result.pooled?.bestF1Threshold ?? null,
    components_gt: result.components?.truthComponents ?? 0,
    components_predicted: result.components?.predictedComponents ?? 0,
    miou: result.segmentation?.miou ?? null,
    acc: result.segmentation?.acc ?? null,
    images: result.images,
    images_with_ood: result.imagesWithOod,
    classes: result.segmentation?.classes ?? null,
  };
}

function metricsRow(label: string, metrics: OodMetrics | null): string {
  return `${label.padEnd(22)}${figure(metrics?.auroc).padStart(8)}${figure(metrics?.aupr).padStart(8)}${figure(metrics?.fpr95).padStart(8)}`;
}

/** A table for people. */
export function evaluationTable(result: EvaluationResult): string {
  const lines = [
    `model ${result.model}, score ${result.score}, ${result.images} images (${result.imagesWithOod} with OOD pixels), OOD: ${result.ood.join(', ') || '-'}`,
    `${''.padEnd(22)}${'AUROC'.padStart(8)}${'AUPR'.padStart(8)}${'FPR95'.padStart(8)}`,
    metricsRow('pooled over pixels', result.pooled),
    metricsRow('mean over images', result.perImageMean),
  ];
  const components = result.components;
  if (components && result.pooled) {
    lines.push(
      '',
      `components (SegmentMeIfYouCan) at the best pixel F1 ${figure(result.pooled.bestF1)} (score >= ${result.pooled.bestF1Threshold.toFixed(4)}):`,
      `  sIoU ${figure(components.siou)}  PPV ${figure(components.ppv)}  mean F1 ${figure(components.meanF1)}` +
        `  (${components.truthComponents} ground-truth, ${components.predictedComponents} predicted components)`,
    );
  }
  if (result.segmentation) {
    lines.push(
      '',
      `mIoU ${figure(result.segmentation.miou)}  pixel accuracy ${figure(result.segmentation.acc)}`,
      `${'class'.padEnd(22)}${'IoU'.padStart(8)}${'acc'.padStart(8)}`,
    );
    for (const cls of result.segmentation.classes)
      lines.push(`${cls.name.padEnd(22)}${figure(cls.iou).padStart(8)}${figure(cls.acc).padStart(8)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** One row per image: its own AUROC/AUPR/FPR95 (empty without both OOD and known pixels). */
export function perImageCsv(result: EvaluationResult): string {
  const quote = (text: string) => (/[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text);
  const rows = result.perImage.map((image) =>
    [quote(image.name), image.pixels, image.oodPixels, image.auroc ?? '', image.aupr ?? '', image.fpr95 ?? ''].join(
      ',',
    ),
  );
  return `image,labelled_pixels,ood_pixels,auroc,aupr,fpr95\n${rows.join('\n')}\n`;
}
