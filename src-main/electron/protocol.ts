import { Readable } from 'node:stream';
import { protocol } from 'electron';
import type { AppContext } from '../api/context.js';
import type { MediaFile } from '../api/media.js';
import { answerFileRequest } from '../app/byte-range.js';
import { rendererDir } from '../core/paths.js';
import { contentSecurityPolicy, decodePath, readStatic } from '../app/static.js';

/** Must run before the app is ready: dmlr:// behaves like a secure, standard origin (fetch, CSP, storage). */
export function registerSchemePrivileges(): void {
  protocol.registerSchemesAsPrivileged([
    { scheme: 'dmlr', privileges: { standard: true, secure: true, supportFetchAPI: true, stream: true } },
  ]);
}

/** dmlr://app/ serves the built renderer, dmlr://app/media/ the frames and maps: no file:// anywhere. */
export function handleAppProtocol(context: AppContext): void {
  protocol.handle('dmlr', async (request) => {
    const url = new URL(request.url);
    if (url.host !== 'app') return notFound();
    // Media is same-origin with the page (dmlr://app/media/...) so the page's CSP allows it.
    if (url.pathname.startsWith('/media/')) {
      const path = decodePath(url.pathname.slice('/media/'.length));
      const file = path === undefined ? undefined : await context.media.resolveFile(path);
      if (file) return fileResponse(request, file);
      const media = path === undefined ? undefined : await context.media.resolve(path);
      return media
        ? new Response(new Uint8Array(media.body), { headers: { 'content-type': media.contentType } })
        : notFound();
    }
    const file = (await readStatic(rendererDir(), url.pathname)) ?? (await readStatic(rendererDir(), '/'));
    if (!file) return notFound();
    return new Response(new Uint8Array(file.body), {
      headers: { 'content-type': file.contentType, 'content-security-policy': contentSecurityPolicy(url) },
    });
  });
}

/** The source video with byte ranges, as the review server answers it (app/byte-range.ts): <video> seeks by range. */
async function fileResponse(request: Request, file: MediaFile): Promise<Response> {
  const answer = await answerFileRequest(file, {
    method: request.method,
    range: request.headers.get('range') ?? undefined,
    ifRange: request.headers.get('if-range') ?? undefined,
  });
  const body = answer.body ? (Readable.toWeb(answer.body()) as ReadableStream<Uint8Array>) : answer.message;
  return new Response(body, { status: answer.status, headers: answer.headers });
}

function notFound(): Response {
  return new Response('Not found', { status: 404 });
}
