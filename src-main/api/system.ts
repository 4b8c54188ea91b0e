import type { HandlerGroup } from './handlers.js';
import { appVersion } from '../core/version.js';
import { describeLocation, isDatabaseUrl } from '../library/index.js';

export const systemHandlers: HandlerGroup<'health'> = {
  health: (_request, context) => ({
    name: 'dmlreview',
    version: appVersion(),
    host: context.host,
    node: process.versions.node,
    platform: `${process.platform}-${process.arch}`,
    library: {
      kind: isDatabaseUrl(context.libraryPath) ? 'database' : 'file',
      location: describeLocation(context.libraryPath, { password: 'omit' }),
    },
  }),
};
