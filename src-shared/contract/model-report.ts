import { z } from 'zod';
import { ModelName } from './common.js';

/** One chart of a model's evaluation report: its title and standalone SVG text. */
export const ReportPlot = z.object({ title: z.string(), svg: z.string().max(2_000_000) });

export const ModelReport = z.discriminatedUnion('found', [
  z.object({ found: z.literal(false), folder: z.string() }),
  z.object({
    found: z.literal(true),
    folder: z.string(),
    createdAt: z.string(),
    /** The figures `eval --json` printed for the run (percent; null where the labels did not allow them). */
    figures: z.array(z.object({ key: z.string(), value: z.number().nullable() })),
    images: z.number().int(),
    score: z.string(),
    plots: z.array(ReportPlot),
  }),
]);
export type ModelReport = z.infer<typeof ModelReport>;

export const modelReportMethods = {
  /** The evaluation report stored for a model (`eval --report models/reports/NAME`), if there is one. */
  'models.report': { request: z.object({ model: ModelName }).strict(), response: ModelReport },
} as const;
