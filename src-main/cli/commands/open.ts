import { join } from 'node:path';
import { createApp } from '../../app/create-app.js';
import { errorMessage } from '../../core/errors.js';
import { userDataDir } from '../../core/paths.js';
import { findAppBrowser, openAppWindow } from '../../server/app-window.js';
import { startReviewServer } from '../../server/review-server.js';
import { parseCommandArgs, type CliCommand } from '../command.js';

export const openCommand: CliCommand = {
  name: 'open',
  summary:
    'Open the app in a window of an installed Chrome, Edge or Chromium (the review server on 127.0.0.1, closed with the window)',
  usage: 'open [--library PATH] [--models DIR]',
  async run(args) {
    const { values } = parseCommandArgs(this, args, { library: { type: 'string' }, models: { type: 'string' } });
    const browser = findAppBrowser();
    const context = await createApp({ host: 'review-server', libraryPath: values.library, modelsDir: values.models });
    const server = await startReviewServer(context);
    const window = openAppWindow(browser, server.url, join(userDataDir(), 'app-window-profile'));
    let browserErrors = '';
    window.stderr?.on('data', (chunk: Buffer) => (browserErrors = (browserErrors + chunk.toString()).slice(-2000)));
    // The URL is the first line on stdout, as with serve: tests and scripts read it.
    process.stdout.write(`${server.url}\n`);
    process.stderr.write(
      `Opened dmlreview in a ${browser.name} app window (${browser.path}); library ${context.libraryPath}.\n`,
    );
    const code = await new Promise<number | null>((resolve) => {
      window.once('exit', (exit) => resolve(exit));
      window.once('error', (error) => {
        browserErrors = errorMessage(error);
        resolve(-1);
      });
      // Ctrl+C or a stop from outside closes the window too: the two live and end together.
      const stop = () => window.kill('SIGTERM');
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await server.close();
    await context.close();
    if (code !== 0 && code !== null)
      process.stderr.write(
        `${browser.name} exited with code ${code}: ${browserErrors.trim().split('\n').pop() ?? ''}\n`,
      );
    process.stderr.write('Window closed; the review server has stopped.\n');
  },
};
