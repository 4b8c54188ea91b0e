import { createApp } from '../../app/create-app.js';
import { startReviewServer } from '../../server/review-server.js';
import { numberFlag, parseCommandArgs, type CliCommand } from '../command.js';

export const serveCommand: CliCommand = {
  name: 'serve',
  summary: 'Start the review server for the browser UI (127.0.0.1 only, with an access token)',
  usage: 'serve [--port N] [--library PATH] [--models DIR]',
  async run(args) {
    const { values } = parseCommandArgs(this, args, {
      port: { type: 'string' },
      library: { type: 'string' },
      models: { type: 'string' },
    });
    const context = await createApp({ host: 'review-server', libraryPath: values.library, modelsDir: values.models });
    const server = await startReviewServer(context, { port: numberFlag('port', values.port, 0) });
    // The URL is the first line on stdout: tests and scripts read it.
    process.stdout.write(`${server.url}\n`);
    process.stderr.write(`Review server for library ${context.libraryPath}. Open the URL above; Ctrl+C stops.\n`);
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await server.close();
    await context.close();
  },
};
