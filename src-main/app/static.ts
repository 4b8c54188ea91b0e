/**
 * The built renderer as both hosts serve it (the review server over HTTP, the Electron window over dmlr://):
 * the same files, content types and Content-Security-Policy.
 */
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';

/**
 * On every page of the renderer: only our own scripts, styles and connections; no plugins, frames or forms.
 * A page showing a team library (its address names the team server: `?team=ORIGIN`, see the renderer's
 * api/team-library.ts) may also fetch from, open a WebSocket to and show images and video of that one server.
 */
export function contentSecurityPolicy(pageUrl: URL): string {
  const team = teamServerOrigin(pageUrl);
  const also = team ? ` ${team} ${team.replace(/^http/, 'ws')}` : '';
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    `img-src 'self' data: blob:${team ? ` ${team}` : ''}`,
    `media-src 'self'${team ? ` ${team}` : ''}`,
    `connect-src 'self'${also}`,
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'none'",
  ].join('; ');
}

/** The team server a page's address names: an http(s) origin and nothing else, or undefined. */
function teamServerOrigin(pageUrl: URL): string | undefined {
  const named = pageUrl.searchParams.get('team');
  if (!named) return undefined;
  try {
    const url = new URL(named);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === named ? url.origin : undefined;
  } catch {
    return undefined;
  }
}

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

/** A URL path with its %-escapes decoded; undefined when they are malformed (`/%`, `/%zz`), never a throw. */
export function decodePath(urlPath: string): string | undefined {
  try {
    return decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
}

/** Reads a file of the built renderer; undefined for anything outside it, missing, or a malformed path. */
export async function readStatic(
  root: string,
  urlPath: string,
): Promise<{ body: Buffer; contentType: string } | undefined> {
  const decoded = decodePath(urlPath);
  if (decoded === undefined) return undefined;
  const relative = urlPath === '/' ? 'index.html' : decoded.replace(/^\/+/, '');
  const file = normalize(join(root, relative));
  if (!file.startsWith(root + sep)) return undefined;
  try {
    return { body: await readFile(file), contentType: contentTypes[extname(file)] ?? 'application/octet-stream' };
  } catch {
    return undefined;
  }
}
