import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { AppError } from '../../src-main/core/errors.js';
import type { ProbedSource } from '../../src-main/footage/index.js';
import { migrations, openLibrary, type Library, type StoredFrame } from '../../src-main/library/index.js';
import { decodeRegions, encodeRegions } from '../../src-main/library/region-codec.js';
import type { UnknownRegion } from '../../src-shared/contract/index.js';
import { cliEntry, repoRoot } from '../helpers/cli.js';
import { queryLibrary, queryNumber, storeBackends, type StoreBackend } from '../helpers/store-backends.js';
import { writeSyntheticSession } from '../helpers/synthetic-library.js';

const lockedSessionNames = fileURLToPath(new URL('../helpers/locked-session-names.ts', import.meta.url));

const tempLibrary = () => join(mkdtempSync(join(tmpdir(), 'dml-lib-')), 'library.sqlite');

const source: ProbedSource = {
  path: '/drives/a.mp4',
  kind: 'video',
  durationMs: 10_000,
  fps: 30,
  width: 1920,
  height: 1080,
  rotation: 0,
  createdAt: null,
  sha256: 'ab'.repeat(32),
  frameCount: 300,
  startMs: 0,
  codec: 'h264',
  images: null,
};

const classes = [
  { index: 0, name: 'road', color: [128, 64, 128] as [number, number, number], taught: false },
  { index: 1, name: 'car', color: [64, 0, 128] as [number, number, number], taught: false },
];

function analysisPlan(sessionId: number) {
  return {
    sessionId,
    modelName: 'camvid',
    modelSha256: 'cd'.repeat(32),
    knowledgeVersion: null,
    sampleFps: 1,
    inputWidth: 4,
    inputHeight: 2,
    classes,
    threshold: 0.5,
    pixelThreshold: 0.3,
    framesTotal: 10,
  };
}

async function analysedLibraryAt(location: string, scores: number[]) {
  const store = await openLibrary(location);
  const { sessionId, analysisId } = await writeSyntheticSession(store, {
    name: 'drive',
    sources: [source, { ...source, path: '/drives/b.mp4' }],
    analysis: analysisPlan(0),
    frames: scores.length,
    frame: (index) => storedFrame(index, scores[index]!),
  });
  return { store, session: await store.sessions.get(sessionId), analysis: await store.analyses.plan(analysisId) };
}

/** Frame 2 holds two regions, the others none. */
const regionsOfFrame2: UnknownRegion[] = [
  {
    pixels: 3,
    x: 2,
    y: 0,
    width: 2,
    height: 2,
    meanScore: Math.fround(0.875),
    border: ['top', 'right'],
    drivable: 'away',
    inSky: false,
    place: 'sky-or-top',
    score: Math.fround(0.4375),
  },
  {
    pixels: 5,
    x: 0,
    y: 1,
    width: 3,
    height: 1,
    meanScore: Math.fround(0.9),
    border: ['bottom', 'left'],
    drivable: 'on',
    inSky: true,
    place: 'road',
    score: Math.fround(0.9),
  },
];

function storedFrame(index: number, score: number): StoredFrame {
  return {
    index,
    sourceIndex: index < 5 ? 0 : 1,
    timeMs: index * 1000,
    score,
    unknownFraction: score / 10,
    largestRegion: index === 2 ? { area: 0.1, x: 1, y: 0, width: 2, height: 1 } : null,
    classAreas: [0.75, index % 2 === 0 ? 0.25 : 0],
    regions: { mapWidth: 4, mapHeight: 2, regions: index === 2 ? regionsOfFrame2 : [] },
    classMapPng: Buffer.from([1, index]),
    oodMapPng: Buffer.from([2, index]),
    previewJpeg: Buffer.from([3, index]),
  };
}

async function expectAppError(fn: () => Promise<unknown>, code: string, mention: RegExp) {
  await assert.rejects(fn, (error: unknown) => {
    assert.ok(error instanceof AppError, `expected an AppError, got ${String(error)}`);
    assert.equal(error.code, code);
    assert.match(error.message, mention);
    return true;
  });
}

