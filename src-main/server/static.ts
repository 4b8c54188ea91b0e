import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';

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

/** Reads a file of the built renderer; undefined for anything outside it or missing. */
export async function readStatic(
  root: string,
  urlPath: string,
): Promise<{ body: Buffer; contentType: string } | undefined> {
  const relative = urlPath === '/' ? 'index.html' : decodeURIComponent(urlPath).replace(/^\/+/, '');
  const file = normalize(join(root, relative));
  if (!file.startsWith(root + sep)) return undefined;
  try {
    return { body: await readFile(file), contentType: contentTypes[extname(file)] ?? 'application/octet-stream' };
  } catch {
    return undefined;
  }
}
