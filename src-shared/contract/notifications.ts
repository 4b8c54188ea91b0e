import { z } from 'zod';

/** A notice for the status bar: something the user should know about that no request asked for. */
export const Notice = z.object({
  level: z.enum(['info', 'warning', 'error']),
  message: z.string(),
});

export const systemNotifications = {
  notice: Notice,
} as const;
