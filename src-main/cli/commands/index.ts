import type { CliCommand } from '../command.js';
import { analyzeCommand } from './analyze.js';
import { eventsCommand } from './events.js';
import { evalCommand } from './eval.js';
import { exportCommand } from './export.js';
import { flagCommand } from './flag.js';
import { framesCommand } from './frames.js';
import { serveCommand } from './serve.js';
import { sessionsCommand } from './sessions.js';
import { similarCommand } from './similar.js';
import { versionCommand } from './version.js';
import { fewshotCommand } from './fewshot.js';
import { openCommand } from './open.js';
import { pullCommand, pushCommand } from './transfer.js';
import { workerCommand } from './worker.js';

/** Every subcommand of `dmlreview`, in the order `dmlreview help` lists them. */
export const commands: CliCommand[] = [
  openCommand,
  serveCommand,
  workerCommand,
  versionCommand,
  fewshotCommand,
  analyzeCommand,
  sessionsCommand,
  eventsCommand,
  framesCommand,
  similarCommand,
  evalCommand,
  flagCommand,
  exportCommand,
  pushCommand,
  pullCommand,
];
