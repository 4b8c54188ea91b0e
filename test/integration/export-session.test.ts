import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { PNG } from 'pngjs';
import { createDispatcher, handlers, type Dispatch } from '../../src-main/api/index.js';
import { createApp } from '../../src-main/app/create-app.js';
import type { AppContext } from '../../src-main/api/context.js';
import type { ExportResult } from '../../src-shared/contract/index.js';
import { runCli } from '../helpers/cli.js';
import { clip, tempDir } from '../helpers/clips.js';
import { e2eModel } from '../e2e/review-helpers.js';

// The export on a real analysis: 3 s of the val drive through the shipped model, two flags, then the API and
// the CLI each export it, and a second export into the same name is refused without touching the first.
const work = tempDir('dml-export-int-');
const libraryPath = join(work, 'library.sqlite');
let context: AppContext;
let dispatch: Dispatch;
let sessionId = 0;

async function call(method: string, payload: unknown) {
  const result = await dispatch(method, payload);
  if (!result.ok) throw new Error(`${method}: ${result.error.message}`);
  return result.value;
}

before(async () => {
  const footage = clip(work, 'three-seconds.mp4', 3, ['-c:v', 'libx264', '-pix_fmt', 'yuv420p']);
  context = await createApp({ host: 'review-server', libraryPath });
  dispatch = createDispatcher(handlers, context);
  const session = (await call('sessions.import', {
    paths: [footage],
    analyse: { model: e2eModel(), sampleFps: null },
  })) as { id: number };
  sessionId = session.id;
  const analysis = (await context.library.analyses.latest(sessionId))!;
  await context.analyses.queue.waitFor(analysis.id);
  assert.equal((await context.library.analyses.get(analysis.id)).status, 'done');
  await call('flags.add', { analysisId: analysis.id, frameIndex: 0, note: 'first, "quoted"' });
  await call('flags.add', { analysisId: analysis.id, frameIndex: 2, category: 'false-alarm' });
});

after(() => context?.close());

test('the API export writes originals, overlays, maps, manifests and the report, then refuses to overwrite', async () => {
  const out = join(work, 'api');
  mkdirSync(out);
  const result = (await call('export.flagged', { sessionId, folder: out, name: 'drive' })) as ExportResult;
  assert.equal(result.path, join(out, 'drive'));
  assert.equal(result.frames.length, 2);
  const files = readdirSync(result.path, { recursive: true }).map(String).sort();
  assert.deepEqual(files.filter((file) => file.endsWith('.png')).length, 8);
  for (const name of ['manifest.json', 'manifest.csv', 'report.html']) assert.ok(files.includes(name), name);
  const session = await context.library.sessions.get(sessionId);
  const original = PNG.sync.read(readFileSync(join(result.path, result.frames[0]!.frame)));
  assert.deepEqual([original.width, original.height], [session.width, session.height]);
  const manifest = JSON.parse(readFileSync(join(result.path, 'manifest.json'), 'utf8')) as {
    rows: { note: string; category: string }[];
    analysis: { modelSha256: string };
  };
  assert.deepEqual(
    manifest.rows.map((row) => [row.category, row.note]),
    [
      ['hazard', 'first, "quoted"'],
      ['false-alarm', ''],
    ],
  );
  assert.match(manifest.analysis.modelSha256, /^[0-9a-f]{64}$/);

  const again = await dispatch('export.flagged', { sessionId, folder: out, name: 'drive' });
  assert.ok(!again.ok);
  assert.equal(again.error.code, 'export_target_exists');
  assert.deepEqual(readdirSync(out), ['drive'], 'the first export is untouched and nothing partial is left');
});

test('`dmlreview export --json` prints the result; a bad folder exits non-zero with one line', async () => {
  const out = join(work, 'cli');
  mkdirSync(out);
  // The app context holds the library open in this process; the CLI opens the same WAL file alongside.
  const ok = await runCli([
    'export',
    '--session',
    String(sessionId),
    '--out',
    out,
    '--name',
    'cli',
    '--library',
    libraryPath,
    '--json',
  ]);
  assert.equal(ok.code, 0, ok.stderr);
  const printed = JSON.parse(ok.stdout.trim().split('\n').at(-1)!) as ExportResult;
  assert.equal(printed.path, join(out, 'cli'));
  assert.ok(existsSync(join(out, 'cli', 'report.html')));

  const bad = await runCli([
    'export',
    '--session',
    String(sessionId),
    '--out',
    join(out, 'missing'),
    '--library',
    libraryPath,
  ]);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr.trim(), /^dmlreview export: The export folder .*missing does not exist/);
  assert.equal(bad.stderr.trim().split('\n').length, 1);
});

test('`export --name` with a path in it is refused in one line and writes nothing outside --out', async () => {
  const out = join(work, 'confined', 'out');
  mkdirSync(out, { recursive: true });
  const refused = await runCli([
    'export',
    '--session',
    String(sessionId),
    '--out',
    out,
    '--name',
    'x/../../escaped',
    '--library',
    libraryPath,
  ]);
  assert.equal(refused.code, 1, refused.stderr);
  assert.match(
    refused.stderr,
    /^dmlreview export: The export folder name "x\/\.\.\/\.\.\/escaped" must be a plain folder name/,
  );
  assert.equal(refused.stderr.trim().split('\n').length, 1);
  assert.deepEqual(readdirSync(join(work, 'confined')), ['out']);
  assert.deepEqual(readdirSync(out), []);
});