// ---- The library file: what only SQLite has (a file on a disk, its permissions, locks and old versions).

test('a new library file is migrated to the newest version, in WAL mode with foreign keys on', async () => {
  const path = tempLibrary();
  await (await openLibrary(path)).close();
  const db = new Database(path);
  try {
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    // foreign_keys is per connection: ours sets it, so a delete cascades (tested below for both databases).
    assert.deepEqual(
      (db.prepare('SELECT version FROM schema_migrations ORDER BY version').all() as { version: number }[]).map(
        (row) => row.version,
      ),
      migrations.map((migration) => migration.version),
    );
  } finally {
    db.close();
  }
});

test('migrations out of order are a programming error caught on open', async () => {
  const shuffled = [migrations[1]!, migrations[0]!];
  await assert.rejects(() => openLibrary(tempLibrary(), { migrations: shuffled }), /out of order/);
});

test('a file that is not a database is refused with the path named', async () => {
  const path = tempLibrary();
  writeFileSync(path, 'this is a shopping list, not a library\n'.repeat(200));
  await expectAppError(() => openLibrary(path), 'library_not_database', /is not a dmlreview library/);
});

test('a library locked by another process is refused after the busy timeout', async () => {
  const path = tempLibrary();
  await (await openLibrary(path)).close();
  const other = new Database(path);
  other.pragma('locking_mode = EXCLUSIVE');
  other.exec('BEGIN EXCLUSIVE');
  try {
    await expectAppError(
      () => openLibrary(path, { busyTimeoutMs: 100 }),
      'library_locked',
      /locked by another program/,
    );
  } finally {
    other.exec('ROLLBACK');
    other.close();
  }
});

test(
  'a read-only library is browsed by the CLI; analysing into it is refused in one line that says it needs write access',
  { skip: process.getuid?.() !== 0 && 'needs root to run the CLI as another user' },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dml-ro-'));
    chmodSync(dir, 0o755);
    const path = join(dir, 'library.sqlite');
    const store = await openLibrary(path);
    await store.sessions.create('drive', [source], null);
    await store.close();
    chmodSync(path, 0o644);
    // root ignores permission bits: the CLI runs as nobody, for whom the root-owned file and folder are read-only.
    const asNobody = (...args: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', cliEntry, ...args, '--library', path], {
        cwd: repoRoot,
        uid: 65534,
        gid: 65534,
        encoding: 'utf8',
        env: { ...process.env, HOME: dir },
      });
    const listed = asNobody('sessions', '--json');
    assert.equal(listed.status, 0, listed.stderr);
    assert.deepEqual(
      (JSON.parse(listed.stdout) as { name: string }[]).map((session) => session.name),
      ['drive'],
    );
    const refused = asNobody('analyze', '/drives/a.mp4', '--json');
    assert.equal(refused.status, 1, refused.stderr);
    assert.match(
      refused.stderr,
      /^dmlreview analyze: The library .*library\.sqlite is open read-only .*analysis, flags and teaching need write access/,
    );
    assert.equal(refused.stderr.trim().split('\n').length, 1);
  },
);

/** A tmpfs mount (root only), remounted read-only after `fill` wrote into it; a string says why it cannot be. */
async function readOnlyMount(
  fill: (dir: string) => Promise<void>,
): Promise<{ dir: string; unmount: () => void } | string> {
  if (process.getuid?.() !== 0) return 'needs root to mount a tmpfs';
  const dir = mkdtempSync(join(tmpdir(), 'dml-rofs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', dir], { stdio: 'pipe' });
  } catch (error) {
    return `mount failed here: ${String(error).split('\n')[0]}`;
  }
  const unmount = () => execFileSync('umount', [dir]);
  try {
    await fill(dir);
    execFileSync('mount', ['-o', 'remount,ro', dir], { stdio: 'pipe' });
  } catch (error) {
    unmount();
    throw error;
  }
  return { dir, unmount };
}

