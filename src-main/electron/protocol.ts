import { protocol } from 'electron';
import type { AppContext } from '../api/context.js';
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
      const media = path === undefined ? undefined : await context.media.resolve(path);
      return media
        ? new Response(new Uint8Array(media.body), { headers: { 'content-type': media.contentType } })
        : notFound();
    }
    const file = (await readStatic(rendererDir(), url.pathname)) ?? (await readStatic(rendererDir(), '/'));
    if (!file) return notFound();
    return new Response(new Uint8Array(file.body), {
      headers: { 'content-type': file.contentType, 'content-security-policy': contentSecurityPolicy },
    });
  });
}

function notFound(): Response {
  return new Response('Not found', { status: 404 });
}
