import { exportClip } from '../export/index.js';
import type { HandlerGroup } from './handlers.js';

export const clipHandlers: HandlerGroup<'export.clip'> = {
  'export.clip': (request, context) =>
    exportClip(request, {
      library: context.library,
      onProgress: (done, total) =>
        context.notifications.emit('export.clipProgress', { sessionId: request.sessionId, done, total }),
    }),
};
