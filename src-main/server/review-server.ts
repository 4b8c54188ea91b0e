import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { AppContext } from '../app/context.js';
import { createDispatcher, handlers } from '../api/index.js';
import { rendererDir } from '../core/paths.js';
import { hostAllowed, newAccessToken, presentedToken, tokenMatches } from './auth.js';
import { readStatic } from './static.js';

export interface ReviewServer {
  readonly url: string;
  readonly port: number;
  readonly token: string;
  close(): Promise<void>;
}

export interface ReviewServerOptions {
  port?: number;
  token?: string;
  rendererRoot?: string;
}

const MAX_BODY_BYTES = 64 * 1024 * 1024;

export const contentSecurityPolicy = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'none'",
].join('; ');

/**
 * Serves the renderer and the API to a browser on this machine only: bound to 127.0.0.1, every /api/ and
 * /media/ request must carry the access token, and requests for other host names are refused.
 */
export async function startReviewServer(context: AppContext, options: ReviewServerOptions = {}): Promise<ReviewServer> {
  const token = options.token ?? newAccessToken();
  const root = options.rendererRoot ?? rendererDir();
  const dispatch = createDispatcher(handlers, context);
  const server = createServer();
  const sockets = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
  let port = 0;

  server.on('request', (request, response) => {
    handleRequest(request, response).catch((error: unknown) => {
      sendJson(response, 500, { code: 'internal', message: String(error) });
    });
  });

  async function handleRequest(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (!hostAllowed(request, port)) return sendJson(response, 421, { code: 'bad_host', message: 'Unknown host' });
    const url = new URL(request.url ?? '/', `http://127.0.0.1:${port}`);
    const isApi = url.pathname.startsWith('/api/');
    const isMedia = url.pathname.startsWith('/media/');
    if ((isApi || isMedia) && !tokenMatches(token, presentedToken(request, url))) {
      return sendJson(response, 401, { code: 'unauthorized', message: 'Missing or wrong access token' });
    }
    if (isApi) return handleApi(request, response, url.pathname.slice('/api/'.length));
    if (isMedia) return handleMedia(response, url.pathname.slice('/media/'.length));
    if (request.method !== 'GET' && request.method !== 'HEAD')
      return sendJson(response, 405, { code: 'method', message: 'GET only' });
    const file = (await readStatic(root, url.pathname)) ?? (await readStatic(root, '/'));
    if (!file)
      return sendJson(response, 503, {
        code: 'no_renderer',
        message: `The renderer is not built (${root}): run npm run build`,
      });
    response.writeHead(200, {
      'content-type': file.contentType,
      'content-security-policy': contentSecurityPolicy,
      'x-content-type-options': 'nosniff',
      'cache-control': 'no-cache',
    });
    response.end(file.body);
  }

  async function handleApi(request: IncomingMessage, response: ServerResponse, method: string): Promise<void> {
    if (method === 'events')
      return sendJson(response, 426, { code: 'upgrade', message: 'Open /api/events as a WebSocket' });
    let payload: unknown = {};
    if (request.method === 'POST') {
      const text = await readBody(request);
      if (text === undefined) return sendJson(response, 413, { code: 'too_large', message: 'Request body over 64 MB' });
      try {
        payload = text.length ? JSON.parse(text) : {};
      } catch {
        return sendJson(response, 400, { code: 'invalid_request', message: `Request body for ${method} is not JSON` });
      }
    } else if (request.method !== 'GET') {
      return sendJson(response, 405, { code: 'method', message: 'Use POST with a JSON body' });
    }
    const result = await dispatch(method, payload);
    if (result.ok) sendJson(response, 200, result.value);
    else sendJson(response, result.status, result.error);
  }

  async function handleMedia(response: ServerResponse, path: string): Promise<void> {
    const media = await context.media.resolve(decodeURIComponent(path));
    if (!media) return sendJson(response, 404, { code: 'not_found', message: `No media at ${path}` });
    response.writeHead(200, { 'content-type': media.contentType, 'cache-control': 'private, max-age=3600' });
    response.end(media.body);
  }

  server.on('upgrade', (request, socket, head) => {
    const url = new URL(request.url ?? '/', `http://127.0.0.1:${port}`);
    const allowed =
      hostAllowed(request, port) && url.pathname === '/api/events' && tokenMatches(token, presentedToken(request, url));
    if (!allowed) {
      socket.end('HTTP/1.1 401 Unauthorized\r\n\r\n');
      return;
    }
    sockets.handleUpgrade(request, socket, head, (client) => attachEvents(client));
  });

  function attachEvents(client: WebSocket): void {
    const unsubscribe = context.events.subscribe((event, payload) => {
      client.send(JSON.stringify({ event, payload }));
    });
    client.on('close', unsubscribe);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    port,
    token,
    close: () => closeServer(server, sockets),
  };
}

function readBody(request: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        request.destroy();
        resolve(undefined);
      } else chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  if (response.headersSent) return void response.end();
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  response.end(JSON.stringify(body));
}

function closeServer(server: Server, sockets: WebSocketServer): Promise<void> {
  for (const client of sockets.clients) client.terminate();
  sockets.close();
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
