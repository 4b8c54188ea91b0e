import type { CliCommand } from '../command.js';
import { serveCommand } from './serve.js';
import { versionCommand } from './version.js';

/** Every subcommand of `dmlreview`, in the order `dmlreview help` lists them. */
export const commands: CliCommand[] = [serveCommand, versionCommand];
