import { parseArgs, type ParseArgsConfig } from 'node:util';
import { AppError } from '../core/errors.js';

export interface CliCommand {
  name: string;
  summary: string;
  usage: string;
  run(args: string[]): Promise<void>;
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** parseArgs with errors a user can act on: unknown flags name the command's usage. */
export function parseCommandArgs<O extends Options>(
  command: Pick<CliCommand, 'name' | 'usage'>,
  args: string[],
  options: O,
) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new AppError('usage', `${reason}. Usage: dmlreview ${command.usage}`);
  }
}

/** A numeric flag, refusing text that is not a number. */
export function numberFlag(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed)) throw new AppError('usage', `--${name} must be a number, got "${value}"`);
  return parsed;
}

/** An integer flag of at least `min`, refusing text that is not one. */
export function integerFlag(name: string, value: string, min: number): number {
  const parsed = numberFlag(name, value, 0);
  if (!Number.isInteger(parsed) || parsed < min)
    throw new AppError('usage', `--${name} must be an integer of at least ${min}, got "${value}"`);
  return parsed;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}
