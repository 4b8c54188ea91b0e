import type { HandlerGroup } from './handlers.js';

export const similarHandlers: HandlerGroup<'similar.find'> = {
  'similar.find': (request, { similar }) => similar.find(request),
};
