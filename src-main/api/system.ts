import type { HandlerGroup } from './handlers.js';
import { appVersion } from '../core/version.js';

export const systemHandlers: HandlerGroup<'health'> = {
  health: (_request, context) => ({
    name: 'dmlreview',
    version: appVersion(),
    host: context.host,
    node: process.versions.node,
    platform: `${process.platform}-${process.arch}`,
    libraryPath: context.libraryPath,
  }),
};
