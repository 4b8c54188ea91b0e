/** Evaluation of the shipped engine on labelled images: the `eval` command and the few-shot benchmark (`fewshot`). */
export { runEvaluation, type EvaluationOptions, type EvaluationResult } from './evaluate.js';
export { evaluationJson, evaluationTable, perImageCsv } from './report.js';
export type { LabelFormat } from './labels.js';
export { oodMetrics, type OodMetrics } from './ood-metrics.js';
export { writeEvaluationReport, REPORT_JSON, REPORT_FORMAT } from './report-page.js';
export { readModelReport, modelReportFolder } from './stored-report.js';
export { runFewshot, type FewshotOptions, type FewshotReport, type ModelRef } from './fewshot.js';
