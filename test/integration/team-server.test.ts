import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { request, type IncomingHttpHeaders } from 'node:http';
import { after, before, test } from 'node:test';
import { openLibrary } from '../../src-main/library/index.js';
import { cliEntry, repoRoot, runCli, startServeProcess } from '../helpers/cli.js';
import { clip, tempDir } from '../helpers/clips.js';
import { postgresUnavailable, testPostgres } from '../helpers/postgres.js';
import { driveLikeFrame, writeSyntheticSession } from '../helpers/synthetic-library.js';

const skip = process.env.CI === 'true' ? false : (postgresUnavailable() ?? false);
const token = 'team-token-0123456789abcdef';
let server: Awaited<ReturnType<typeof startServeProcess>> | undefined;
let port = 0;
let database = '';

before(async () => {
  if (skip) return;
  const url = new URL(await (await testPostgres()).createDatabase());
  // The throwaway cluster trusts loopback, so this password is not checked: it must only never be shown.
  url.password = 'hunter2-secret';
  database = url.href;
  const store = await openLibrary(url.href);
  await writeSyntheticSession(store, { name: 'fleet drive', frames: 12, frame: driveLikeFrame }).finally(() =>
    store.close(),
  );
  server = await startServeProcess(['--database', url.href, '--host', '127.0.0.1', '--name', 'review.fleet.test'], {
    env: { DMLREVIEW_TOKEN: token },
  });
  port = Number(new URL(server.url).port);
});

after(async () => {
  await server?.stop();
  if (!skip) await (await testPostgres()).stop();
});

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A request with the Host and Origin headers a browser elsewhere would send (fetch may not set them). */
function send(path: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
  return new Promise<Answer>((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: options.method ?? 'GET',
        headers: { host: `127.0.0.1:${port}`, ...options.headers },
      },
      (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

const api = (method: string, headers: Record<string, string> = {}, body: unknown = {}) =>
  send(`/api/${method}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

interface Session {
  id: number;
  latestAnalysis: { status: string; framesDone: number } | null;
}
const session = async (id: number) => JSON.parse((await api('sessions.get', {}, { sessionId: id })).body) as Session;

test(
  'serve --database serves the team library with the fixed token, never showing the password',
  { skip },
  async () => {
    assert.equal(server!.url, `http://127.0.0.1:${port}/?token=${token}`);
    const health = JSON.parse((await api('health')).body) as { library: { kind: string; location: string } };
    assert.equal(health.library.kind, 'database');
    assert.match(health.library.location, /^postgresql:\/\/postgres@127\.0\.0\.1:\d+\/dmltest_/);
    const sessions = JSON.parse((await api('sessions.list')).body) as { name: string }[];
    assert.deepEqual(
      sessions.map((session) => session.name),
      ['fleet drive'],
    );
    assert.match(server!.stderr(), /Review server for library postgresql:\/\/postgres:\*\*\*@/);
    for (const shown of [JSON.stringify(health), server!.stderr(), server!.url]) assert.doesNotMatch(shown, /hunter2/);
    assert.equal((await send('/api/health')).status, 401);
  },
);

test('a team server answers the names it is given and refuses others', { skip }, async () => {
  const named = await api('health', { host: `review.fleet.test:${port}` });
  assert.equal(named.status, 200);
  // Behind a reverse proxy on the default port the name comes without one.
  assert.equal((await api('health', { host: 'review.fleet.test' })).status, 200);
  assert.equal((await api('health', { host: `evil.example:${port}` })).status, 421);
  assert.equal((await api('health', { origin: `https://review.fleet.test` })).status, 200);
  assert.equal((await api('health', { origin: 'https://evil.example' })).status, 403);
});

test('the desktop app may call a team server cross-origin; other pages may not', { skip }, async () => {
  for (const origin of ['dmlr://app', 'http://127.0.0.1:5173']) {
    const preflight = await send('/api/sessions.list', {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' },
    });
    assert.equal(preflight.status, 204, origin);
    assert.equal(preflight.headers['access-control-allow-origin'], origin);
    assert.match(String(preflight.headers['access-control-allow-headers']), /authorization/);
    const call = await api('sessions.list', { origin });
    assert.equal(call.status, 200);
    assert.equal(call.headers['access-control-allow-origin'], origin);
    // The token is still needed.
    const media = await send('/media/thumbnail/1.jpg', { headers: { origin } });
    assert.equal(media.status, 401);
  }
  const foreign = await send('/api/sessions.list', {
    method: 'OPTIONS',
    headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' },
  });
  assert.equal(foreign.status, 403);
  assert.equal(foreign.headers['access-control-allow-origin'], undefined);
});

test('an analysis started through the team server is queued for the fleet and run by a worker', { skip }, async () => {
  // What the UI's import does: the footage by the path the server sees, analysed right away.
  const drive = clip(tempDir('dml-team-queue-'), 'queued.mp4', 6, ['-c:v', 'libx264', '-preset', 'ultrafast']);
  const imported = await api(
    'sessions.import',
    {},
    { paths: [drive], analyse: { model: 'camvid-open', sampleFps: 1 } },
  );
  assert.equal(imported.status, 200, imported.body);
  const { id } = JSON.parse(imported.body) as Session;
  // The server runs no model itself: without a worker the analysis waits in the queue.
  await new Promise((resolve) => setTimeout(resolve, 3000));
  assert.equal((await session(id)).latestAnalysis?.status, 'queued');
  const worker = spawn(process.execPath, ['--import', 'tsx', cliEntry, 'worker', '--database', database], {
    cwd: repoRoot,
    stdio: 'ignore',
  });
  const exited = new Promise((resolve) => worker.once('exit', resolve));
  try {
    const deadline = Date.now() + 240_000;
    while ((await session(id)).latestAnalysis?.status !== 'done' && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 500));
    assert.deepEqual((await session(id)).latestAnalysis, {
      ...(await session(id)).latestAnalysis,
      status: 'done',
      framesDone: 6,
    });
  } finally {
    worker.kill('SIGTERM');
    await exited;
  }
});

test('a token too short to give reviewers is a usage error', async () => {
  const result = await runCli(['serve', '--library', '/tmp/unused.sqlite', '--token', 'short']);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /--token \(or DMLREVIEW_TOKEN\) must be at least 16 printable characters/);
});
