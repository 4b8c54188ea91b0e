import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { WebSocketServer, type WebSocket } from 'ws';
import type { AppContext } from '../api/context.js';
import type { ApiErrorBody } from '../../src-shared/contract/index.js';
import { createDispatcher, handlers } from '../api/index.js';
import type { MediaFile } from '../api/media.js';
import { answerFileRequest } from '../app/byte-range.js';
import { contentSecurityPolicy, decodePath, readStatic } from '../app/static.js';
import { errorMessage } from '../core/errors.js';
import { rendererDir } from '../core/paths.js';
import { accessPolicy, newAccessToken, presentedToken, tokenMatches, type AccessOptions } from './auth.js';

export interface ReviewServer {
  readonly url: string;
  readonly port: number;
  readonly token: string;
  close(): Promise<void>;
}

export interface ReviewServerOptions extends AccessOptions {
  port?: number;
  /** The address to listen on; default 127.0.0.1 (this machine only). A team server names another. */
  host?: string;
  /** The name the printed URL uses; default the host (a wildcard address: this machine's host name). */
  urlHost?: string;
  token?: string;
  rendererRoot?: string;
}

const MAX_BODY_BYTES = 64 * 1024 * 1024;
/**
 * A body over the limit is read on and dropped, so that the client, which is still sending, gets its 413
 * instead of a reset connection; one that sends this much more is cut off.
 */
const MAX_DISCARD_BYTES = 256 * 1024 * 1024;
/** Notifications a WebSocket client has not read yet; one that falls this far behind is dropped (it reconnects). */
const MAX_NOTIFICATION_BACKLOG_BYTES = 16 * 1024 * 1024;
const MAX_WS_MESSAGE_BYTES = 1024 * 1024;

/** On every response: no URL of ours (media URLs carry the token) is ever sent on as a Referer. */
const commonHeaders = { 'referrer-policy': 'no-referrer', 'x-content-type-options': 'nosniff' } as const;

/**
 * Serves the renderer and the API: by default to a browser on this machine only, bound to 127.0.0.1; a team
 * server listens on the address it is given. Every /api/ and /media/ request must carry the access token, and
 * requests addressed to other host names than the server's, or sent by other pages, are refused (auth.ts).
 */
