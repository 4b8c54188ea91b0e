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

/** Who may use the server: the host names it answers to and the pages whose requests it serves. */
export interface AccessPolicy {
  /** The request is addressed to one of our names: DNS rebinding (a name of the attacker's) is refused. */
  hostAllowed(request: IncomingMessage): boolean;
  /**
   * A browser names the page behind every WebSocket and every POST in `Origin`: only our own page (and, on a
   * team server, the desktop app) may use the API that way, so a page elsewhere that somehow learnt the token
   * still cannot. Clients that are not browsers send no Origin and are judged by the token alone.
   */
  originAllowed(request: IncomingMessage): boolean;
  /** The origin to allow in CORS headers: a desktop app's page calling a team server; else undefined. */
  crossOrigin(request: IncomingMessage): string | undefined;
}

export interface AccessOptions {
  /**
   * Names the server is reached by besides loopback (a team server: its DNS name, its addresses), each as
   * `name` or `name:port`. A name without a port is also accepted without one: a reverse proxy on port 80/443.
   */
  names?: string[];
  /**
   * Let the desktop app open this server as its library: its pages (`dmlr://app`, or a dmlreview window
   * served on this reviewer's loopback) may call the API cross-origin, with the token.
   */
  desktopClients?: boolean;
}

/** The loopback names on `port`, and the options' names; see AccessOptions. */
export function accessPolicy(port: number, options: AccessOptions = {}): AccessPolicy {
  const hosts = new Set([...loopbackHosts(port), ...(options.names ?? []).flatMap((name) => hostForms(name, port))]);
  const ownOrigins = new Set([...hosts].flatMap((host) => [`http://${host}`, `https://${host}`]));
  const crossOrigin = (request: IncomingMessage) => {
    const origin = request.headers.origin;
    return origin !== undefined && options.desktopClients && desktopOrigin(origin) ? origin : undefined;
  };
  return {
    hostAllowed: (request) => hosts.has((request.headers.host ?? '').toLowerCase()),
    originAllowed: (request) => {
      const origin = request.headers.origin;
      return origin === undefined || ownOrigins.has(origin.toLowerCase()) || crossOrigin(request) !== undefined;
    },
    crossOrigin,
  };
}

function loopbackHosts(port: number): string[] {
  return [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`];
}

/** `name:port` as a client writes it in Host (an IPv6 address in brackets); also `name` alone when no port is given. */
function hostForms(name: string, port: number): string[] {
  const lower = name.toLowerCase();
  return /^(\[[^\]]+\]|[^:[\]]+):\d+$/.test(lower) ? [lower] : [`${lower}:${port}`, lower];
}

/** The desktop app's page (Electron's dmlr://app) or a dmlreview window on this machine's loopback. */
function desktopOrigin(origin: string): boolean {
  return origin === 'dmlr://app' || /^http:\/\/(127\.0\.0\.1|localhost|\[::1\]):\d+$/.test(origin);
}
