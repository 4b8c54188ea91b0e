import type { Handlers } from './handlers.js';
import { systemHandlers } from './system.js';

/** Every API method's handler; each capability contributes its own group. */
export const handlers: Handlers = {
  ...systemHandlers,
};

export { createDispatcher, type Dispatch, type DispatchResult } from './dispatch.js';
