// The source video route: byte ranges as a <video> element asks for them, and only a session's own files.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { mediaPaths } from '../../src-shared/contract/media.js';
import { repoRoot } from '../helpers/cli.js';
import { tempDir, valImages } from '../helpers/clips.js';
import { api, rawRequest, serve, type ServeUnderTest } from '../helpers/server.js';

const highway = join(repoRoot, '../shared/datasets/footage/udacity-highway.mp4');
const bytes = readFileSync(highway);
const size = bytes.length;
const dir = tempDir('dml-source-video-');
let server: ServeUnderTest;
let videoSession: number;
let folderSession: number;

async function importSession(paths: string[]): Promise<number> {
  const result = await api(server, 'sessions.import', { paths });
  assert.equal(result.status, 200, JSON.stringify(result.body));
  return result.body.id as number;
}

function get(path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Response> {
  return fetch(`${server.origin}/media/${path}`, {
    method,
    headers: { authorization: `Bearer ${server.token}`, ...headers },
  });
}

before(async () => {
  server = await serve(['--library', join(dir, 'library.sqlite')]);
  videoSession = await importSession([highway]);
  const folder = join(dir, 'images');
  mkdirSync(folder);
  symlinkSync(join(valImages, '0016E5_07959.jpg'), join(folder, 'a.jpg'));
  symlinkSync(join(valImages, '0016E5_07961.jpg'), join(folder, 'b.jpg'));
  folderSession = await importSession([folder]);
});

after(async () => {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('without a Range header the whole file is sent, with Accept-Ranges and its length', async () => {
  const response = await get(mediaPaths.source(videoSession, 0));
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('accept-ranges'), 'bytes');
  assert.equal(response.headers.get('content-type'), 'video/mp4');
  assert.equal(response.headers.get('content-length'), String(size));
  assert.ok(Buffer.from(await response.arrayBuffer()).equals(bytes));
});

test('a byte range is a 206 with exactly those bytes and a Content-Range', async () => {
  const response = await get(mediaPaths.source(videoSession, 0), { range: 'bytes=100-1099' });
  assert.equal(response.status, 206);
  assert.equal(response.headers.get('content-range'), `bytes 100-1099/${size}`);
  assert.equal(response.headers.get('content-length'), '1000');
  assert.ok(Buffer.from(await response.arrayBuffer()).equals(bytes.subarray(100, 1100)));
});

test('an open range runs to the end; a range past the end is cut at the last byte', async () => {
  const open = await get(mediaPaths.source(videoSession, 0), { range: `bytes=${size - 10}-` });
  assert.equal(open.status, 206);
  assert.equal(open.headers.get('content-range'), `bytes ${size - 10}-${size - 1}/${size}`);
  assert.ok(Buffer.from(await open.arrayBuffer()).equals(bytes.subarray(size - 10)));
  const long = await get(mediaPaths.source(videoSession, 0), { range: `bytes=${size - 5}-${size + 5000}` });
  assert.equal(long.status, 206);
  assert.equal(long.headers.get('content-length'), '5');
});

test('a suffix range sends the last bytes, the whole file when it asks for more', async () => {
  const suffix = await get(mediaPaths.source(videoSession, 0), { range: 'bytes=-500' });
  assert.equal(suffix.status, 206);
  assert.equal(suffix.headers.get('content-range'), `bytes ${size - 500}-${size - 1}/${size}`);
  assert.ok(Buffer.from(await suffix.arrayBuffer()).equals(bytes.subarray(size - 500)));
  const more = await get(mediaPaths.source(videoSession, 0), { range: `bytes=-${size * 2}` });
  assert.equal(more.status, 206);
  assert.equal(more.headers.get('content-range'), `bytes 0-${size - 1}/${size}`);
});

test('unsatisfiable or malformed byte ranges are 416 with the file size; other units get the whole file', async () => {
  for (const range of [
    `bytes=${size}-`,
    `bytes=${size + 100}-${size + 200}`,
    'bytes=-0',
    'bytes=500-100',
    'bytes=x-y',
    'bytes=-',
  ]) {
    const response = await get(mediaPaths.source(videoSession, 0), { range });
    assert.equal(response.status, 416, range);
    assert.equal(response.headers.get('content-range'), `bytes */${size}`, range);
    assert.match(((await response.json()) as { message: string }).message, /not satisfiable for source 0 of session/);
  }
  const items = await get(mediaPaths.source(videoSession, 0), { range: 'items=0-5' });
  assert.equal(items.status, 200);
  assert.equal((await items.arrayBuffer()).byteLength, size);
});

test('HEAD answers the headers of a range without its bytes', async () => {
  const response = await get(mediaPaths.source(videoSession, 0), { range: 'bytes=0-99' }, 'HEAD');
  assert.equal(response.status, 206);
  assert.equal(response.headers.get('content-length'), '100');
  assert.equal((await response.arrayBuffer()).byteLength, 0);
});

test('If-Range with another date than the file has gets the whole file', async () => {
  const head = await get(mediaPaths.source(videoSession, 0), {}, 'HEAD');
  const modified = head.headers.get('last-modified') ?? '';
  const same = await get(mediaPaths.source(videoSession, 0), { range: 'bytes=0-9', 'if-range': modified });
  assert.equal(same.status, 206);
  await same.arrayBuffer();
  const stale = await get(mediaPaths.source(videoSession, 0), {
    range: 'bytes=0-9',
    'if-range': 'Thu, 01 Jan 1970 00:00:00 GMT',
  });
  assert.equal(stale.status, 200);
  assert.equal((await stale.arrayBuffer()).byteLength, size);
});

test('only registered session sources are served: no path, no other session, no image folder, no token', async () => {
  const refused = [
    mediaPaths.source(videoSession, 1),
    mediaPaths.source(videoSession + 1000, 0),
    mediaPaths.source(folderSession, 0),
    `source/${encodeURIComponent(highway)}`,
    `source/${videoSession}/${encodeURIComponent('/etc/passwd')}`,
    `source/${videoSession}/0.mp4`,
    `source/..%2F..%2Fetc%2Fpasswd`,
  ];
  for (const path of refused) {
    const response = await get(path);
    assert.ok(response.status === 404 || response.status === 400, `${path}: ${response.status}`);
    assert.notEqual(response.headers.get('content-type'), 'video/mp4', path);
    await response.arrayBuffer();
  }
  // Sent as written (fetch() would resolve the dots): the server resolves them too, to /etc/passwd, which
  // is no media path and no file of the renderer: never a file outside it.
  const traversal = await rawRequest(server, {
    path: `/media/source/${videoSession}/0/../../../../etc/passwd?token=${server.token}`,
  });
  // The renderer's page (or 503 where it is not built): never a file's bytes.
  assert.match(String(traversal.headers['content-type']), /^(text\/html|application\/json)/);
  const anonymous = await fetch(`${server.origin}/media/${mediaPaths.source(videoSession, 0)}`);
  assert.equal(anonymous.status, 401);
});

test('a source replaced by a FIFO after import is refused at once, and the server stays up', async () => {
  const copy = join(dir, 'copy.mp4');
  copyFileSync(highway, copy);
  const session = await importSession([copy]);
  rmSync(copy);
  execFileSync('mkfifo', [copy]);
  const response = await get(mediaPaths.source(session, 0), { range: 'bytes=0-99' }, 'GET');
  assert.equal(response.status, 404);
  assert.match(
    ((await response.json()) as { message: string }).message,
    /source 0 of session \d+ is missing or not a regular file/,
  );
  assert.ok(server.alive());
});
