import { AppError, errorMessage } from '../core/errors.js';
import { commands } from './commands/index.js';

function helpText(): string {
  const width = Math.max(...commands.map((command) => command.name.length));
  const lines = commands.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`);
  return `Usage: dmlreview <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nEvery command takes --json for machine-readable output.\n`;
}

/** Runs one subcommand; on error prints a one-line reason and sets a non-zero exit code. */
export async function runCli(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(helpText());
    return;
  }
  const command = commands.find((candidate) => candidate.name === name);
  try {
    if (!command) throw new AppError('usage', `Unknown command "${name}". Run dmlreview help for the list.`);
    await command.run(rest);
  } catch (error) {
    process.stderr.write(`dmlreview ${name}: ${errorMessage(error)}\n`);
    process.exitCode = error instanceof AppError && error.code === 'usage' ? 2 : 1;
  }
}
