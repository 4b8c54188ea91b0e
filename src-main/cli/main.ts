import type { ErrorCode } from '../../src-shared/contract/index.js';
import { AppError, errorMessage } from '../core/errors.js';
import type { CliCommand } from './command.js';
import { commands } from './commands/index.js';

/** `dmlreview COMMAND --help` and `dmlreview help COMMAND`: the command's usage and what it does. */
function commandHelp(command: CliCommand): string {
  return `Usage: dmlreview ${command.usage}\n\n${command.summary}.\n`;
}

function wantsHelp(args: string[]): boolean {
  return args.includes('--help') || args.includes('-h');
}

function helpText(): string {
  const width = Math.max(...commands.map((command) => command.name.length));
  const lines = commands.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`);
  return `Usage: dmlreview <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nEvery command takes --json for machine-readable output; dmlreview <command> --help shows its options.\n`;
}

/**
 * Exit status 2, as for a usage error: arguments that parse but name something unusable (a folder that is not
 * there, a class the model does not have). Other failures exit 1.
 */
const ARGUMENT_ERRORS: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'usage',
  'eval_class_unknown',
  'eval_folder_missing',
  'eval_no_images',
  'fewshot_class_invalid',
  'model_not_embedding',
]);

/** Runs one subcommand; on error prints a one-line reason and sets a non-zero exit code. */
export async function runCli(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  const topic = name === 'help' ? commands.find((candidate) => candidate.name === rest[0]) : undefined;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(topic ? commandHelp(topic) : helpText());
    return;
  }
  const command = commands.find((candidate) => candidate.name === name);
  try {
    if (!command) throw new AppError('usage', `Unknown command "${name}". Run dmlreview help for the list.`);
    if (wantsHelp(rest)) return void process.stdout.write(commandHelp(command));
    await command.run(rest);
  } catch (error) {
    process.stderr.write(`dmlreview ${name}: ${errorMessage(error)}\n`);
    process.exitCode = error instanceof AppError && ARGUMENT_ERRORS.has(error.code) ? 2 : 1;
  }
}
