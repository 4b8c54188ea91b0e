import { listModels } from '../engine/index.js';
import type { HandlerGroup } from './handlers.js';

export const modelHandlers: HandlerGroup<'models.list'> = {
  'models.list': (_request, context) => listModels(context.modelsDir),
};
