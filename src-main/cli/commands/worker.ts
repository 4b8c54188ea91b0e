import { defaultModelsDir } from '../../core/paths.js';
import { AppError } from '../../core/errors.js';
import { runWorker } from '../../jobs/index.js';
import { numberFlag, parseCommandArgs, type CliCommand } from '../command.js';
import { databaseFlag } from './library-common.js';

export const workerCommand: CliCommand = {
  name: 'worker',
  summary: 'Run analyses queued on a team database (a chunk at a time) until Ctrl+C; footage by its imported path',
  usage: 'worker --database URL [--threads N] [--models DIR]',
  async run(args) {
    const { values } = parseCommandArgs(this, args, {
      database: { type: 'string' },
      threads: { type: 'string' },
      models: { type: 'string' },
    });
    if (values.database === undefined)
      throw new AppError(
        'usage',
        `--database URL is required: the team database to take jobs from. Usage: dmlreview ${this.usage}`,
      );
    const threads = values.threads === undefined ? undefined : numberFlag('threads', values.threads, 1);
    if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1))
      throw new AppError(
        'usage',
        `--threads must be a whole number of model threads (1 or more), got "${values.threads}"`,
      );
    const worker = await runWorker({
      databaseUrl: databaseFlag(values.database),
      threads,
      modelsDir: values.models ?? defaultModelsDir(),
    });
    // The chunk in flight stores its frames in flight and is queued again for another worker.
    const stop = () => void worker.stop();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      await worker.stopped;
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
  },
};
