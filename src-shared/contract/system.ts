import { z } from 'zod';
import { Empty } from './common.js';

export const Health = z.object({
  name: z.literal('dmlreview'),
  version: z.string(),
  /** Which shell serves the API: the Electron app or the browser review server. */
  host: z.enum(['electron', 'review-server']),
  node: z.string(),
  platform: z.string(),
  /**
   * The open library: a file (its path) or a team's PostgreSQL database (its connection string without the
   * password: user, host, port and database name).
   */
  library: z.object({ kind: z.enum(['file', 'database']), location: z.string() }),
});
export type Health = z.infer<typeof Health>;

export const systemMethods = {
  health: { request: Empty, response: Health },
} as const;
