import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ModelReport } from '../../src-shared/contract/index.js';
import { AppError, errorMessage } from '../core/errors.js';
import { REPORT_FORMAT, REPORT_JSON } from './report-page.js';

/** Where the app looks for a model's evaluation report: `eval --report` writes it there when asked to. */
export const modelReportFolder = (modelsDir: string, model: string) => join(modelsDir, 'reports', model);

/** Figures of `eval --json` the model card shows, in this order. */
const CARD_FIGURES = ['auroc', 'aupr', 'fpr95', 'pixel_f1', 'siou', 'ppv', 'mean_f1', 'miou', 'acc'];

/** A model's stored report with its plots' SVG; `found: false` when there is none, an error when it is broken. */
export async function readModelReport(modelsDir: string, model: string): Promise<ModelReport> {
  const folder = modelReportFolder(modelsDir, model);
  let text: string;
  try {
    text = await readFile(join(folder, REPORT_JSON), 'utf8');
  } catch {
    return { found: false, folder };
  }
  try {
    const report = JSON.parse(text) as {
      format: string;
      createdAt: string;
      summary: Record<string, unknown>;
      plots: { file: string; title: string }[];
    };
    if (report.format !== REPORT_FORMAT) throw new Error(`format "${report.format}", expected "${REPORT_FORMAT}"`);
    const plots = await Promise.all(
      report.plots.map(async (plot) => ({ title: plot.title, svg: await readFile(join(folder, plot.file), 'utf8') })),
    );
    return {
      found: true,
      folder,
      createdAt: report.createdAt,
      figures: CARD_FIGURES.map((key) => ({
        key,
        value: typeof report.summary[key] === 'number' ? report.summary[key] : null,
      })),
      images: Number(report.summary.images) || 0,
      score: String(report.summary.score),
      plots,
    };
  } catch (error) {
    throw new AppError(
      'report_invalid',
      `The evaluation report in ${folder} cannot be read (${errorMessage(error)}): write it again with dmlreview eval --report`,
    );
  }
}
