import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export function newAccessToken(): string {
  return randomBytes(24).toString('base64url');
}

/** The token from an `Authorization: Bearer` header or a `token` query parameter. */
export function presentedToken(request: IncomingMessage, url: URL): string | undefined {
  const header = request.headers.authorization;
  if (header?.startsWith('Bearer ')) return header.slice('Bearer '.length).trim();
  return url.searchParams.get('token') ?? undefined;
}

export function tokenMatches(expected: string, presented: string | undefined): boolean {
  if (presented === undefined) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(presented);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Only requests addressed to the loopback names are served: a web page elsewhere cannot reach the API by
 * pointing a hostname of its own at 127.0.0.1 (DNS rebinding).
 */
export function hostAllowed(request: IncomingMessage, port: number): boolean {
  return loopbackHosts(port).includes(request.headers.host ?? '');
}

/**
 * A browser names the page behind every WebSocket and every POST in `Origin`: only our own page may use the
 * API that way, so a page elsewhere that somehow learnt the token still cannot. Clients that are not browsers
 * send no Origin and are judged by the token alone.
 */
export function originAllowed(request: IncomingMessage, port: number): boolean {
  const origin = request.headers.origin;
  return origin === undefined || loopbackHosts(port).some((host) => origin === `http://${host}`);
}

function loopbackHosts(port: number): string[] {
  return [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`];
}
