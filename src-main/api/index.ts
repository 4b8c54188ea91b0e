import type { Handlers } from './handlers.js';
import { clipHandlers } from './clip.js';
import { exportHandlers } from './export.js';
import { libraryHandlers } from './library.js';
import { modelHandlers } from './models.js';
import { similarHandlers } from './similar.js';
import { systemHandlers } from './system.js';
import { teachingHandlers } from './teaching.js';

/** Every API method's handler; each capability contributes its own group. */
export const handlers: Handlers = {
  ...systemHandlers,
  ...libraryHandlers,
  ...teachingHandlers,
  ...exportHandlers,
  ...clipHandlers,
  ...modelHandlers,
  ...similarHandlers,
};

export { createDispatcher, type Dispatch, type DispatchResult } from './dispatch.js';