export async function startReviewServer(context: AppContext, options: ReviewServerOptions = {}): Promise<ReviewServer> {
  const token = options.token ?? newAccessToken();
  const root = options.rendererRoot ?? rendererDir();
  const dispatch = createDispatcher(handlers, context);
  // Idle keep-alive connections stay open for a minute, not Node's 5 s: a slow client (a busy machine, a
  // large timeline) that reuses its connection just as the server closes it would get a reset instead of an answer.
  const server = createServer({ keepAliveTimeout: 60_000, headersTimeout: 65_000 });
  const sockets = new WebSocketServer({ noServer: true, maxPayload: MAX_WS_MESSAGE_BYTES });
  let port = 0;
  let access = accessPolicy(0, options);

  server.on('request', (request, response) => {
    handleRequest(request, response).catch((error: unknown) => {
      sendJson(response, 500, { code: 'internal', message: `The review server failed: ${errorMessage(error)}` });
    });
  });

  async function handleRequest(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const refusal = refuse(request);
    if (refusal) return sendJson(response, refusal.status, refusal.body);
    const crossOrigin = access.crossOrigin(request);
    if (crossOrigin) allowCrossOrigin(response, crossOrigin);
    if (request.method === 'OPTIONS' && crossOrigin) return answerPreflight(response);
    const url = requestUrl(request, port)!;
    const isApi = url.pathname.startsWith('/api/');
    const isMedia = url.pathname.startsWith('/media/');
    if ((isApi || isMedia) && !tokenMatches(token, presentedToken(request, url))) {
      return sendJson(response, 401, { code: 'unauthorized', message: 'Missing or wrong access token' });
    }
    if (isApi) return handleApi(request, response, url.pathname.slice('/api/'.length));
    if (isMedia) return handleMedia(request, response, decodePath(url.pathname.slice('/media/'.length))!);
    if (request.method !== 'GET' && request.method !== 'HEAD')
      return sendJson(response, 405, { code: 'method', message: 'GET only' });
    const file = (await readStatic(root, url.pathname)) ?? (await readStatic(root, '/'));
    if (!file)
      return sendJson(response, 503, {
        code: 'no_renderer',
        message: `The renderer is not built (${root}): run npm run build`,
      });
    response.writeHead(200, {
      ...commonHeaders,
      'content-type': file.contentType,
      'content-security-policy': contentSecurityPolicy(url),
      'cache-control': 'no-cache',
    });
    response.end(file.body);
  }

  async function handleApi(request: IncomingMessage, response: ServerResponse, method: string): Promise<void> {
    if (method === 'notifications')
      return sendJson(response, 426, { code: 'upgrade', message: 'Open /api/notifications as a WebSocket' });
    let payload: unknown = {};
    if (request.method === 'POST') {
      const text = await readBody(request);
      if (text === undefined) {
        const body: ApiErrorBody = {
          code: 'too_large',
          message: `The request body for ${method} is over the 64 MB limit`,
        };
        return sendJson(response, 413, body, { connection: 'close' });
      }
      try {
        payload = text.length ? JSON.parse(text) : {};
      } catch {
        return sendJson(response, 400, { code: 'invalid_request', message: `Request body for ${method} is not JSON` });
      }
    } else if (request.method !== 'GET') {
      return sendJson(response, 405, { code: 'method', message: 'Use POST with a JSON body' });
    }
    const result = await dispatch(method, payload);
    if (result.ok) sendBody(response, 200, result.value);
    else sendJson(response, result.status, result.error);
  }

  async function handleMedia(request: IncomingMessage, response: ServerResponse, path: string): Promise<void> {
    const file = await context.media.resolveFile(path);
    if (file) return sendFile(request, response, file);
    const media = await context.media.resolve(path);
    if (!media) return sendJson(response, 404, { code: 'not_found', message: `No media at ${path}` });
    response.writeHead(200, {
      ...commonHeaders,
      'content-type': media.contentType,
      'cache-control': 'private, max-age=3600',
    });
    response.end(media.body);
  }

  /** What no route may serve: another host name, a foreign page, a URL that does not parse. */
  function refuse(request: IncomingMessage): { status: number; body: ApiErrorBody } | undefined {
    if (!access.hostAllowed(request)) return { status: 421, body: { code: 'bad_host', message: 'Unknown host' } };
    if (!access.originAllowed(request))
      return {
        status: 403,
        body: { code: 'bad_origin', message: `Requests from ${request.headers.origin} are refused` },
      };
    const url = requestUrl(request, port);
    if (!url || decodePath(url.pathname) === undefined)
      return { status: 400, body: { code: 'bad_path', message: `The request path ${request.url} is malformed` } };
    return undefined;
  }

  /** Why an upgrade is refused, as an HTTP status; undefined for the notification socket with the token. */
  function upgradeRefusal(request: IncomingMessage): number | undefined {
    const refusal = refuse(request);
    if (refusal) return refusal.status;
    const url = requestUrl(request, port)!;
    if (url.pathname !== '/api/notifications') return 404;
    return tokenMatches(token, presentedToken(request, url)) ? undefined : 401;
  }

  server.on('upgrade', (request, socket: Duplex, head) => {
    // A socket that fails during the handshake is dropped: an 'error' without a listener would end the process.
    socket.on('error', () => socket.destroy());
    const status = upgradeRefusal(request);
    if (status !== undefined) {
      socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nconnection: close\r\n\r\n`);
      return;
    }
    sockets.handleUpgrade(request, socket, head, (client) => attachNotifications(client));
  });

  function attachNotifications(client: WebSocket): void {
    const unsubscribe = context.notifications.subscribe((name, payload) => {
      if (client.readyState !== client.OPEN) return;
      if (client.bufferedAmount > MAX_NOTIFICATION_BACKLOG_BYTES) return void client.terminate();
      client.send(JSON.stringify({ name, payload }));
    });
    // A malformed or oversized frame: ws has already answered it with a close code; the error must not go
    // unhandled, which would end the server.
    client.on('error', () => client.terminate());
    client.on('close', unsubscribe);
    // The socket only carries notifications to the client: anything a client sends is read and ignored.
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  access = accessPolicy(port, options);
  return {
    url: `http://${urlHostName(options.urlHost ?? options.host ?? '127.0.0.1')}:${port}/?token=${token}`,
    port,
    token,
    close: () => closeServer(server, sockets),
  };
}

/** A desktop app's page may read the answer (CORS); answers differ by Origin, so caches must keep them apart. */
function allowCrossOrigin(response: ServerResponse, origin: string): void {
  response.setHeader('access-control-allow-origin', origin);
  response.setHeader('access-control-expose-headers', 'content-range, accept-ranges, content-length');
  response.setHeader('vary', 'origin');
}

/** The browser asks before a cross-origin POST with a token header: these methods and headers, for a day. */
function answerPreflight(response: ServerResponse): void {
  response.writeHead(204, {
    ...commonHeaders,
    'access-control-allow-methods': 'GET, HEAD, POST',
    'access-control-allow-headers': 'authorization, content-type, range, if-range',
    'access-control-max-age': '86400',
  });
  response.end();
}

/** An IPv6 address as a URL writes it, in brackets. */
function urlHostName(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/** A media file, whole or the byte range asked for; the bytes are streamed, never read whole. */
async function sendFile(request: IncomingMessage, response: ServerResponse, file: MediaFile): Promise<void> {
  const answer = await answerFileRequest(file, {
    method: request.method,
    range: request.headers.range,
    ifRange: headerValue(request.headers['if-range']),
  });
  if (!answer.body) {
    if (answer.status === 404 || answer.status === 416)
      return sendJson(
        response,
        answer.status,
        {
          code: answer.status === 404 ? 'not_found' : 'bad_range',
          message: answer.message ?? String(STATUS_CODES[answer.status]),
        },
        answer.headers,
      );
    response.writeHead(answer.status, { ...commonHeaders, ...answer.headers, 'cache-control': 'private, no-cache' });
    return void response.end();
  }
  response.writeHead(answer.status, { ...commonHeaders, ...answer.headers, 'cache-control': 'private, no-cache' });
  // A client that stops reading (a seek in the video) closes its request: the file stream is closed with it.
  await pipeline(answer.body(), response).catch(() => response.destroy());
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** The request's URL, undefined when it does not parse (`//[`): new URL throws on those. */
function requestUrl(request: IncomingMessage, port: number): URL | undefined {
  try {
    return new URL(request.url ?? '/', `http://127.0.0.1:${port}`);
  } catch {
    return undefined;
  }
}

/** The body as text, or undefined when it is over MAX_BODY_BYTES (resolved once the rest was discarded). */
function readBody(request: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) return void chunks.push(chunk);
      chunks.length = 0;
      if (size > MAX_BODY_BYTES + MAX_DISCARD_BYTES) request.destroy();
    });
    request.on('end', () => resolve(size > MAX_BODY_BYTES ? undefined : Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

/** An error body: its code is one of the contract's (ErrorCode), which the type checks. */
function sendJson(response: ServerResponse, status: number, body: ApiErrorBody, headers: Record<string, string> = {}) {
  sendBody(response, status, body, headers);
}

function sendBody(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (response.headersSent || response.destroyed) return void response.end();
  response.writeHead(status, {
    ...commonHeaders,
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
  });
  response.end(JSON.stringify(body));
}

function closeServer(server: Server, sockets: WebSocketServer): Promise<void> {
  for (const client of sockets.clients) client.terminate();
  sockets.close();
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
