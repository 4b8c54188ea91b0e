import { z } from 'zod';
import { ErrorCode } from './errors.js';

/** An RGB colour, 0..255 per channel. */
export const Rgb = z.tuple([
  z.number().int().min(0).max(255),
  z.number().int().min(0).max(255),
  z.number().int().min(0).max(255),
]);
export type Rgb = z.infer<typeof Rgb>;

export const Id = z.number().int().positive();

// Characters no file or folder name may hold on one platform or another, path separators among them.
const NOT_IN_NAMES = /[/\\:*?"<>|]/;

const hasControlCharacter = (value: string) => [...value].some((char) => char.charCodeAt(0) < 32);

/** True for a name that stays inside the folder it is joined onto: no separators, not "." or "..". */
export function isPlainName(value: string): boolean {
  return (
    value.length > 0 &&
    value.length <= 200 &&
    !NOT_IN_NAMES.test(value) &&
    !hasControlCharacter(value) &&
    value !== '.' &&
    value !== '..'
  );
}

/** A file or folder name that is joined onto a folder of ours, never a path; `what` names it in the error. */
export const plainName = (what: string) =>
  z.string().min(1).max(200).refine(isPlainName, `must be a plain ${what} without path separators, not . or ..`);

/** A model of the models folder, by name (NAME.json there). */
export const ModelName = plainName('model name (a model of the models folder)');

/** A path on the main side's machine. NUL never occurs in a real path and makes the file system calls throw. */
export const FilePath = z
  .string()
  .min(1)
  .max(4096)
  .refine((value) => !value.includes('\u0000'), 'must not contain a NUL character');

/** Frames per second sampled from footage: from one frame every 1000 s to 1000 frames a second. */
export const SampleFps = z.number().min(0.001).max(1000);

/** What every failed call answers with: a stable code for programs and a sentence for people. */
export const ApiErrorBody = z.object({
  code: ErrorCode,
  message: z.string(),
});
export type ApiErrorBody = z.infer<typeof ApiErrorBody>;

export const Empty = z.object({}).strict();
export const Ok = z.object({ ok: z.literal(true) });
