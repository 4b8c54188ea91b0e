import type { HandlerGroup } from './handlers.js';

type TeachingMethod =
  | 'teaching.classes.list'
  | 'teaching.preview'
  | 'teaching.teach'
  | 'teaching.update'
  | 'teaching.delete'
  | 'teaching.export'
  | 'teaching.import'
  | 'teaching.wand'
  | 'teaching.embeddings'
  | 'teaching.reanalyse';

export const teachingHandlers: HandlerGroup<TeachingMethod> = {
  'teaching.classes.list': (request, context) => context.teaching.listClasses(request),
  'teaching.preview': (request, context) => context.teaching.preview(request),
  'teaching.teach': (request, context) => context.teaching.teach(request),
  'teaching.update': (request, context) => context.teaching.update(request),
  'teaching.delete': (request, context) => context.teaching.delete(request),
  'teaching.export': (request, context) => context.teaching.exportKnowledge(request),
  'teaching.import': (request, context) => context.teaching.importKnowledge(request),
  'teaching.wand': (request, context) => context.teaching.wand(request),
  'teaching.embeddings': (request, context) => context.teaching.embeddings(request),
  'teaching.reanalyse': (request, context) => context.teaching.reanalyse(request),
};
