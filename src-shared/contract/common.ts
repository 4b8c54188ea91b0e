import { z } from 'zod';

/** An RGB colour, 0..255 per channel. */
export const Rgb = z.tuple([
  z.number().int().min(0).max(255),
  z.number().int().min(0).max(255),
  z.number().int().min(0).max(255),
]);
export type Rgb = z.infer<typeof Rgb>;

export const Id = z.number().int().positive();

/** What every failed call answers with: a stable code for programs and a sentence for people. */
export const ApiErrorBody = z.object({
  code: z.string(),
  message: z.string(),
});
export type ApiErrorBody = z.infer<typeof ApiErrorBody>;

export const Empty = z.object({}).strict();
export const Ok = z.object({ ok: z.literal(true) });
