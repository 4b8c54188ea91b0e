import { exportFlagged } from '../export/index.js';
import type { HandlerGroup } from './handlers.js';

export const exportHandlers: HandlerGroup<'export.flagged'> = {
  'export.flagged': (request, context) =>
    exportFlagged(request, {
      library: context.library,
      onProgress: (done, total) =>
        context.notifications.emit('export.progress', { sessionId: request.sessionId, done, total }),
    }),
};