test('a library on a read-only disk opens read-only: every view answers, every write is refused as library_read_only', async (t) => {
  const mount = await readOnlyMount(async (dir) => {
    const { store } = await analysedLibraryAt(join(dir, 'library.sqlite'), [0.1, 0.9, 0.2]);
    await store.close();
  });
  if (typeof mount === 'string') return t.skip(mount);
  try {
    const store = await openLibrary(join(mount.dir, 'library.sqlite'));
    assert.equal(store.readonly, true);
    const [session] = await store.sessions.list();
    assert.equal(session?.name, 'drive');
    const analysisId = session.latestAnalysis!.id;
    assert.deepEqual((await store.frames.timeline(analysisId)).scores, Float64Array.of(0.1, 0.9, 0.2));
    assert.ok(await store.frames.map(analysisId, 1, 'preview'));
    await expectAppError(
      async () => store.requireWritable(),
      'library_read_only',
      /analysis, flags and teaching need write access/,
    );
    await assert.rejects(
      () => store.flags.add({ analysisId, frameIndex: 1, category: 'hazard', note: '' }),
      /readonly/,
    );
    await store.close();
  } finally {
    mount.unmount();
  }
});

test('a library file from before regions opens: its analyses say they have no regions, their events no persistence', async () => {
  const path = tempLibrary();
  const before4 = { migrations: migrations.filter((migration) => migration.version < 4) };
  const old = await openLibrary(path, before4);
  const session = await old.sessions.create('drive', [source], null);
  await old.close();
  const db = new Database(path);
  db.exec(`INSERT INTO analyses (session_id, model_name, model_sha256, input_width, input_height, classes,
    threshold, status, created_at) VALUES (${session.id}, 'camvid', 'ab', 4, 2, '[]', 0.7, 'done', 'then')`);
  db.exec(`INSERT INTO frames (analysis_id, idx, source_index, time_ms, score, unknown_fraction, class_areas)
    VALUES (1, 0, 0, 0, 0.8, 0.1, x'')`);
  db.exec('INSERT INTO event_settings VALUES (1, 0.7, 0.05, 1000)');
  db.close();
  const store = await openLibrary(path);
  assert.equal((await store.analyses.get(1)).frameScore, 'pixel-p90');
  assert.deepEqual(await store.frames.regions(1, 0), {
    analysisId: 1,
    frameIndex: 0,
    hasRegions: false,
    mapWidth: 0,
    mapHeight: 0,
    regions: [],
  });
  assert.deepEqual(await store.analyses.eventSettings(1), {
    threshold: 0.7,
    hysteresis: 0.05,
    minGapMs: 1000,
    minFrames: 1,
    minDurationMs: 0,
  });
  await store.close();
});

test('a damaged regions blob is an error naming the frame and what was found', () => {
  const blob = encodeRegions({ mapWidth: 4, mapHeight: 2, regions: regionsOfFrame2 });
  assert.deepEqual(decodeRegions(blob, 'x').regions, regionsOfFrame2);
  assert.throws(
    () => decodeRegions(blob.subarray(0, 20), 'frame 2 of analysis 1'),
    /unknown regions of frame 2 of analysis 1 are damaged \(20 bytes, format 1; expected format 1, 6 \+ 22 per region\)/,
  );
});

// ---- The store: the same tests on an SQLite file and on a PostgreSQL database.

for (const backend of storeBackends) storeTests(backend);

