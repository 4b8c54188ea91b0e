import { hostname, networkInterfaces } from 'node:os';
import { createApp } from '../../app/create-app.js';
import { AppError } from '../../core/errors.js';
import { describeLocation } from '../../library/index.js';
import { startReviewServer } from '../../server/review-server.js';
import { numberFlag, parseCommandArgs, type CliCommand } from '../command.js';
import { libraryLocation, libraryOption } from './library-common.js';

/** The environment variable a fixed access token may come from (a command line is visible to every user). */
export const TOKEN_ENV = 'DMLREVIEW_TOKEN';
const MIN_TOKEN_LENGTH = 16;

export const serveCommand: CliCommand = {
  name: 'serve',
  summary:
    'Start the review server for the browser UI (127.0.0.1 only unless --host; a team server with --database), with an access token',
  usage: `serve [--library PATH | --database URL] [--host ADDRESS] [--port N] [--name HOST[,HOST]]... [--token TOKEN (or ${TOKEN_ENV})] [--models DIR]`,
  async run(args) {
    const { values } = parseCommandArgs(this, args, {
      ...libraryOption,
      port: { type: 'string' },
      host: { type: 'string' },
      name: { type: 'string', multiple: true },
      token: { type: 'string' },
      models: { type: 'string' },
    });
    const location = libraryLocation(values);
    const token = tokenFlag(values.token ?? process.env[TOKEN_ENV]);
    const host = values.host ?? '127.0.0.1';
    const context = await createApp({ host: 'review-server', libraryPath: location, modelsDir: values.models });
    const server = await startReviewServer(context, {
      port: numberFlag('port', values.port, 0),
      host,
      urlHost: wildcard(host) ? hostname() : undefined,
      names: [...reachedBy(host), ...(values.name ?? []).flatMap((name) => name.split(',').filter(Boolean))],
      desktopClients: values.database !== undefined,
      token,
    }).catch(async (error: unknown) => {
      await context.close();
      throw listenError(host, values.port, error);
    });
    // The URL is the first line on stdout: tests and scripts read it.
    process.stdout.write(`${server.url}\n`);
    process.stderr.write(
      `Review server for library ${describeLocation(location)} on ${host}:${server.port}. Open the URL above; Ctrl+C stops.\n`,
    );
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await server.close();
    await context.close();
  },
};

/** A fixed token reviewers can be given; a new random one when none is given. */
function tokenFlag(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (value.length < MIN_TOKEN_LENGTH || !/^[\x21-\x7e]+$/.test(value))
    throw new AppError(
      'usage',
      `--token (or ${TOKEN_ENV}) must be at least ${MIN_TOKEN_LENGTH} printable characters without spaces: make one with openssl rand -base64 24`,
    );
  return value;
}

function wildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '[::]';
}

/**
 * The names a server on `host` is reached by besides loopback: that address; for a wildcard address, this
 * machine's host name and its interfaces' addresses. Names of its own that DNS gives the machine are added
 * with --name.
 */
function reachedBy(host: string): string[] {
  if (!wildcard(host)) return [host.includes(':') && !host.startsWith('[') ? `[${host}]` : host];
  const addresses = Object.values(networkInterfaces()).flatMap((list) =>
    (list ?? [])
      .filter((address) => !address.address.includes('%'))
      .map((address) => (address.family === 'IPv6' ? `[${address.address}]` : address.address)),
  );
  return [hostname(), ...addresses];
}

function listenError(host: string, port: string | undefined, error: unknown): unknown {
  const code = (error as { code?: string }).code;
  if (code === 'EADDRINUSE')
    return new AppError('usage', `Port ${port} on ${host} is in use by another program: choose another with --port`);
  if (code === 'EADDRNOTAVAIL')
    return new AppError(
      'usage',
      `${host} is not an address of this machine: give one of its addresses with --host, or 0.0.0.0 for all`,
    );
  if (code === 'EACCES')
    return new AppError(
      'usage',
      `Port ${port} on ${host} needs more rights than this user has: choose a port above 1023`,
    );
  return error;
}
