import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startServeProcess } from '../helpers/cli.js';

let server: Awaited<ReturnType<typeof startServeProcess>>;
let origin: string;
let token: string;

before(async () => {
  const library = join(mkdtempSync(join(tmpdir(), 'dml-serve-')), 'library.sqlite');
  server = await startServeProcess(['--library', library]);
  const url = new URL(server.url);
  origin = url.origin;
  token = url.searchParams.get('token') ?? '';
});

after(() => server.stop());

test('serve prints the URL with a token as its first line, bound to 127.0.0.1', () => {
  assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]{20,}$/);
});

test('every /api/ route answers 401 without the token', async () => {
  for (const path of ['/api/health', '/api/anything', '/media/frame/1/1.jpg']) {
    const response = await fetch(origin + path);
    assert.equal(response.status, 401, path);
  }
  const wrong = await fetch(`${origin}/api/health?token=wrong`);
  assert.equal(wrong.status, 401);
});

test('/api/health answers JSON with the token as header or query parameter', async () => {
  const byHeader = await fetch(`${origin}/api/health`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(byHeader.status, 200);
  const body = (await byHeader.json()) as { name: string; host: string };
  assert.equal(body.name, 'dmlreview');
  assert.equal(body.host, 'review-server');
  const byQuery = await fetch(`${origin}/api/health?token=${token}`);
  assert.equal(byQuery.status, 200);
});

test('a malformed API request is a 400 naming the problem', async () => {
  const response = await fetch(`${origin}/api/health`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: '{not json',
  });
  assert.equal(response.status, 400);
  assert.match(((await response.json()) as { message: string }).message, /not JSON/);
});

test('requests for another host name are refused (DNS rebinding)', async () => {
  const { request } = await import('node:http');
  const status = await new Promise<number | undefined>((resolve, reject) => {
    const url = new URL(origin);
    const req = request(
      { host: '127.0.0.1', port: url.port, path: `/api/health?token=${token}`, headers: { host: 'evil.example:80' } },
      (res) => {
        res.resume();
        resolve(res.statusCode);
      },
    );
    req.on('error', reject);
    req.end();
  });
  assert.equal(status, 421);
});

test('a one-machine server lets no other page call it, the desktop app included', async () => {
  for (const page of ['dmlr://app', 'http://127.0.0.1:1', 'https://evil.example']) {
    const response = await fetch(`${origin}/api/health`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, origin: page },
    });
    assert.equal(response.status, 403, page);
    assert.equal(response.headers.get('access-control-allow-origin'), null);
  }
});

test('the page is served with a Content-Security-Policy', async () => {
  const response = await fetch(`${origin}/`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-security-policy') ?? '', /default-src 'self'/);
  assert.match(response.headers.get('content-security-policy') ?? '', /connect-src 'self';/);
});

test('a page showing a team library may reach that server, and only that one', async () => {
  const policy = async (team: string) =>
    (await fetch(`${origin}/?team=${encodeURIComponent(team)}`)).headers.get('content-security-policy') ?? '';
  const team = await policy('http://review.fleet.lan:8080');
  assert.match(team, /connect-src 'self' http:\/\/review\.fleet\.lan:8080 ws:\/\/review\.fleet\.lan:8080;/);
  assert.match(team, /img-src 'self' data: blob: http:\/\/review\.fleet\.lan:8080;/);
  assert.match(team, /media-src 'self' http:\/\/review\.fleet\.lan:8080;/);
  // Not an origin alone, or not http(s): nothing is added.
  for (const bogus of ['http://review.fleet.lan:8080/path', 'javascript:alert(1)', "https://a.example 'unsafe-inline'"])
    assert.match(await policy(bogus), /connect-src 'self';/, bogus);
});
