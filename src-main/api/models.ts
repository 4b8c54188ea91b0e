import { listModels } from '../engine/index.js';
import { readModelReport } from '../evaluation/index.js';
import type { HandlerGroup } from './handlers.js';

export const modelHandlers: HandlerGroup<'models.list' | 'models.report'> = {
  'models.list': (_request, context) => listModels(context.modelsDir),
  'models.report': (request, context) => readModelReport(context.modelsDir, request.model),
};
