import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { before, test } from 'node:test';
import { decodeClassMapPng, UNKNOWN_CLASS } from '../../src-main/engine/index.js';
import { openLibrary } from '../../src-main/library/index.js';
import { SimilarSearch, similarityOf } from '../../src-main/similar/index.js';
import { runCli } from '../helpers/cli.js';
import { clip, tempDir } from '../helpers/clips.js';

const dir = tempDir('dml-similar-');
const library = join(dir, 'library.sqlite');

interface Row {
  session: number;
  analysis: number;
  frame: number;
  time_ms: number;
  box: { x: number; y: number; width: number; height: number };
  distance: number;
  similarity: number;
}

/** A frame of the analysis with a described unknown region, and a source pixel on that region. */
async function queryPoint() {
  const store = await openLibrary(library);
  try {
    const session = await store.sessions.get(1);
    for (let frame = 0; frame < 30; frame++) {
      const described = await store.descriptors.frame(1, frame);
      const region = described?.regions.find((candidate) => candidate.classIndex === UNKNOWN_CLASS);
      if (!region) continue;
      const { width, height, classMap } = decodeClassMapPng((await store.frames.map(1, frame, 'class_map'))!);
      // A pixel of the region's row band that is unknown; the search resolves which region it belongs to.
      for (let y = region.y; y < region.y + region.height; y++)
        for (let x = region.x; x < region.x + region.width; x++) {
          if (classMap[y * width + x] !== UNKNOWN_CLASS) continue;
          const source = { x: Math.ceil((x * session.width) / width), y: Math.ceil((y * session.height) / height) };
          const known = classMap.findIndex((cls) => cls !== UNKNOWN_CLASS);
          const onRoad = {
            x: Math.ceil(((known % width) * session.width) / width),
            y: Math.ceil((Math.floor(known / width) * session.height) / height),
          };
          return { frame, ...source, onRoad };
        }
    }
    throw new Error('no frame of the clip has an unknown region above the size floor');
  } finally {
    await store.close();
  }
}

before(async () => {
  // 30 s of the val drive at 1 fps: 30 frames analysed by camvid-open (pedestrians and bicyclists unknown).
  const drive = clip(dir, 'drive.mp4', 30, ['-c:v', 'libx264', '-preset', 'ultrafast']);
  const analysed = await runCli(['analyze', drive, '--library', library, '--model', 'camvid-open', '--fps', '1']);
  assert.equal(analysed.code, 0, analysed.stderr);
});

test('similar: the unknown region under a point, ranked by distance across the library, the query frame left out', async () => {
  const { frame, x, y } = await queryPoint();
  const args = ['similar', '--library', library, '--analysis', '1', '--frame', String(frame)];
  const run = await runCli([...args, '--x', String(x), '--y', String(y), '--limit', '8', '--json']);
  assert.equal(run.code, 0, run.stderr);
  const rows = JSON.parse(run.stdout) as Row[];
  assert.equal(rows.length, 8);
  for (const row of rows) {
    assert.deepEqual(Object.keys(row), ['session', 'analysis', 'frame', 'time_ms', 'box', 'distance', 'similarity']);
    assert.deepEqual(Object.keys(row.box), ['x', 'y', 'width', 'height']);
    assert.notEqual(row.frame, frame);
    assert.ok(row.box.x >= 0 && row.box.x + row.box.width <= 480 && row.box.y + row.box.height <= 360);
  }
  const distances = rows.map((row) => row.distance);
  assert.deepEqual(
    distances,
    [...distances].sort((a, b) => a - b),
  );
  // The same search through the library API: the CLI prints what it finds.
  const store = await openLibrary(library);
  const answer = await new SimilarSearch(store).find({
    analysisId: 1,
    frameIndex: frame,
    query: { kind: 'point', x, y },
    among: 'unknown',
    limit: 8,
  });
  await store.close();
  assert.deepEqual(
    rows.map((row) => [row.frame, row.distance, row.similarity]),
    answer.results.map((result) => [
      result.frameIndex,
      result.distance,
      similarityOf(result.distance, answer.similarityScale),
    ]),
  );
  assert.ok(answer.similarityScale > 0);
});

test('similar: a point on no unknown region, and ids that name nothing, are errors that say so', async () => {
  const { frame, onRoad } = await queryPoint();
  const base = ['similar', '--library', library, '--analysis', '1', '--frame', String(frame)];
  const known = await runCli([...base, '--x', String(onRoad.x), '--y', String(onRoad.y), '--json']);
  assert.equal(known.code, 1);
  assert.match(known.stderr, new RegExp(`is on no unknown region`));
  const analysis = await runCli([
    'similar',
    '--library',
    library,
    '--analysis',
    '9',
    '--frame',
    '0',
    '--x',
    '1',
    '--y',
    '1',
  ]);
  assert.match(analysis.stderr, /Analysis 9 was not found/);
  const frameMissing = await runCli([...base.slice(0, 5), '--frame', '999', '--x', '1', '--y', '1']);
  assert.match(frameMissing.stderr, /Frame 999 of analysis 1 was not found/);
  const usage = await runCli(['similar', '--library', library, '--analysis', '1', '--x', '1', '--y', '1']);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /--frame is required/);
});

test('similar on an analysis without descriptors names the command that re-analyses it; that command makes it searchable', async () => {
  const { frame, x, y } = await queryPoint();
  // As an analysis made before descriptors were stored (schema 5) looks: frames and regions, no descriptors.
  const old = join(dir, 'old.sqlite');
  copyFileSync(library, old);
  const db = new Database(old);
  db.prepare('DELETE FROM frame_descriptors').run();
  db.close();
  const point = ['--frame', String(frame), '--x', String(x), '--y', String(y), '--json'];
  const refused = await runCli(['similar', '--library', old, '--analysis', '1', ...point]);
  assert.equal(refused.code, 1);
  const command = /\((dmlreview analyze .* --new);/.exec(refused.stderr)?.[1];
  assert.ok(command, refused.stderr);
  assert.match(refused.stderr, /Analysis 1 of session 1 .* was made before region descriptors were stored/);
  const args = (command.match(/"[^"]*"|\S+/g) ?? []).slice(1).map((arg) => arg.replace(/^"(.*)"$/, '$1'));
  const reanalysed = await runCli([...args, '--library', old, '--json']);
  assert.equal(reanalysed.code, 0, reanalysed.stderr);
  assert.equal((JSON.parse(reanalysed.stdout.trim().split('\n').at(-1)!) as { analysis: number }).analysis, 2);
  const found = await runCli(['similar', '--library', old, '--analysis', '2', ...point]);
  assert.equal(found.code, 0, found.stderr);
  assert.ok((JSON.parse(found.stdout) as Row[]).length > 0);
  // The old analysis is named among those skipped, on stderr.
  assert.match(found.stderr, /skipped: Analysis 1 of session 1 .* re-analyse/);
});