function storeTests(backend: StoreBackend): void {
  const it = (name: string, fn: () => Promise<void>) => test(`${backend.name}: ${name}`, { skip: backend.skip }, fn);
  const analysedLibrary = async (scores: number[]) => analysedLibraryAt(await backend.newLocation(), scores);

  it('a new library is migrated to the newest version, each migration recorded once', async () => {
    const location = await backend.newLocation();
    await (await openLibrary(location)).close();
    await (await openLibrary(location)).close();
    const recorded = await queryLibrary<{ version: number }>(
      location,
      'SELECT version FROM schema_migrations ORDER BY version',
    );
    assert.deepEqual(
      recorded.map((row) => Number(row.version)),
      migrations.map((migration) => migration.version),
    );
  });

  it('reopening applies only the migrations not yet recorded', async () => {
    const location = await backend.newLocation();
    await (await openLibrary(location, { migrations: migrations.slice(0, 1) })).close();
    assert.equal(await queryNumber(location, 'SELECT max(version) FROM schema_migrations'), 1);
    await (await openLibrary(location)).close();
    assert.equal(await queryNumber(location, 'SELECT max(version) FROM schema_migrations'), migrations.at(-1)!.version);
  });

  it('a library written by a newer version is refused, untouched', async () => {
    const location = await backend.newLocation();
    await (await openLibrary(location)).close();
    await queryLibrary(location, "INSERT INTO schema_migrations VALUES (99, 'from the future', 'now')");
    await expectAppError(() => openLibrary(location), 'library_too_new', /newer dmlreview \(schema version 99/);
    assert.equal(await queryNumber(location, 'SELECT count(*) FROM schema_migrations WHERE version = 99'), 1);
  });

  it('a session says whether it has a thumbnail, so the library shows a placeholder instead of a broken image', async () => {
    const store = await openLibrary(await backend.newLocation());
    const without = await store.sessions.create('no preview', [source], null);
    const thumbnail = Buffer.from([0xff, 0xd8, 0xff, 0xd9]);
    const withThumbnail = await store.sessions.create('preview', [source], thumbnail);
    assert.equal(without.hasThumbnail, false);
    assert.equal(withThumbnail.hasThumbnail, true);
    assert.equal(await store.sessions.thumbnail(without.id), undefined);
    assert.deepEqual(await store.sessions.thumbnail(withThumbnail.id), thumbnail);
    await store.close();
  });

  it('sessions keep their sources in timeline order with offsets', async () => {
    const { store, session } = await analysedLibrary([0.1]);
    assert.deepEqual(
      session.sources.map((entry) => [entry.path, entry.offsetMs]),
      [
        ['/drives/a.mp4', 0],
        ['/drives/b.mp4', 10_000],
      ],
    );
    assert.equal(session.durationMs, 20_000);
    assert.equal((await store.sessions.list()).length, 1);
    await store.close();
  });

  it('frames come back as stored: timeline, one frame, maps', async () => {
    const { store, analysis } = await analysedLibrary([0.1, 0.2, 0.9, 0.3]);
    assert.deepEqual(await store.frames.timeline(analysis.id), {
      analysisId: analysis.id,
      timesMs: Float64Array.of(0, 1000, 2000, 3000),
      scores: Float64Array.of(0.1, 0.2, 0.9, 0.3),
    });
    const frame = await store.frames.get(analysis.id, 2);
    assert.deepEqual(frame, {
      index: 2,
      timeMs: 2000,
      score: 0.9,
      unknownFraction: 0.09,
      largestRegion: { area: 0.1, x: 1, y: 0, width: 2, height: 1 },
      classAreas: [0.75, 0.25],
      flagged: false,
    });
    assert.deepEqual(await store.frames.map(analysis.id, 3, 'ood_map'), Buffer.from([2, 3]));
    assert.equal((await store.analyses.get(analysis.id)).framesDone, 4);
    assert.deepEqual(await store.frames.resumePoint(analysis.id), {
      framesStored: 4,
      framesPerSource: new Map([[0, 4]]),
      lastTimeMsPerSource: new Map([[0, 3000]]),
    });
    await store.close();
  });

  it('batches of one shape, written with one compiled insert, each store their own values; other sizes too', async () => {
    const { store, analysis } = await analysedLibrary([]);
    // 16, 16, 3, 16, 1 frames: the second and fourth batches reuse the first one's statement.
    const sizes = [16, 16, 3, 16, 1];
    let next = 0;
    for (const size of sizes) {
      await store.frames.write(
        analysis.id,
        Array.from({ length: size }, (_, i) => storedFrame(next + i, (next + i) / 100)),
      );
      next += size;
    }
    for (let index = 0; index < next; index++) {
      const frame = await store.frames.get(analysis.id, index);
      assert.equal(frame.score, index / 100, `score of frame ${index}`);
      assert.equal(frame.timeMs, index * 1000);
      assert.deepEqual(frame.classAreas, [0.75, index % 2 === 0 ? 0.25 : 0]);
      assert.equal(frame.largestRegion === null, index !== 2);
      assert.deepEqual(await store.frames.map(analysis.id, index, 'preview'), Buffer.from([3, index]));
      assert.equal((await store.frames.regions(analysis.id, index)).regions.length, index === 2 ? 2 : 0);
    }
    assert.equal((await store.analyses.get(analysis.id)).framesDone, next);
    await store.close();
  });

  it('the timeline is packed across chunk boundaries in index order', async () => {
    const { store, analysis } = await analysedLibrary([]);
    const scores = Array.from({ length: 2500 }, (_, i) => (i % 97) / 97);
    for (let first = 0; first < scores.length; first += 700) {
      await store.frames.write(
        analysis.id,
        scores.slice(first, first + 700).map((score, i) => storedFrame(first + i, score)),
      );
    }
    const timeline = await store.frames.timeline(analysis.id);
    assert.deepEqual(timeline.scores, Float64Array.from(scores));
    assert.deepEqual(
      timeline.timesMs,
      Float64Array.from(scores, (_, i) => i * 1000),
    );
    await store.close();
  });

  it('writing a frame index twice fails the whole batch and keeps what was stored', async () => {
    const { store, analysis } = await analysedLibrary([0.1, 0.2]);
    await assert.rejects(
      () => store.frames.write(analysis.id, [storedFrame(2, 0.5), storedFrame(1, 0.5)]),
      /UNIQUE|PRIMARY KEY|duplicate key/,
    );
    assert.deepEqual((await store.frames.timeline(analysis.id)).scores, Float64Array.of(0.1, 0.2));
    assert.equal((await store.analyses.get(analysis.id)).framesDone, 2);
    await store.close();
  });

  it('a transaction stores all of its writes or none; a nested one that fails rolls back alone', async () => {
    const { store, session } = await analysedLibrary([0.1]);
    await assert.rejects(
      () =>
        store.transaction(async () => {
          await store.sessions.create('kept only with the rest', [source], null);
          throw new Error('stop');
        }),
      /stop/,
    );
    assert.deepEqual(
      (await store.sessions.list()).map((entry) => entry.id),
      [session.id],
    );
    const created = await store.transaction(async () => {
      const outer = await store.sessions.create('outer', [source], null);
      await store
        .transaction(async () => {
          await store.sessions.create('inner', [source], null);
          throw new Error('inner fails');
        })
        .catch(() => undefined);
      return outer;
    });
    assert.deepEqual(
      (await store.sessions.list()).map((entry) => entry.name),
      ['outer', 'drive'],
    );
    assert.equal(created.name, 'outer');
    await store.close();
  });

  it('write transactions of two processes run one after the other: the second reads what the first wrote', async () => {
    const location = await backend.newLocation();
    const first = await openLibrary(location);
    let secondLines: AsyncIterator<string> | undefined;
    await first.writeTransaction(async () => {
      const second = spawn(process.execPath, ['--import', 'tsx', lockedSessionNames, location], { cwd: repoRoot });
      secondLines = createInterface({ input: second.stdout })[Symbol.asyncIterator]();
      assert.equal((await secondLines.next()).value, 'asking');
      // The second now waits for the lock (SQLite's busy wait, PostgreSQL's advisory lock) while this one writes.
      await new Promise((resolve) => setTimeout(resolve, 300));
      await first.sessions.create('from the first', [source], null);
    });
    assert.deepEqual(JSON.parse((await secondLines!.next()).value as string), ['from the first']);
    await first.close();
  });

  it('top frames rank by score and filter by score, class and flag', async () => {
    const { store, analysis } = await analysedLibrary([0.1, 0.8, 0.5, 0.9, 0.3]);
    const top = await store.frames.top({ analysisId: analysis.id, offset: 0, limit: 2 });
    assert.equal(top.total, 5);
    assert.deepEqual(
      top.frames.map((frame) => frame.index),
      [3, 1],
    );
    const indices = async (query: Partial<Parameters<Library['frames']['top']>[0]>) =>
      (await store.frames.top({ analysisId: analysis.id, offset: 0, limit: 10, ...query })).frames.map(
        (frame) => frame.index,
      );
    assert.deepEqual(await indices({ offset: 1, minScore: 0.5 }), [1, 2]);
    assert.deepEqual(await indices({ classIndex: 1 }), [2, 4, 0]);
    assert.deepEqual(await indices({ classIndex: 0 }), [3, 1, 2, 4, 0]);
    assert.deepEqual(await indices({ classIndex: 7 }), [], 'a class beyond the stored areas is in no frame');
    await store.flags.add({ analysisId: analysis.id, frameIndex: 4, category: 'hazard', note: '' });
    const flagged = await store.frames.top({ analysisId: analysis.id, offset: 0, limit: 10, flaggedOnly: true });
    assert.deepEqual([flagged.total, flagged.frames[0]?.index, flagged.frames[0]?.flagged], [1, 4, true]);
    await store.close();
  });

  it('events are recomputed with new settings, stored, ranked by peak, and flags follow them', async () => {
    const { store, analysis } = await analysedLibrary([0.1, 0.7, 0.6, 0.1, 0.95, 0.1, 0.8, 0.1, 0.1, 0.1]);
    const noPersistence = { minFrames: 1, minDurationMs: 0 };
    const first = await store.events.recompute(analysis.id, {
      ...(await store.analyses.eventSettings(analysis.id)),
      ...noPersistence,
    });
    assert.deepEqual(
      first.map((event) => [event.peakFrame, event.peakScore]),
      [
        [4, 0.95],
        [6, 0.8],
        [1, 0.7],
      ],
    );
    const flag = await store.flags.add({
      analysisId: analysis.id,
      eventId: first[2]!.id,
      category: 'hazard',
      note: 'cyclist',
    });
    assert.deepEqual([flag.frameIndex, flag.eventId], [1, first[2]!.id]);
    // A preview counts without storing: the stored events stay the first three.
    assert.equal(
      await store.events.count(analysis.id, { threshold: 0.65, hysteresis: 0, minGapMs: 3001, ...noPersistence }),
      1,
    );
    assert.equal(
      await store.events.count(analysis.id, { threshold: 0.9, hysteresis: 0, minGapMs: 0, ...noPersistence }),
      1,
    );
    assert.equal((await store.events.list(analysis.id)).length, 3);
    assert.equal((await store.events.list(analysis.id, 2)).length, 2);
    const mergedSettings = { threshold: 0.65, hysteresis: 0, minGapMs: 3001, ...noPersistence };
    const merged = await store.events.recompute(analysis.id, mergedSettings);
    assert.deepEqual(
      merged.map((event) => [event.startMs, event.endMs, event.peakFrame]),
      [[1000, 6000, 4]],
    );
    assert.deepEqual(await store.analyses.eventSettings(analysis.id), mergedSettings);
    assert.deepEqual(await store.events.list(analysis.id), merged);
    assert.equal((await store.flags.get(flag.id)).eventId, merged[0]!.id);
    await store.close();
  });

  it('a new analysis scores frames by regions, with persistent events by default', async () => {
    const { store, analysis } = await analysedLibrary([0.1, 0.7, 0.1, 0.8, 0.8, 0.1]);
    assert.equal((await store.analyses.get(analysis.id)).frameScore, 'regions');
    assert.deepEqual(await store.analyses.eventSettings(analysis.id), {
      threshold: 0.5,
      hysteresis: 0.05, // a quarter of the way down to the pixel threshold 0.3
      minGapMs: 1000,
      minFrames: 2,
      minDurationMs: 500,
    });
    const events = await store.events.finish(analysis.id);
    assert.deepEqual(
      events.map((event) => [event.startMs, event.endMs]),
      [[3000, 4000]],
      'frame 1 blinks alone; the calibrated threshold is not lowered to the drive',
    );
    await store.close();
  });

  it('regions come back as stored, largest first, with the size of their maps', async () => {
    const { store, analysis } = await analysedLibrary([0.1, 0.2, 0.9]);
    assert.deepEqual(await store.frames.regions(analysis.id, 2), {
      analysisId: analysis.id,
      frameIndex: 2,
      hasRegions: true,
      mapWidth: 4,
      mapHeight: 2,
      regions: [regionsOfFrame2[1], regionsOfFrame2[0]],
    });
    assert.deepEqual((await store.frames.regions(analysis.id, 1)).regions, []);
    await expectAppError(() => store.frames.regions(analysis.id, 3), 'not_found', /Frame 3 of analysis/);
    assert.equal(await queryNumber(store.path, 'SELECT length(regions) FROM frame_regions WHERE idx = 2'), 6 + 2 * 22);
    await store.close();
  });

  it('flags are updated and removed; unknown ids are not_found', async () => {
    const { store, session, analysis } = await analysedLibrary([0.1, 0.2]);
    const flag = await store.flags.add({ analysisId: analysis.id, frameIndex: 1, category: 'hazard', note: 'a' });
    assert.deepEqual((await store.flags.update(flag.id, { note: 'b' })).note, 'b');
    assert.deepEqual(
      (await store.flags.list(session.id)).map((entry) => entry.timeMs),
      [1000],
    );
    await store.flags.remove(flag.id);
    await expectAppError(() => store.flags.remove(flag.id), 'not_found', /Flag/);
    await expectAppError(
      () => store.flags.add({ analysisId: analysis.id, frameIndex: 7, category: 'hazard', note: '' }),
      'not_found',
      /Frame 7/,
    );
    await store.close();
  });

  it('a new analysis takes over the flags of the one it follows, by time, once', async () => {
    const { store, session, analysis } = await analysedLibrary([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.1]);
    await store.analyses.update(analysis.id, { status: 'done' });
    await store.flags.add({ analysisId: analysis.id, frameIndex: 2, category: 'hazard', note: 'cyclist' });
    await store.flags.add({ analysisId: analysis.id, frameIndex: 9, category: 'other', note: 'late' });
    // The next analysis samples at 2 fps and stops at 6 s: frame 2 (2 s) is its frame 4; 9 s is beyond its end.
    const next = await store.analyses.create({ ...analysisPlan(session.id), sampleFps: 2, framesTotal: 13 });
    await store.frames.write(
      next.id,
      Array.from({ length: 13 }, (_, index) => ({ ...storedFrame(index, 0.5), timeMs: index * 500 })),
    );
    assert.equal(await store.flags.carry(next.id), 1);
    assert.equal(await store.flags.carry(next.id), 0, 'a second run adds nothing');
    const carried = (await store.flags.list(session.id)).filter((flag) => flag.analysisId === next.id);
    assert.deepEqual(
      carried.map((flag) => [flag.frameIndex, flag.timeMs, flag.category, flag.note]),
      [[4, 2000, 'hazard', 'cyclist']],
    );
    await store.close();
  });

  it('deleting a session removes its analyses, frames and maps', async () => {
    const { store, session, analysis } = await analysedLibrary([0.1, 0.2]);
    await store.sessions.delete(session.id);
    assert.equal(await queryNumber(store.path, 'SELECT count(*) FROM frames'), 0);
    assert.equal(await queryNumber(store.path, 'SELECT count(*) FROM frame_maps'), 0);
    await expectAppError(() => store.analyses.get(analysis.id), 'not_found', /Analysis/);
    await expectAppError(() => store.sessions.delete(session.id), 'not_found', /Session/);
    await store.close();
  });
}

const postgres = storeBackends.find((backend) => backend.name === 'PostgreSQL')!;

test(
  'PostgreSQL: a server that does not answer or a database that does not exist is refused, naming the URL without its password',
  { skip: postgres.skip },
  async () => {
    await expectAppError(
      () => openLibrary('postgresql://dml:secret@127.0.0.1:1/library', { busyTimeoutMs: 2000 }),
      'library_cannot_open',
      /^Cannot open the library postgresql:\/\/dml:\*\*\*@127\.0\.0\.1:1\/library: the PostgreSQL server does not answer \(ECONNREFUSED\)/,
    );
    const missing = (await postgres.newLocation()).replace(/\/[^/]+$/, '/no_such_library');
    await expectAppError(
      () => openLibrary(missing),
      'library_cannot_open',
      /no_such_library: the database does not exist/,
    );
  },
);
